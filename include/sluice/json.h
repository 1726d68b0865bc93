/* JSON both ways. Reading: JSON to MessagePack, straight into a packer,
 * with no tree in between; RFC 8259: accepts every y_ case and rejects
 * every n_ case of JSONTestSuite; nesting is bounded; integers stay exact
 * up to int64/uint64; invalid UTF-8 and lone surrogates become U+FFFD.
 * Writing: the building blocks outputs with formats of their own use. */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <msgpack.h>
#include "buf.h"
#include "common.h"

/* At most this many nested arrays and objects: what msgpack-c can read back
 * (32 levels) with room for the event around it and a filter's key. */
#define SLUICE_JSON_MAX_DEPTH 30

/* Pack the one JSON value in [s, s+n) (surrounding white space allowed).
 * Returns 0, or -1 with nothing packed and `err` saying what and where. */
SLUICE_API int sluice_json_to_msgpack(const char *s, size_t n, msgpack_packer *pk, char *err,
                                      size_t errlen);

/* ABI 2.3. The same, with what is wrong in `err` and the offset in `s`
 * where it is in *at, for errors by line and column. */
SLUICE_API int sluice_json_to_msgpack_at(const char *s, size_t n, msgpack_packer *pk, char *err,
                                         size_t errlen, size_t *at);

/* The members of a JSON object, packed, without the map header. */
typedef struct sluice_json_members {
    uint32_t count;
    const char *data; /* inside the scratch buffer */
    size_t len;
} sluice_json_members;

/* For inputs' `parser: json`: parse [s, s+n) as a JSON object into
 * `scratch` (cleared first). Returns 0 with its members, which the caller
 * packs after a map header counting its own fields too (leaving out the
 * members those fields replace: sluice_json_object_without); -1 with `err`
 * if it is not a JSON object. */
SLUICE_API int sluice_json_object(const char *s, size_t n, msgpack_sbuffer *scratch,
                                  sluice_json_members *out, char *err, size_t errlen);
/* sluice_json_object leaving out the members named in `drop` (`n_drop`
 * strings, at most SLUICE_JSON_MAX_DROP, NULL entries matching nothing):
 * the fields the caller adds, so that they replace members of their names.
 * Costs a length comparison per member. (ABI 2.7) */
#define SLUICE_JSON_MAX_DROP 16
SLUICE_API int sluice_json_object_without(const char *s, size_t n, const char *const *drop,
                                          size_t n_drop, msgpack_sbuffer *scratch,
                                          sluice_json_members *out, char *err, size_t errlen);

/* Append `s` as a JSON string (quoted, escaped; invalid UTF-8 as U+FFFD). */
SLUICE_API void sluice_json_string(sluice_buf *out, const char *s, size_t n);
/* Append any MessagePack value as JSON. */
SLUICE_API void sluice_json_value(sluice_buf *out, const msgpack_object *o);
/* A value as text, for names, tags and hashes made of fields: a string as
 * it is, anything else as its JSON text, rendered into `scratch` (reset
 * first). Returns the text (borrowed) and its length in *len. */
SLUICE_API const char *sluice_json_text(const msgpack_object *v, sluice_buf *scratch,
                                        size_t *len);

#endif

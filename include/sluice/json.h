/* JSON to MessagePack, straight into a packer, with no tree in between.
 * RFC 8259: accepts every y_ case and rejects every n_ case of
 * JSONTestSuite; nesting is bounded; integers stay exact up to int64/uint64;
 * invalid UTF-8 and lone surrogates become U+FFFD. */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <msgpack.h>
#include "common.h"

#define SLUICE_JSON_MAX_DEPTH 64

/* Pack the one JSON value in [s, s+n) (surrounding white space allowed).
 * Returns 0, or -1 with nothing packed and `err` saying what and where. */
SLUICE_API int sluice_json_to_msgpack(const char *s, size_t n, msgpack_packer *pk, char *err,
                                      size_t errlen);

#endif

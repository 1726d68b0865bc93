/* What the files of the OTLP decoder share: the arena that decoded
 * messages live in, the two decoders (binary protobuf and OTLP/JSON) that
 * fill protobuf-c's structs, and the packing of OTLP values as
 * MessagePack. Not part of the plugin's interface (that is otlp.h). */
#ifndef SLUICE_OTLP_INTERNAL_H
#define SLUICE_OTLP_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include <sluice/buf.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "otlp.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;

/* ==== Arena ==== */

/* A bump allocator: everything of one request is freed at once. `pc`
 * hands it to protobuf-c (its free does nothing). */
typedef struct otlp_arena {
    struct otlp_block *blocks;
    size_t used, cap;
    ProtobufCAllocator pc;
} otlp_arena;

void otlp_arena_init(otlp_arena *a);
/* `n` bytes aligned for any type; never NULL (aborts when memory is out). */
void *otlp_arena_alloc(otlp_arena *a, size_t n);
void otlp_arena_destroy(otlp_arena *a);

/* ==== Decoding ==== */

/* The deepest nesting of messages a request may have (an AnyValue map in
 * a map costs three levels); deeper is refused before protobuf-c, whose
 * recursion has no bound of its own, sees it. */
#define OTLP_MAX_MESSAGE_DEPTH 100

/* Decode `body` as a message of type `d`, in the arena. Returns 0 with
 * *msg set, or -1 with `err` saying what and where. */
int otlp_decode(const ProtobufCMessageDescriptor *d, const char *body, size_t len,
                otlp_encoding enc, otlp_arena *a, ProtobufCMessage **msg, char *err, size_t errlen);
/* Check that [p, p+n) is well-formed protobuf for `d`, no deeper than
 * OTLP_MAX_MESSAGE_DEPTH. Returns 0, or -1 with `err` naming the byte. */
int otlp_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char *err,
                    size_t errlen);
/* OTLP/JSON into a message of type `d`, walking protobuf-c's descriptors. */
int otlp_json_decode(const ProtobufCMessageDescriptor *d, const char *s, size_t n, otlp_arena *a,
                     ProtobufCMessage **msg, char *err, size_t errlen);

/* ==== Values ==== */

/* The deepest nesting of arrays and maps in an attribute or body value
 * that becomes an event (MessagePack readers stop at 32 levels in all). */
#define OTLP_MAX_VALUE_DEPTH 16

/* 1 if `v` (NULL allowed) nests no deeper than OTLP_MAX_VALUE_DEPTH. */
int otlp_any_fits(const otlp_any *v);
int otlp_kvs_fit(otlp_kv *const *kv, size_t n);
/* Pack a value: string, bool, int, double, array, map (kvlist), bytes
 * (base64 text), or nil when unset. Check otlp_any_fits first. */
void otlp_pack_any(msgpack_packer *pk, const otlp_any *v);
/* Pack attributes as one map. */
void otlp_pack_kvs(msgpack_packer *pk, otlp_kv *const *kv, size_t n);
/* A value as tag text into `out` (reset first): a string as is, a bool
 * as true/false, numbers in decimal, bytes as base64, arrays and maps as
 * JSON. */
void otlp_any_text(const otlp_any *v, sluice_buf *out);

/* Lowercase hex of an id; 0 (nothing written) when it is empty or all
 * zeros. `out` holds 2 * len + 1. */
size_t otlp_hex_id(const uint8_t *id, size_t len, char *out);
void otlp_base64(sluice_buf *out, const uint8_t *p, size_t n);
/* Standard or URL-safe alphabet, padding optional. Returns the decoded
 * length (into `out`, which holds n * 3 / 4 + 3), or -1. */
long otlp_base64_decode(const char *s, size_t n, uint8_t *out);

/* A uint64 nanosecond count as an event time (values past 2262 are
 * capped, not wrapped). */
static inline sluice_time_t
otlp_time(uint64_t ns)
{
    return ns > (uint64_t)INT64_MAX ? INT64_MAX : (sluice_time_t)ns;
}

/* ==== Delta state (otlp_delta.c) ==== */

/* Add a delta sum to series `key`'s running total, returned in *total.
 * Returns 0, or -1 when the series is new and the table is full. */
int otlp_delta_sum(otlp_delta *d, const char *key, size_t klen, double delta, double *total);
/* The same for a histogram: *count, *sum and buckets[0..n_bounds] (not
 * cumulative) go in as the delta and come out as the running totals. A
 * series whose bounds change starts again from this delta. */
int otlp_delta_histogram(otlp_delta *d, const char *key, size_t klen, size_t n_bounds,
                         const double *bounds, uint64_t *count, double *sum, uint64_t *buckets);

/* Count a rejected item; the first message is kept. */
void otlp_reject(otlp_result *res, uint64_t n, const char *fmt, ...) SLUICE_PRINTF(3, 4);

#endif

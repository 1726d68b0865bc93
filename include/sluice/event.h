/* Events: how plugins write and read them.
 *
 * An event is the MessagePack array [time, body]. `time` is the Fluentd
 * EventTime extension (type 0: big-endian uint32 seconds, uint32
 * nanoseconds); `body` is a map. Events of one kind are stored back to back
 * in a chunk, with no per-event allocation.
 *
 *   log     any map; the raw line lives in "message"
 *   metric  {"name": str, "kind": "counter"|"gauge"|"untyped",
 *            "tags": {str: str}, "fields": {str: number|bool|str}}
 */
#ifndef SLUICE_EVENT_H
#define SLUICE_EVENT_H

#include <msgpack.h>
#include "common.h"
#include "timefmt.h"

typedef enum sluice_event_kind {
    SLUICE_EVENT_LOG = 0,
    SLUICE_EVENT_METRIC = 1,
} sluice_event_kind;

#define SLUICE_EVENT_KINDS 2

/* The MessagePack extension type of EventTime. */
#define SLUICE_EVENT_TIME_EXT 0

/* ==== Writing ==== */

/* Where an input or filter writes events. Owned by the core. */
typedef struct sluice_emitter sluice_emitter;

/* Start an event of `kind` at `time`, returning the packer into which the
 * caller packs exactly one map (the body) before calling sluice_emit_end.
 * The packer is valid until sluice_emit_end. */
SLUICE_API msgpack_packer *sluice_emit_begin(sluice_emitter *em, sluice_event_kind kind,
                                             sluice_time_t time);
SLUICE_API void sluice_emit_end(sluice_emitter *em);

/* Emit an already encoded event ([time, body], e.g. one read with
 * sluice_event_next) unchanged. */
SLUICE_API void sluice_emit_raw(sluice_emitter *em, sluice_event_kind kind, const char *raw,
                                size_t len);

/* ABI 2.3. Emit `count` encoded events that lie back to back in [data,
 * data+len), e.g. a request staged whole before any of it may go, in one
 * copy. The batch is not split: it starts a new chunk rather than overfill
 * the open one, so a chunk may exceed service.chunk_size by one batch. */
SLUICE_API void sluice_emit_batch(sluice_emitter *em, sluice_event_kind kind, const char *data,
                                  size_t len, size_t count);
/* Pack the head of an encoded event (the array of its time and body)
 * into `pk`; the caller packs the body map next. An input that must read a
 * whole batch before it may emit any of it (a scrape whose last line may
 * be bad) stages its events so, and emits them with sluice_emit_raw. */
SLUICE_API void sluice_event_pack_head(msgpack_packer *pk, sluice_time_t time);

/* Inputs with an `ack` callback: mark that every event emitted so far is
 * covered by `token` (a file offset, a sequence number...). The input's ack
 * callback receives it once those events are safe. */
SLUICE_API void sluice_emit_token(sluice_emitter *em, uint64_t token);

/* Pack a string; a short one (most keys and values) with its header in a
 * single write to the packer, which halves the writes of a record. */
static inline int
sluice_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    if (n < 32) {
        char b[32];
        b[0] = (char)(0xa0 | n);
        memcpy(b + 1, s, n);
        return pk->callback(pk->data, b, n + 1);
    }
    return msgpack_pack_str_with_body(pk, s, n);
}

/* Pack a NUL-terminated string. */
static inline int
sluice_pack_cstr(msgpack_packer *pk, const char *s)
{
    return sluice_pack_str(pk, s, strlen(s));
}

/* ==== Reading ==== */

typedef struct sluice_event {
    sluice_time_t time;
    msgpack_object body; /* valid until the next sluice_event_next */
    const char *raw;     /* the encoded event, inside the iterated buffer */
    size_t raw_len;
} sluice_event;

/* Iterates over the events of a buffer (a chunk, or a filter's batch). */
typedef struct sluice_event_iter {
    const char *data;
    size_t len;
    size_t off;
    msgpack_unpacked up;
} sluice_event_iter;

SLUICE_API void sluice_event_iter_init(sluice_event_iter *it, const char *data, size_t len);
/* 1: `ev` holds the next event; 0: end of buffer; -1: the rest of the buffer
 * is not a well-formed event (ev->raw points at it). */
SLUICE_API int sluice_event_next(sluice_event_iter *it, sluice_event *ev);
SLUICE_API void sluice_event_iter_destroy(sluice_event_iter *it);

/* A batch of events handed to a filter. */
typedef struct sluice_events {
    sluice_event_kind kind;
    const char *data;
    size_t len;
    size_t count;
} sluice_events;

/* Look up a field by path ("a.b.c") in a map. NULL when absent or when a
 * step is not a map. */
SLUICE_API const msgpack_object *sluice_record_get(const msgpack_object *map, const char *path);

/* If `data` starts with a MessagePack map header, set its item count and
 * the header's length in bytes and return 1; else return 0. */
SLUICE_API int sluice_map_header(const char *data, size_t len, uint32_t *count, size_t *head);

/* The size in bytes of the one MessagePack object at `data`, or 0 if it is
 * truncated, malformed or nested deeper than 32. Walks packed
 * bytes without decoding them, e.g. a map's members one by one. */
SLUICE_API size_t sluice_msgpack_size(const char *data, size_t len);

/* Copy the `count` key/value pairs packed at `members` (a map's items,
 * after its header) to `pk`, leaving out those whose key is a string equal
 * to one of the `n_drop` strings in `drop` (NULL entries match nothing):
 * fields about to be added with those names, so that a map never holds a
 * key twice. With `pk` NULL it only counts. Returns the pairs kept; stops
 * at the first malformed item. (ABI 2.7) */
SLUICE_API uint32_t sluice_members_without(msgpack_packer *pk, const char *members, size_t len,
                                           uint32_t count, const char *const *drop,
                                           size_t n_drop);
/* Pack a map header counting the members kept and `extra` fields, then the
 * members not named in `drop` (all of them, copied at once, when none is):
 * the caller packs its `extra` fields, named in `drop`, next. (ABI 2.7) */
SLUICE_API void sluice_pack_map_without(msgpack_packer *pk, const char *members, size_t len,
                                        uint32_t count, const char *const *drop, size_t n_drop,
                                        uint32_t extra);

#endif

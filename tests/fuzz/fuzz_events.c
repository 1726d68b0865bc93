/* Fuzz everything that reads encoded events: the serialized chunk check,
 * the MessagePack structure check, the event iterator's own decoder
 * (against msgpack-c's unpacker), and the JSON, logfmt and syslog formatters
 * over whatever passes that check (as in sluice, where bytes from outside
 * are checked once and then trusted). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "msgpack_check.h"
#include "event_decode.h"
#include "sluice/format.h"

/* The same value, strings pointing at the same bytes. */
static int
same(const msgpack_object *a, const msgpack_object *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case MSGPACK_OBJECT_NIL: return 1;
    case MSGPACK_OBJECT_BOOLEAN: return a->via.boolean == b->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return a->via.u64 == b->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return a->via.i64 == b->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return memcmp(&a->via.f64, &b->via.f64, sizeof a->via.f64) == 0;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        return a->via.str.size == b->via.str.size &&
               (a->via.str.size == 0 || a->via.str.ptr == b->via.str.ptr);
    case MSGPACK_OBJECT_EXT:
        return a->via.ext.type == b->via.ext.type && a->via.ext.size == b->via.ext.size &&
               (a->via.ext.size == 0 || a->via.ext.ptr == b->via.ext.ptr);
    case MSGPACK_OBJECT_ARRAY:
        if (a->via.array.size != b->via.array.size)
            return 0;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!same(&a->via.array.ptr[i], &b->via.array.ptr[i]))
                return 0;
        return 1;
    case MSGPACK_OBJECT_MAP:
        if (a->via.map.size != b->via.map.size)
            return 0;
        for (uint32_t i = 0; i < a->via.map.size; i++)
            if (!same(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) ||
                !same(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val))
                return 0;
        return 1;
    }
    return 0;
}

/* sluice_event_next, decoding what it can itself, returns what msgpack-c's
 * unpacker would. */
static void
same_events(const char *data, size_t size)
{
    sluice_event_iter fast, slow;
    sluice_event_iter_init(&fast, data, size);
    sluice_event_iter_init(&slow, data, size);
    for (;;) {
        sluice_event a, b;
        int ra = sluice_event_next(&fast, &a), rb = event_next_unpacked(&slow, &b);
        if (ra != rb)
            abort();
        if (ra != 1)
            break;
        if (a.time != b.time || a.raw != b.raw || a.raw_len != b.raw_len || !same(&a.body, &b.body))
            abort();
    }
    sluice_event_iter_destroy(&fast);
    sluice_event_iter_destroy(&slow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chunk_header h;
    chunk_decode(data, size, &h);
    uint32_t salvaged;
    chunk_salvage(data, size, &salvaged);
    /* Differential: what the checker accepts, msgpack-c parses to the same
     * length. */
    size_t k = mp_object_size(data, size);
    if (k) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, (const char *)data, size, &off) != MSGPACK_UNPACK_SUCCESS ||
            off != k)
            abort();
        msgpack_unpacked_destroy(&up);
    }
    uint32_t count;
    if (mp_check_events((const char *)data, size, &count) < 0)
        return 0;
    same_events((const char *)data, size);
    for (int f = SLUICE_FORMAT_JSON; f <= SLUICE_FORMAT_MSGPACK; f++) {
        sluice_format_opts o = {(sluice_format)f, "time", "fuzz"};
        sluice_buf out = SLUICE_BUF_INIT;
        sluice_format_events(&out, &o, (const char *)data, size, NULL);
        sluice_buf_free(&out);
    }
    return 0;
}

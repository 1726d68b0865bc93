/* Decoding sluice's own events without msgpack-c's unpacker (see
 * event_decode.h). */
#include <string.h>

#include "event_decode.h"

/* Containers nested deeper than this (msgpack-c takes 32) go the slow way. */
#define MAX_DEPTH 16

typedef const unsigned char *mp_pos;

static mp_pos decode(mp_pos p, mp_pos end, msgpack_object *o, msgpack_zone *z, int depth);

/* One item of a container: a short string (most keys and values) here,
 * anything else by decode. */
static inline mp_pos
item(mp_pos p, mp_pos end, msgpack_object *o, msgpack_zone *z, int depth)
{
    if (p < end && (*p & 0xe0) == 0xa0) {
        size_t n = *p & 0x1f;
        if (n >= (size_t)(end - p)) return NULL;
        o->type = MSGPACK_OBJECT_STR;
        o->via.str.size = (uint32_t)n;
        o->via.str.ptr = (const char *)p + 1;
        return p + 1 + n;
    }
    return decode(p, end, o, z, depth);
}

/* The `n` items of an array, or the `n` pairs of a map, at p. */
static mp_pos
container(mp_pos p, mp_pos end, msgpack_object *o, msgpack_zone *z, int depth, uint64_t n, int map)
{
    if (depth >= MAX_DEPTH || (map ? 2 * n : n) > (uint64_t)(end - p)) return NULL;
    if (map) {
        msgpack_object_kv *kv = msgpack_zone_malloc(z, (size_t)n * sizeof *kv);
        if (!kv) return NULL;
        o->type = MSGPACK_OBJECT_MAP;
        o->via.map.size = (uint32_t)n;
        o->via.map.ptr = kv;
        for (uint64_t i = 0; i < n && p; i++) {
            p = item(p, end, &kv[i].key, z, depth + 1);
            if (p) p = item(p, end, &kv[i].val, z, depth + 1);
        }
        return p;
    }
    msgpack_object *a = msgpack_zone_malloc(z, (size_t)n * sizeof *a);
    if (!a) return NULL;
    o->type = MSGPACK_OBJECT_ARRAY;
    o->via.array.size = (uint32_t)n;
    o->via.array.ptr = a;
    for (uint64_t i = 0; i < n && p; i++)
        p = item(p, end, &a[i], z, depth + 1);
    return p;
}

/* A string, binary or extension payload of `size` bytes at p. */
static mp_pos
bytes(mp_pos p, mp_pos end, uint64_t size, const char **out)
{
    if (size > (uint64_t)(end - p)) return NULL;
    *out = (const char *)p;
    return p + size;
}

static mp_pos
str(mp_pos p, mp_pos end, msgpack_object *o, uint64_t size)
{
    o->type = MSGPACK_OBJECT_STR;
    o->via.str.size = (uint32_t)size;
    return bytes(p, end, size, &o->via.str.ptr);
}

static mp_pos
ext(mp_pos p, mp_pos end, msgpack_object *o, uint64_t size)
{
    if (p >= end) return NULL;
    o->type = MSGPACK_OBJECT_EXT;
    o->via.ext.type = (int8_t)*p;
    o->via.ext.size = (uint32_t)size;
    return bytes(p + 1, end, size, &o->via.ext.ptr);
}

static void
sint(msgpack_object *o, int64_t v)
{
    if (v >= 0) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = (uint64_t)v;
    } else {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = v;
    }
}

/* One object at p into *o. Returns the byte after it, or NULL if it is
 * truncated or malformed, or nests too deep. */
static mp_pos
decode(mp_pos p, mp_pos end, msgpack_object *o, msgpack_zone *z, int depth)
{
    if (p >= end) return NULL;
    unsigned char b = *p++;
    if (b >= 0xa0 && b <= 0xbf) return str(p, end, o, b & 0x1f);
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        return p;
    }
    if (b >= 0xe0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = (int8_t)b;
        return p;
    }
    if (b <= 0x8f) return container(p, end, o, z, depth, b & 0x0f, 1);
    if (b <= 0x9f) return container(p, end, o, z, depth, b & 0x0f, 0);
    /* The fixed-size head that follows the first byte. */
    static const unsigned char head[0x20] = {
        [0x04] = 1, [0x05] = 2, [0x06] = 4, [0x07] = 1, [0x08] = 2, [0x09] = 4,
        [0x0a] = 4, [0x0b] = 8, [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8,
        [0x10] = 1, [0x11] = 2, [0x12] = 4, [0x13] = 8, [0x19] = 1, [0x1a] = 2,
        [0x1b] = 4, [0x1c] = 2, [0x1d] = 4, [0x1e] = 2, [0x1f] = 4};
    int h = head[b - 0xc0];
    if (h > end - p) return NULL;
    uint64_t v = mp_be(p, h);
    p += h;
    switch (b) {
    case 0xc0:
        o->type = MSGPACK_OBJECT_NIL;
        return p;
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = b == 0xc3;
        return p;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        o->type = MSGPACK_OBJECT_BIN;
        o->via.bin.size = (uint32_t)v;
        return bytes(p, end, v, &o->via.bin.ptr);
    case 0xc7:
    case 0xc8:
    case 0xc9:
        return ext(p, end, o, v);
    case 0xca: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        o->type = MSGPACK_OBJECT_FLOAT32;
        o->via.f64 = f;
        return p;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &v, sizeof d);
        o->type = MSGPACK_OBJECT_FLOAT64;
        o->via.f64 = d;
        return p;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = v;
        return p;
    case 0xd0:
        sint(o, (int8_t)v);
        return p;
    case 0xd1:
        sint(o, (int16_t)v);
        return p;
    case 0xd2:
        sint(o, (int32_t)v);
        return p;
    case 0xd3:
        sint(o, (int64_t)v);
        return p;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return ext(p, end, o, 1u << (b - 0xd4));
    case 0xd9:
    case 0xda:
    case 0xdb:
        return str(p, end, o, v);
    case 0xdc:
    case 0xdd:
        return container(p, end, o, z, depth, v, 0);
    case 0xde:
    case 0xdf:
        return container(p, end, o, z, depth, v, 1);
    default: /* 0xc1 */
        return NULL;
    }
}

int
event_decode_fast(const char *data, size_t len, msgpack_zone *zone, sluice_event *ev)
{
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    /* [time, body]: fixarray 2, fixext8 of type 0, a map. */
    if (len <= 11 || p[0] != 0x92 || p[1] != 0xd7 || p[2] != SLUICE_EVENT_TIME_EXT ||
        !((p[11] >= 0x80 && p[11] <= 0x8f) || p[11] == 0xde || p[11] == 0xdf))
        return 0;
    /* The array and the body are containers at depths 0 and 1. */
    const unsigned char *q = decode(p + 11, end, &ev->body, zone, 1);
    if (!q) return 0;
    ev->time = sluice_time_decode(data + 3);
    ev->raw = data;
    ev->raw_len = (size_t)(q - p);
    return 1;
}

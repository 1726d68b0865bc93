/* Event encoding helpers of the SDK: time, iteration over encoded events,
 * and field lookup by path. Emitting lives in pipeline.c. */
#include <string.h>
#include <time.h>

#include "event_decode.h"
#include "sluice/event.h"

sluice_time_t
sluice_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sluice_time_t)ts.tv_sec * SLUICE_NSEC_PER_SEC + ts.tv_nsec;
}

void
sluice_time_encode(sluice_time_t t, char out[8])
{
    uint32_t sec = (uint32_t)(t / SLUICE_NSEC_PER_SEC);
    uint32_t nsec = (uint32_t)(t % SLUICE_NSEC_PER_SEC);
    out[0] = (char)(sec >> 24);
    out[1] = (char)(sec >> 16);
    out[2] = (char)(sec >> 8);
    out[3] = (char)sec;
    out[4] = (char)(nsec >> 24);
    out[5] = (char)(nsec >> 16);
    out[6] = (char)(nsec >> 8);
    out[7] = (char)nsec;
}

sluice_time_t
sluice_time_decode(const char in[8])
{
    const unsigned char *p = (const unsigned char *)in;
    uint32_t sec = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t nsec = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    return (sluice_time_t)sec * SLUICE_NSEC_PER_SEC + nsec;
}

void
sluice_event_iter_init(sluice_event_iter *it, const char *data, size_t len)
{
    it->data = data;
    it->len = len;
    it->off = 0;
    msgpack_unpacked_init(&it->up);
    /* One zone for the whole walk, cleared per event: msgpack_unpack_next
     * would allocate and free one per event. */
    it->up.zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
}

void
sluice_event_iter_destroy(sluice_event_iter *it)
{
    msgpack_unpacked_destroy(&it->up);
}

int
sluice_event_next(sluice_event_iter *it, sluice_event *ev)
{
    if (it->off < it->len && it->up.zone) {
        msgpack_zone_clear(it->up.zone);
        if (event_decode_fast(it->data + it->off, it->len - it->off, it->up.zone, ev)) {
            it->off += ev->raw_len;
            return 1;
        }
    }
    return event_next_unpacked(it, ev);
}

int
event_next_unpacked(sluice_event_iter *it, sluice_event *ev)
{
    if (it->off >= it->len)
        return 0;
    size_t start = it->off;
    ev->raw = it->data + start;
    ev->raw_len = it->len - start;
    msgpack_unpack_return r = MSGPACK_UNPACK_NOMEM_ERROR;
    if (it->up.zone) {
        msgpack_zone_clear(it->up.zone);
        r = msgpack_unpack(it->data, it->len, &it->off, it->up.zone, &it->up.data);
        if (r == MSGPACK_UNPACK_EXTRA_BYTES) /* more events follow */
            r = MSGPACK_UNPACK_SUCCESS;
    }
    if (r != MSGPACK_UNPACK_SUCCESS) {
        it->off = it->len;
        return -1;
    }
    const msgpack_object *o = &it->up.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
        o->via.array.ptr[1].type != MSGPACK_OBJECT_MAP) {
        it->off = it->len;
        return -1;
    }
    const msgpack_object *t = &o->via.array.ptr[0];
    if (t->type == MSGPACK_OBJECT_EXT && t->via.ext.type == SLUICE_EVENT_TIME_EXT &&
        t->via.ext.size == 8)
        ev->time = sluice_time_decode(t->via.ext.ptr);
    /* Integer and float seconds, as older Fluentd-family senders write:
     * only what fits in int64 nanoseconds (until 2262). */
    else if (t->type == MSGPACK_OBJECT_POSITIVE_INTEGER && t->via.u64 < 9000000000ULL)
        ev->time = (sluice_time_t)t->via.u64 * SLUICE_NSEC_PER_SEC;
    else if ((t->type == MSGPACK_OBJECT_FLOAT64 || t->type == MSGPACK_OBJECT_FLOAT32) &&
             t->via.f64 >= 0 && t->via.f64 < 9e9)
        ev->time = (sluice_time_t)(t->via.f64 * 1e9);
    else {
        it->off = it->len;
        return -1;
    }
    ev->body = o->via.array.ptr[1];
    ev->raw_len = it->off - start;
    return 1;
}

const msgpack_object *
sluice_record_get(const msgpack_object *map, const char *path)
{
    const msgpack_object *cur = map;
    const char *seg = path;
    while (cur && cur->type == MSGPACK_OBJECT_MAP) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        const msgpack_object *next = NULL;
        for (uint32_t i = 0; i < cur->via.map.size; i++) {
            const msgpack_object *k = &cur->via.map.ptr[i].key;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
                memcmp(k->via.str.ptr, seg, len) == 0) {
                next = &cur->via.map.ptr[i].val;
                break;
            }
        }
        if (!next || !dot)
            return next;
        cur = next;
        seg = dot + 1;
    }
    return NULL;
}

int
sluice_map_header(const char *data, size_t len, uint32_t *count, size_t *head)
{
    const unsigned char *d = (const unsigned char *)data;
    if (len >= 1 && d[0] >= 0x80 && d[0] <= 0x8f) {
        *count = d[0] & 0x0f;
        *head = 1;
    } else if (len >= 3 && d[0] == 0xde) {
        *count = (uint32_t)d[1] << 8 | d[2];
        *head = 3;
    } else if (len >= 5 && d[0] == 0xdf) {
        *count = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
        *head = 5;
    } else {
        return 0;
    }
    return 1;
}

/* The string a key at `p` (`size` bytes, one object) holds; 0 if not a str. */
static int
key_string(const char *p, size_t size, const char **s, size_t *n)
{
    unsigned char b = (unsigned char)p[0];
    size_t head;
    if (b >= 0xa0 && b <= 0xbf)
        head = 1;
    else if (b == 0xd9)
        head = 2;
    else if (b == 0xda)
        head = 3;
    else if (b == 0xdb)
        head = 5;
    else
        return 0;
    *s = p + head;
    *n = size - head;
    return 1;
}

static int
dropped(const char *s, size_t n, const char *const *drop, size_t n_drop)
{
    for (size_t i = 0; i < n_drop; i++)
        if (drop[i] && strlen(drop[i]) == n && memcmp(drop[i], s, n) == 0)
            return 1;
    return 0;
}

uint32_t
sluice_members_without(msgpack_packer *pk, const char *members, size_t len, uint32_t count,
                       const char *const *drop, size_t n_drop)
{
    const char *p = members, *end = members + len, *run = members;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t ks = sluice_msgpack_size(p, (size_t)(end - p));
        size_t vs = ks ? sluice_msgpack_size(p + ks, (size_t)(end - p) - ks) : 0;
        if (!vs)
            break;
        const char *s;
        size_t n;
        if (key_string(p, ks, &s, &n) && dropped(s, n, drop, n_drop)) {
            /* Copy the run of kept pairs before this one. */
            if (pk && p > run)
                pk->callback(pk->data, run, (size_t)(p - run));
            run = p + ks + vs;
        } else {
            kept++;
        }
        p += ks + vs;
    }
    if (pk && p > run)
        pk->callback(pk->data, run, (size_t)(p - run));
    return kept;
}

void
sluice_pack_map_without(msgpack_packer *pk, const char *members, size_t len, uint32_t count,
                        const char *const *drop, size_t n_drop, uint32_t extra)
{
    uint32_t kept = n_drop ? sluice_members_without(NULL, members, len, count, drop, n_drop) : count;
    msgpack_pack_map(pk, kept + extra);
    if (kept == count)
        pk->callback(pk->data, members, len);
    else
        sluice_members_without(pk, members, len, count, drop, n_drop);
}

void
sluice_event_pack_head(msgpack_packer *pk, sluice_time_t time)
{
    char ts[8];
    sluice_time_encode(time, ts);
    msgpack_pack_array(pk, 2);
    msgpack_pack_ext_with_body(pk, ts, 8, SLUICE_EVENT_TIME_EXT);
}

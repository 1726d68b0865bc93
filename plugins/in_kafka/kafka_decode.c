/* One Kafka message to one event, by the contract the kafka output writes
 * (docs/outputs.md, kafka): the headers sluice.kind and sluice.time give
 * the event's kind and time back exactly; without them (other producers)
 * it is a log event at the message's timestamp. The value is the record in
 * `format`; a value that is not (bad JSON, a JSON array, not a MessagePack
 * map) is kept whole as {message: value}, flagged parse_error: true when it
 * could not be read at all, and counted — never dropped. Log events get
 * the message's topic, partition, offset, key and headers as the *_key
 * options ask, replacing members of their names; metric events are
 * rebuilt as they were. */
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

#define HDR_KIND "sluice.kind"
#define HDR_TIME "sluice.time"

/* A decimal number of nanoseconds, perhaps negative, within int64. */
static int
parse_time(const char *s, size_t n, sluice_time_t *out)
{
    int neg = n > 0 && s[0] == '-';
    if (neg) {
        s++;
        n--;
    }
    if (n == 0 || n > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(sluice_time_t)v : (sluice_time_t)v;
    return 0;
}

/* The kind and time the headers give, else a log event at the message's
 * timestamp, else now. */
static sluice_event_kind
kind_and_time(const rd_kafka_message_t *m, rd_kafka_headers_t *h, sluice_time_t *t)
{
    sluice_event_kind kind = SLUICE_EVENT_LOG;
    int have_time = 0;
    if (h) {
        const void *v;
        size_t n;
        if (rd_kafka_header_get_last(h, HDR_KIND, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v &&
            n == 6 && memcmp(v, "metric", 6) == 0)
            kind = SLUICE_EVENT_METRIC;
        if (rd_kafka_header_get_last(h, HDR_TIME, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v &&
            parse_time(v, n, t) == 0)
            have_time = 1;
    }
    if (!have_time) {
        int64_t ms = rd_kafka_message_timestamp(m, NULL);
        *t = ms >= 0 ? ms * SLUICE_NSEC_PER_MSEC : sluice_time_now();
    }
    return kind;
}

/* The message's metadata a log event gets (kin_config's *_key). */
typedef struct meta {
    const rd_kafka_message_t *m;
    rd_kafka_headers_t *h;
    const char *keys[5]; /* the fields it adds */
    uint32_t n;
} meta;

/* Headers by name, the last of a repeated name winning; the count. */
static uint32_t
headers_each(rd_kafka_headers_t *h, msgpack_packer *pk)
{
    uint32_t n = 0;
    size_t all = h ? rd_kafka_header_cnt(h) : 0;
    const char *name, *later;
    const void *v, *lv;
    size_t len, llen;
    for (size_t i = 0; i < all; i++) {
        if (rd_kafka_header_get_all(h, i, &name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        size_t j = i + 1;
        while (j < all && !(rd_kafka_header_get_all(h, j, &later, &lv, &llen) ==
                                RD_KAFKA_RESP_ERR_NO_ERROR &&
                            strcmp(later, name) == 0))
            j++;
        if (j < all)
            continue;
        n++;
        if (!pk)
            continue;
        sluice_pack_cstr(pk, name);
        if (v)
            sluice_pack_str(pk, v, len);
        else
            msgpack_pack_nil(pk);
    }
    return n;
}

static meta
meta_of(const kin_ctx *c, const rd_kafka_message_t *m, rd_kafka_headers_t *h,
        sluice_event_kind kind)
{
    const kin_config *cfg = c->cfg;
    meta md = {.m = m, .h = h};
    if (kind != SLUICE_EVENT_LOG)
        return md;
    if (cfg->topic_key)
        md.keys[md.n++] = cfg->topic_key;
    if (cfg->partition_key)
        md.keys[md.n++] = cfg->partition_key;
    if (cfg->offset_key)
        md.keys[md.n++] = cfg->offset_key;
    if (cfg->key_field && m->key)
        md.keys[md.n++] = cfg->key_field;
    if (cfg->headers_key && headers_each(h, NULL) > 0)
        md.keys[md.n++] = cfg->headers_key;
    return md;
}

static void
pack_meta(const kin_ctx *c, msgpack_packer *pk, const meta *md)
{
    const kin_config *cfg = c->cfg;
    const rd_kafka_message_t *m = md->m;
    if (!md->n)
        return;
    if (cfg->topic_key) {
        sluice_pack_cstr(pk, cfg->topic_key);
        sluice_pack_cstr(pk, rd_kafka_topic_name(m->rkt));
    }
    if (cfg->partition_key) {
        sluice_pack_cstr(pk, cfg->partition_key);
        msgpack_pack_int32(pk, m->partition);
    }
    if (cfg->offset_key) {
        sluice_pack_cstr(pk, cfg->offset_key);
        msgpack_pack_int64(pk, m->offset);
    }
    if (cfg->key_field && m->key) {
        sluice_pack_cstr(pk, cfg->key_field);
        sluice_pack_str(pk, m->key, m->key_len);
    }
    uint32_t nh = cfg->headers_key ? headers_each(md->h, NULL) : 0;
    if (nh) {
        sluice_pack_cstr(pk, cfg->headers_key);
        msgpack_pack_map(pk, nh);
        headers_each(md->h, pk);
    }
}

static void
emit_message(kin_ctx *c, sluice_time_t t, const char *s, size_t n, int parse_error,
             const meta *md)
{
    msgpack_packer *pk = sluice_emit_begin(c->em, SLUICE_EVENT_LOG, t);
    msgpack_pack_map(pk, 1 + (parse_error != 0) + md->n);
    sluice_pack_cstr(pk, "message");
    sluice_pack_str(pk, s, n);
    if (parse_error) {
        sluice_pack_cstr(pk, "parse_error");
        msgpack_pack_true(pk);
    }
    pack_meta(c, pk, md);
    sluice_emit_end(c->em);
}

static void
log_parse_error(kin_ctx *c, const rd_kafka_message_t *m, const char *why)
{
    sluice_time_t now = sluice_time_now();
    if (now - c->last_parse_log < 10 * SLUICE_NSEC_PER_SEC)
        return;
    c->last_parse_log = now;
    sluice_warn(c->ins, "%s [%d] offset %lld: %s; kept in message with parse_error: true (%llu "
                        "so far)",
                rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, why,
                (unsigned long long)c->parse_errors + 1);
}

static int
decode_json(kin_ctx *c, const rd_kafka_message_t *m, sluice_event_kind kind, sluice_time_t t,
            const meta *md)
{
    const char *s = m->payload ? m->payload : "";
    sluice_json_members mem;
    char err[128];
    if (sluice_json_object_without(s, m->len, md->keys, md->n, &c->scratch, &mem, err,
                                   sizeof err) == 0) {
        msgpack_packer *pk = sluice_emit_begin(c->em, kind, t);
        msgpack_pack_map(pk, mem.count + md->n);
        pk->callback(pk->data, mem.data, mem.len);
        pack_meta(c, pk, md);
        sluice_emit_end(c->em);
        return 0;
    }
    /* Something was packed: valid JSON that is not an object. */
    if (c->scratch.size) {
        emit_message(c, t, s, m->len, 0, md);
        return 0;
    }
    log_parse_error(c, m, err);
    emit_message(c, t, s, m->len, 1, md);
    return 1;
}

static int
decode_msgpack(kin_ctx *c, const rd_kafka_message_t *m, sluice_event_kind kind, sluice_time_t t,
               const meta *md)
{
    const char *s = m->payload ? m->payload : "";
    uint32_t count;
    size_t head;
    if (m->len && sluice_map_header(s, m->len, &count, &head) &&
        sluice_msgpack_size(s, m->len) == m->len) {
        msgpack_packer *pk = sluice_emit_begin(c->em, kind, t);
        if (md->n) { /* the metadata replaces members of its names */
            sluice_pack_map_without(pk, s + head, m->len - head, count, md->keys, md->n, md->n);
            pack_meta(c, pk, md);
        } else {
            pk->callback(pk->data, s, m->len);
        }
        sluice_emit_end(c->em);
        return 0;
    }
    log_parse_error(c, m, "not one MessagePack map");
    emit_message(c, t, s, m->len, 1, md);
    return 1;
}

int
kin_decode_emit(kin_ctx *c, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        h = NULL;
    sluice_time_t t;
    sluice_event_kind kind = kind_and_time(m, h, &t);
    meta md = meta_of(c, m, h, kind);
    switch (c->cfg->format) {
    case KIN_JSON: return decode_json(c, m, kind, t, &md);
    case KIN_MSGPACK: return decode_msgpack(c, m, kind, t, &md);
    default: emit_message(c, t, m->payload ? m->payload : "", m->len, 0, &md); return 0;
    }
}

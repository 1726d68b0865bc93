/* One Kafka message to one event, by the contract the kafka output writes
 * (docs/outputs.md, kafka): the headers sluice.kind and sluice.time give
 * the event's kind and time back exactly; without them (other producers)
 * it is a log event at the message's timestamp. The value is the record in
 * `format`; a value that is not (bad JSON, a JSON array, not a MessagePack
 * map) is kept whole as {message: value}, flagged parse_error: true when it
 * could not be read at all, and counted — never dropped. */
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
kind_and_time(const rd_kafka_message_t *m, sluice_time_t *t)
{
    sluice_event_kind kind = SLUICE_EVENT_LOG;
    int have_time = 0;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
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

static void
emit_message(kin_ctx *c, sluice_time_t t, const char *s, size_t n, int parse_error)
{
    msgpack_packer *pk = sluice_emit_begin(c->em, SLUICE_EVENT_LOG, t);
    msgpack_pack_map(pk, parse_error ? 2 : 1);
    sluice_pack_cstr(pk, "message");
    sluice_pack_str(pk, s, n);
    if (parse_error) {
        sluice_pack_cstr(pk, "parse_error");
        msgpack_pack_true(pk);
    }
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
decode_json(kin_ctx *c, const rd_kafka_message_t *m, sluice_event_kind kind, sluice_time_t t)
{
    const char *s = m->payload ? m->payload : "";
    sluice_json_members mem;
    char err[128];
    if (sluice_json_object(s, m->len, &c->scratch, &mem, err, sizeof err) == 0) {
        msgpack_packer *pk = sluice_emit_begin(c->em, kind, t);
        msgpack_pack_map(pk, mem.count);
        pk->callback(pk->data, mem.data, mem.len);
        sluice_emit_end(c->em);
        return 0;
    }
    /* Something was packed: valid JSON that is not an object. */
    if (c->scratch.size) {
        emit_message(c, t, s, m->len, 0);
        return 0;
    }
    log_parse_error(c, m, err);
    emit_message(c, t, s, m->len, 1);
    return 1;
}

static int
decode_msgpack(kin_ctx *c, const rd_kafka_message_t *m, sluice_event_kind kind, sluice_time_t t)
{
    const char *s = m->payload ? m->payload : "";
    uint32_t count;
    size_t head;
    if (m->len && sluice_map_header(s, m->len, &count, &head) &&
        sluice_msgpack_size(s, m->len) == m->len) {
        msgpack_packer *pk = sluice_emit_begin(c->em, kind, t);
        pk->callback(pk->data, s, m->len);
        sluice_emit_end(c->em);
        return 0;
    }
    log_parse_error(c, m, "not one MessagePack map");
    emit_message(c, t, s, m->len, 1);
    return 1;
}

int
kin_decode_emit(kin_ctx *c, const rd_kafka_message_t *m)
{
    sluice_time_t t;
    sluice_event_kind kind = kind_and_time(m, &t);
    switch (c->cfg->format) {
    case KIN_JSON: return decode_json(c, m, kind, t);
    case KIN_MSGPACK: return decode_msgpack(c, m, kind, t);
    default: emit_message(c, t, m->payload ? m->payload : "", m->len, 0); return 0;
    }
}

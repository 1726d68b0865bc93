/* Rendering one event as a JSON line, a logfmt line, an RFC 5424 syslog line
 * (format_syslog.c) or raw MessagePack (see include/sluice/format.h). */
#include <string.h>

#include "sluice/format.h"
#include "format_internal.h"

const char *const sluice_format_names[] = {"json", "logfmt", "syslog", "msgpack", NULL};

static int
has_key(const msgpack_object *map, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return 1;
    }
    return 0;
}

static void
format_json(sluice_buf *out, const sluice_format_opts *o, const sluice_event *ev)
{
    const msgpack_object *body = &ev->body;
    sluice_buf_putc(out, '{');
    int first = 1;
    if (o->time_key && !has_key(body, o->time_key)) {
        sluice_json_string(out, o->time_key, strlen(o->time_key));
        sluice_buf_append(out, ":\"", 2);
        sluice_format_rfc3339(out, ev->time);
        sluice_buf_putc(out, '"');
        first = 0;
    }
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        if (!first)
            sluice_buf_putc(out, ',');
        first = 0;
        json_pair(out, kv);
    }
    sluice_buf_append(out, "}\n", 2);
}

/* ==== logfmt ==== */

static int
logfmt_bare(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= 0x7f)
            return 0;
    }
    return 1;
}

static void
logfmt_text(sluice_buf *out, const char *s, size_t n)
{
    if (logfmt_bare(s, n))
        sluice_buf_append(out, s, n);
    else
        sluice_json_string(out, s, n);
}

/* Nested maps are flattened with dotted keys: a.b=1. */
static void
logfmt_pairs(sluice_buf *out, const msgpack_object *map, sluice_buf *prefix, int *first)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        size_t mark = prefix->len;
        if (prefix->len)
            sluice_buf_putc(prefix, '.');
        if (kv->key.type == MSGPACK_OBJECT_STR)
            sluice_buf_append(prefix, kv->key.via.str.ptr, kv->key.via.str.size);
        else
            sluice_json_value(prefix, &kv->key);
        if (kv->val.type == MSGPACK_OBJECT_MAP && kv->val.via.map.size) {
            logfmt_pairs(out, &kv->val, prefix, first);
        } else {
            if (!*first)
                sluice_buf_putc(out, ' ');
            *first = 0;
            logfmt_text(out, prefix->data, prefix->len);
            sluice_buf_putc(out, '=');
            if (kv->val.type == MSGPACK_OBJECT_STR) {
                logfmt_text(out, kv->val.via.str.ptr, kv->val.via.str.size);
            } else if (kv->val.type == MSGPACK_OBJECT_NIL) {
                /* key= */
            } else {
                sluice_buf v = SLUICE_BUF_INIT;
                sluice_json_value(&v, &kv->val);
                if (kv->val.type == MSGPACK_OBJECT_ARRAY || kv->val.type == MSGPACK_OBJECT_MAP)
                    sluice_json_string(out, v.data, v.len);
                else
                    sluice_buf_append(out, v.data, v.len);
                sluice_buf_free(&v);
            }
        }
        prefix->len = mark;
    }
}

static void
format_logfmt(sluice_buf *out, const sluice_format_opts *o, const sluice_event *ev)
{
    int first = 1;
    if (o->time_key && !has_key(&ev->body, o->time_key)) {
        logfmt_text(out, o->time_key, strlen(o->time_key));
        sluice_buf_putc(out, '=');
        sluice_format_rfc3339(out, ev->time);
        first = 0;
    }
    sluice_buf prefix = SLUICE_BUF_INIT;
    logfmt_pairs(out, &ev->body, &prefix, &first);
    sluice_buf_free(&prefix);
    sluice_buf_putc(out, '\n');
}

/* ==== Syslog ==== */

/* One RFC 5424 message a line, with the syslog output's defaults. */
static void
format_syslog(sluice_buf *out, const sluice_format_opts *o, const sluice_event *ev)
{
    sluice_syslog_opts so;
    sluice_syslog_opts_init(&so);
    so.hostname = o->hostname;
    sluice_syslog_format_event(out, &so, ev);
    sluice_buf_putc(out, '\n');
}

void
sluice_format_event(sluice_buf *out, const sluice_format_opts *o, const sluice_event *ev)
{
    switch (o->format) {
    case SLUICE_FORMAT_JSON:
        format_json(out, o, ev);
        break;
    case SLUICE_FORMAT_LOGFMT:
        format_logfmt(out, o, ev);
        break;
    case SLUICE_FORMAT_SYSLOG:
        format_syslog(out, o, ev);
        break;
    case SLUICE_FORMAT_MSGPACK:
        sluice_buf_append(out, ev->raw, ev->raw_len);
        break;
    }
}

size_t
sluice_format_events(sluice_buf *out, const sluice_format_opts *o, const char *data, size_t len,
                     int *bad)
{
    sluice_event_iter it;
    sluice_event ev;
    size_t n = 0;
    int r;
    sluice_event_iter_init(&it, data, len);
    while ((r = sluice_event_next(&it, &ev)) == 1) {
        sluice_format_event(out, o, &ev);
        n++;
    }
    sluice_event_iter_destroy(&it);
    if (bad)
        *bad = r < 0;
    return n;
}

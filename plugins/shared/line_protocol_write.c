/* Writing InfluxDB line protocol: one point per event (see line_protocol.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "line_protocol.h"

/* `specials` get a backslash; a newline becomes \n, a carriage return \r. */
static void
escaped(sluice_buf *out, const char *s, size_t n, const char *specials)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            sluice_buf_append(out, "\\n", 2);
            continue;
        }
        if (c == '\r') {
            sluice_buf_append(out, "\\r", 2);
            continue;
        }
        if (strchr(specials, c))
            sluice_buf_putc(out, '\\');
        sluice_buf_putc(out, c);
    }
}

static void
measurement(sluice_buf *out, const char *s, size_t n)
{
    escaped(out, s, n, ", ");
}

static void
key(sluice_buf *out, const char *s, size_t n)
{
    escaped(out, s, n, ",= ");
}

/* A tag value: strings as they are, other scalars as JSON text; 0 if the
 * value is empty or not a scalar (no tag then). */
static int
tag_value(sluice_buf *out, const msgpack_object *v)
{
    if (v->type == MSGPACK_OBJECT_MAP || v->type == MSGPACK_OBJECT_ARRAY ||
        v->type == MSGPACK_OBJECT_NIL || (v->type == MSGPACK_OBJECT_STR && !v->via.str.size))
        return 0;
    sluice_buf scratch = SLUICE_BUF_INIT;
    size_t n;
    const char *text = sluice_json_text(v, &scratch, &n);
    escaped(out, text, n, ",= ");
    sluice_buf_free(&scratch);
    return 1;
}

/* A field value; 0 if it cannot be one (nil, map, array, NaN). */
static int
field_value(sluice_buf *out, const lp_options *o, const msgpack_object *v)
{
    char num[32];
    switch (v->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        sluice_buf_append(out, v->via.boolean ? "true" : "false", v->via.boolean ? 4 : 5);
        return 1;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (v->via.u64 > INT64_MAX && !o->unsigned_ok) {
            int n = sluice_double_text((double)v->via.u64, num);
            sluice_buf_append(out, num, (size_t)n);
            return 1;
        }
        sluice_buf_printf(out, "%llu%c", (unsigned long long)v->via.u64,
                          v->via.u64 > INT64_MAX ? 'u' : 'i');
        return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        sluice_buf_printf(out, "%lldi", (long long)v->via.i64);
        return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        if (!isfinite(v->via.f64))
            return 0;
        int n = sluice_double_text(v->via.f64, num);
        sluice_buf_append(out, num, (size_t)n);
        return 1;
    }
    case MSGPACK_OBJECT_STR:
        sluice_buf_putc(out, '"');
        escaped(out, v->via.str.ptr, v->via.str.size, "\"\\");
        sluice_buf_putc(out, '"');
        return 1;
    default:
        return 0;
    }
}

/* ", key=value" or " key=value" for the first field; 1 if written. */
static int
field(sluice_buf *out, const lp_options *o, const msgpack_object *k, const msgpack_object *v,
      int first)
{
    if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size)
        return 0;
    size_t mark = out->len;
    sluice_buf_putc(out, first ? ' ' : ',');
    key(out, k->via.str.ptr, k->via.str.size);
    sluice_buf_putc(out, '=');
    if (!field_value(out, o, v)) {
        out->len = mark;
        return 0;
    }
    return 1;
}

static int
in_list(const sluice_strlist *l, const msgpack_object *k)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (k->type == MSGPACK_OBJECT_STR && strlen(l->v[i]) == k->via.str.size &&
            memcmp(l->v[i], k->via.str.ptr, k->via.str.size) == 0)
            return 1;
    return 0;
}

static int
is_default_field(const msgpack_object *k, const msgpack_object *v)
{
    if (v->type == MSGPACK_OBJECT_STR)
        return k->type == MSGPACK_OBJECT_STR && k->via.str.size == 7 &&
               memcmp(k->via.str.ptr, "message", 7) == 0;
    return v->type == MSGPACK_OBJECT_BOOLEAN || v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
           v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || v->type == MSGPACK_OBJECT_FLOAT32 ||
           v->type == MSGPACK_OBJECT_FLOAT64;
}

static const msgpack_object *
get(const msgpack_object *map, const char *name)
{
    return sluice_record_get(map, name);
}

static void
timestamp(sluice_buf *out, const lp_options *o, sluice_time_t t)
{
    static const int64_t div[] = {1, 1000, 1000000, 1000000000};
    int64_t d = div[o->precision];
    int64_t v = t >= 0 ? t / d : -((-t + d - 1) / d);
    sluice_buf_printf(out, " %lld\n", (long long)v);
}

static int
log_point(sluice_buf *out, const lp_options *o, const sluice_event *ev)
{
    const msgpack_object *b = &ev->body;
    measurement(out, o->measurement, strlen(o->measurement));
    for (size_t i = 0; o->tag_keys && i < o->tag_keys->n; i++) {
        const msgpack_object *v = get(b, o->tag_keys->v[i]);
        if (!v)
            continue;
        size_t mark = out->len;
        sluice_buf_putc(out, ',');
        key(out, o->tag_keys->v[i], strlen(o->tag_keys->v[i]));
        sluice_buf_putc(out, '=');
        if (!tag_value(out, v))
            out->len = mark;
    }
    int fields = 0;
    if (o->field_keys && o->field_keys->n) {
        for (size_t i = 0; i < o->field_keys->n; i++) {
            const msgpack_object *v = get(b, o->field_keys->v[i]);
            msgpack_object k = {.type = MSGPACK_OBJECT_STR};
            k.via.str.ptr = o->field_keys->v[i];
            k.via.str.size = (uint32_t)strlen(o->field_keys->v[i]);
            if (v)
                fields += field(out, o, &k, v, !fields);
        }
    } else {
        for (uint32_t i = 0; i < b->via.map.size; i++) {
            const msgpack_object *k = &b->via.map.ptr[i].key, *v = &b->via.map.ptr[i].val;
            if (!in_list(o->tag_keys, k) && is_default_field(k, v))
                fields += field(out, o, k, v, !fields);
        }
    }
    return fields;
}

static int
metric_point(sluice_buf *out, const lp_options *o, const sluice_event *ev)
{
    const msgpack_object *b = &ev->body;
    const msgpack_object *name = get(b, "name"), *tags = get(b, "tags"), *fields = get(b, "fields");
    if (!name || name->type != MSGPACK_OBJECT_STR || !name->via.str.size || !fields ||
        fields->type != MSGPACK_OBJECT_MAP)
        return 0;
    measurement(out, name->via.str.ptr, name->via.str.size);
    for (uint32_t i = 0; tags && tags->type == MSGPACK_OBJECT_MAP && i < tags->via.map.size; i++) {
        const msgpack_object *k = &tags->via.map.ptr[i].key, *v = &tags->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size)
            continue;
        size_t mark = out->len;
        sluice_buf_putc(out, ',');
        key(out, k->via.str.ptr, k->via.str.size);
        sluice_buf_putc(out, '=');
        if (!tag_value(out, v))
            out->len = mark;
    }
    int n = 0;
    for (uint32_t i = 0; i < fields->via.map.size; i++)
        n += field(out, o, &fields->via.map.ptr[i].key, &fields->via.map.ptr[i].val, !n);
    return n;
}

int
lp_point(sluice_buf *out, const lp_options *o, const sluice_event *ev, int log, char *why,
         size_t whylen)
{
    if (ev->body.type != MSGPACK_OBJECT_MAP) {
        snprintf(why, whylen, "not a map");
        return -1;
    }
    size_t mark = out->len;
    if (!(log ? log_point(out, o, ev) : metric_point(out, o, ev))) {
        out->len = mark;
        snprintf(why, whylen, "no field can be written as a point (%s)",
                 log ? "no numeric or boolean field, no message, or none of field_keys"
                     : "a metric needs a name and fields");
        return -1;
    }
    timestamp(out, o, ev->time);
    return 0;
}

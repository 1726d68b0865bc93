/* collectd's write_http JSON (Format "JSON") to metric events: an array of
 * value lists, each {values, dstypes, dsnames, time, interval, host,
 * plugin, plugin_instance, type, type_instance}, one event per data source.
 *
 *   name   plugin, then _type unless it repeats the plugin, then _dsname
 *          unless it is "value" (cpu_percent, interface_if_octets_rx)
 *   kind   gauge for gauge; counter for derive, counter and absolute
 *   tags   host, plugin_instance and type_instance when not empty
 *   fields {value}; a null value (collectd's U, unknown) is skipped
 */
#include <stdio.h>
#include <string.h>

#include "body_parse.h"

static const msgpack_object *
member(const msgpack_object *map, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == kl &&
            memcmp(kv->key.via.str.ptr, key, kl) == 0)
            return &kv->val;
    }
    return NULL;
}

static int
is_str(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_STR;
}

static int
same(const msgpack_object *a, const msgpack_object *b)
{
    return a->via.str.size == b->via.str.size &&
           memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0;
}

static int
is_number(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
           o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || o->type == MSGPACK_OBJECT_FLOAT64 ||
           o->type == MSGPACK_OBJECT_FLOAT32;
}

static void
pack_tag(msgpack_packer *pk, const char *key, const msgpack_object *v)
{
    sluice_pack_cstr(pk, key);
    sluice_pack_str(pk, v->via.str.ptr, v->via.str.size);
}

/* One event for data source `i` of the value list `vl`. */
static void
stage_value(body_stage *st, const msgpack_object *vl, uint32_t i, sluice_time_t t,
            sluice_buf *name)
{
    const msgpack_object *plugin = member(vl, "plugin"), *type = member(vl, "type");
    const msgpack_object *value = &member(vl, "values")->via.array.ptr[i];
    const msgpack_object *dstype = &member(vl, "dstypes")->via.array.ptr[i];
    const msgpack_object *dsname = &member(vl, "dsnames")->via.array.ptr[i];
    const msgpack_object *tags[3] = {member(vl, "host"), member(vl, "plugin_instance"),
                                     member(vl, "type_instance")};
    static const char *const tag_keys[3] = {"host", "plugin_instance", "type_instance"};

    sluice_buf_reset(name);
    sluice_buf_append(name, plugin->via.str.ptr, plugin->via.str.size);
    if (!same(plugin, type)) {
        sluice_buf_putc(name, '_');
        sluice_buf_append(name, type->via.str.ptr, type->via.str.size);
    }
    if (!(dsname->via.str.size == 5 && memcmp(dsname->via.str.ptr, "value", 5) == 0)) {
        sluice_buf_putc(name, '_');
        sluice_buf_append(name, dsname->via.str.ptr, dsname->via.str.size);
    }
    int gauge = dstype->via.str.size == 5 && memcmp(dstype->via.str.ptr, "gauge", 5) == 0;

    msgpack_packer pk;
    msgpack_packer_init(&pk, &st->events, msgpack_sbuffer_write);
    sluice_event_pack_head(&pk, t);
    msgpack_pack_map(&pk, 4);
    sluice_pack_cstr(&pk, "name");
    sluice_pack_str(&pk, name->data, name->len);
    sluice_pack_cstr(&pk, "kind");
    sluice_pack_cstr(&pk, gauge ? "gauge" : "counter");
    sluice_pack_cstr(&pk, "tags");
    uint32_t n = 0;
    for (int k = 0; k < 3; k++)
        n += is_str(tags[k]) && tags[k]->via.str.size > 0;
    msgpack_pack_map(&pk, n);
    for (int k = 0; k < 3; k++)
        if (is_str(tags[k]) && tags[k]->via.str.size > 0)
            pack_tag(&pk, tag_keys[k], tags[k]);
    sluice_pack_cstr(&pk, "fields");
    msgpack_pack_map(&pk, 1);
    sluice_pack_cstr(&pk, "value");
    msgpack_pack_object(&pk, *value);
    body_staged(st);
}

/* Whether value list `vl` has what an event needs; if not, `why`. */
static int
valid(const msgpack_object *vl, char *why, size_t whylen)
{
    if (vl->type != MSGPACK_OBJECT_MAP) {
        snprintf(why, whylen, "not an object");
        return 0;
    }
    const char *strings[] = {"plugin", "type"};
    for (int i = 0; i < 2; i++)
        if (!is_str(member(vl, strings[i]))) {
            snprintf(why, whylen, "no \"%s\" string", strings[i]);
            return 0;
        }
    const msgpack_object *a[3] = {member(vl, "values"), member(vl, "dstypes"),
                                  member(vl, "dsnames")};
    const char *names[3] = {"values", "dstypes", "dsnames"};
    for (int i = 0; i < 3; i++)
        if (!a[i] || a[i]->type != MSGPACK_OBJECT_ARRAY ||
            a[i]->via.array.size != a[0]->via.array.size) {
            snprintf(why, whylen, "\"%s\" is not an array as long as \"values\"", names[i]);
            return 0;
        }
    for (uint32_t i = 0; i < a[0]->via.array.size; i++) {
        const msgpack_object *v = &a[0]->via.array.ptr[i];
        if ((v->type != MSGPACK_OBJECT_NIL && !is_number(v)) || !is_str(&a[1]->via.array.ptr[i]) ||
            !is_str(&a[2]->via.array.ptr[i])) {
            snprintf(why, whylen, "data source %u is not a number with a dstype and dsname", i);
            return 0;
        }
    }
    const msgpack_object *t = member(vl, "time");
    double secs = !t                                  ? 0
                  : t->type == MSGPACK_OBJECT_FLOAT64 ? t->via.f64
                  : t->type == MSGPACK_OBJECT_FLOAT32 ? t->via.f64
                                                      : (double)t->via.i64;
    if (t && (!is_number(t) || !(secs >= 0 && secs < 9e9))) {
        snprintf(why, whylen, "\"time\" is not a number of seconds from 1970 to 2255");
        return 0;
    }
    return 1;
}

int
body_collectd(body_stage *st, const char *body, size_t len, sluice_time_t now, char *err,
              size_t errlen)
{
    body_stage_clear(st);
    if (body_parse_json(st, body, len, err, errlen) < 0)
        return -1;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int r = -1;
    if (msgpack_unpack_next(&up, st->scratch.data, st->scratch.size, NULL) !=
            MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_ARRAY) {
        snprintf(err, errlen, "collectd's JSON is an array of value lists");
        goto out;
    }
    const msgpack_object_array *lists = &up.data.via.array;
    char why[128];
    for (uint32_t i = 0; i < lists->size; i++)
        if (!valid(&lists->ptr[i], why, sizeof why)) {
            snprintf(err, errlen, "value list %u: %s", i, why);
            goto out;
        }
    sluice_buf name = SLUICE_BUF_INIT;
    for (uint32_t i = 0; i < lists->size; i++) {
        const msgpack_object *vl = &lists->ptr[i], *t = member(vl, "time");
        sluice_time_t at = now;
        if (t) {
            double secs = t->type == MSGPACK_OBJECT_FLOAT64 || t->type == MSGPACK_OBJECT_FLOAT32
                              ? t->via.f64
                              : (double)t->via.i64;
            at = (sluice_time_t)(secs * 1e3 + 0.5) * SLUICE_NSEC_PER_MSEC;
        }
        const msgpack_object *values = member(vl, "values");
        for (uint32_t v = 0; v < values->via.array.size; v++)
            if (values->via.array.ptr[v].type != MSGPACK_OBJECT_NIL)
                stage_value(st, vl, v, at, &name);
        if (st->too_large)
            break;
    }
    sluice_buf_free(&name);
    r = 0;
out:
    msgpack_unpacked_destroy(&up);
    return body_staged_result(st, r, err, errlen);
}

/* Metric events as Prometheus series (see promql_metric.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "promql_metric.h"
#include "sluice/alloc.h"

static char *
text(const msgpack_object *o)
{
    return sluice_strndup(o->via.str.ptr, o->via.str.size);
}

char *
pq_sanitized_name(const char *s, size_t n, int metric)
{
    char *out = sluice_malloc(n + 2);
    size_t o = 0;
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        out[o++] = '_';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (metric && c == ':');
        out[o++] = ok ? c : '_';
    }
    out[o] = '\0';
    return out;
}

static int
number(const msgpack_object *v, double *d)
{
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *d = (double)v->via.u64; return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *d = (double)v->via.i64; return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *d = v->via.f64; return 1;
    case MSGPACK_OBJECT_BOOLEAN: *d = v->via.boolean ? 1 : 0; return 1;
    default: return 0;
    }
}

int
pq_metric_samples(const msgpack_object *body, pq_sample_fn fn, void *arg)
{
    const msgpack_object *name = NULL, *tags = NULL, *fields = NULL;
    if (body->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        const char *k = kv->key.via.str.ptr;
        size_t kl = kv->key.via.str.size;
        if (kl == 4 && !memcmp(k, "name", 4) && kv->val.type == MSGPACK_OBJECT_STR)
            name = &kv->val;
        else if (kl == 4 && !memcmp(k, "tags", 4) && kv->val.type == MSGPACK_OBJECT_MAP)
            tags = &kv->val;
        else if (kl == 6 && !memcmp(k, "fields", 6) && kv->val.type == MSGPACK_OBJECT_MAP)
            fields = &kv->val;
    }
    if (!name || !fields)
        return -1;
    pq_lset base = {0};
    for (uint32_t i = 0; tags && i < tags->via.map.size; i++) {
        const msgpack_object_kv *kv = &tags->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
            continue;
        char *k = pq_sanitized_name(kv->key.via.str.ptr, kv->key.via.str.size, 0);
        char *v = text(&kv->val);
        if (strcmp(k, "__name__") != 0 && strcmp(k, "le") != 0)
            lset_set(&base, k, v);
        free(k);
        free(v);
    }
    char *metric = pq_sanitized_name(name->via.str.ptr, name->via.str.size, 1);
    int n = 0;
    for (uint32_t i = 0; i < fields->via.map.size; i++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[i];
        double d;
        if (kv->key.type != MSGPACK_OBJECT_STR || !number(&kv->val, &d))
            continue;
        const char *f = kv->key.via.str.ptr;
        size_t fl = kv->key.via.str.size;
        pq_lset l = lset_copy(&base);
        char *series;
        if (fl == 5 && !memcmp(f, "value", 5)) {
            series = sluice_strdup(metric);
        } else if (fl > 7 && !memcmp(f, "bucket_", 7)) {
            char *le = sluice_strndup(f + 7, fl - 7);
            lset_set(&l, "le", le);
            free(le);
            series = sluice_asprintf("%s_bucket", metric);
        } else {
            char *field = pq_sanitized_name(f, fl, 0);
            series = sluice_asprintf("%s_%s", metric, field);
            free(field);
        }
        lset_set(&l, "__name__", series);
        fn(arg, &l, d);
        free(series);
        pq_lset_free(&l);
        n++;
    }
    free(metric);
    pq_lset_free(&base);
    return n;
}

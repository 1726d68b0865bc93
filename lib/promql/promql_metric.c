/* Metric events as Prometheus series (see promql_metric.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "promql_metric.h"
#include "sluice/alloc.h"

/* Write the legal form of [s, s+n) at `out` (room for n + 2) with its
 * NUL; returns its length. */
static size_t
sanitize_into(char *out, const char *s, size_t n, int metric)
{
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
    return o;
}

char *
pq_sanitized_name(const char *s, size_t n, int metric)
{
    char *out = sluice_malloc(n + 2);
    sanitize_into(out, s, n, metric);
    return out;
}

int
pq_number(const msgpack_object *v, double *d)
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

/* A label set being built in a scratch area sized in advance, so that an
 * event costs no allocation per sample (remote write sends a million a
 * second). */
typedef struct scratch {
    char *p;     /* where the next string goes */
    char **kv;   /* name, value, ... sorted by name */
    size_t n;    /* pairs */
} scratch;

static char *
put(scratch *sc, const char *s, size_t n)
{
    char *at = sc->p;
    memcpy(at, s, n);
    at[n] = '\0';
    sc->p += n + 1;
    return at;
}

/* Insert or replace `name` in the sorted pairs [0, n). */
static void
set_pair(char **kv, size_t *n, char *name, char *value)
{
    size_t i = 0;
    while (i < *n && strcmp(kv[2 * i], name) < 0)
        i++;
    if (i < *n && strcmp(kv[2 * i], name) == 0) {
        kv[2 * i + 1] = value;
        return;
    }
    memmove(kv + 2 * i + 2, kv + 2 * i, 2 * (*n - i) * sizeof *kv);
    kv[2 * i] = name;
    kv[2 * i + 1] = value;
    (*n)++;
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
    /* Room: every string with a NUL, a sanitiser's extra _, the suffixes. */
    uint32_t n_tags = tags ? tags->via.map.size : 0;
    size_t room = 2 * name->via.str.size + 16, longest_field = 0;
    for (uint32_t i = 0; i < n_tags; i++)
        if (tags->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
            tags->via.map.ptr[i].val.type == MSGPACK_OBJECT_STR)
            room += tags->via.map.ptr[i].key.via.str.size +
                    tags->via.map.ptr[i].val.via.str.size + 4;
    for (uint32_t i = 0; i < fields->via.map.size; i++)
        if (fields->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
            fields->via.map.ptr[i].key.via.str.size > longest_field)
            longest_field = fields->via.map.ptr[i].key.via.str.size;
    room += name->via.str.size + 2 * longest_field + 32;
    /* kv: the base pairs, then a sample's copy with __name__ and le. */
    char stack_text[2048], *stack_kv[4 * 32 + 4];
    size_t kv_room = 4 * (size_t)n_tags + 4;
    char *text = room <= sizeof stack_text ? stack_text : sluice_malloc(room);
    char **kv = kv_room <= 4 * 32 + 4 ? stack_kv : sluice_malloc(kv_room * sizeof *kv);
    scratch sc = {text, kv, 0};

    for (uint32_t i = 0; i < n_tags; i++) {
        const msgpack_object_kv *t = &tags->via.map.ptr[i];
        if (t->key.type != MSGPACK_OBJECT_STR || t->val.type != MSGPACK_OBJECT_STR ||
            !t->val.via.str.size)
            continue;
        char *k = sc.p;
        sc.p += sanitize_into(k, t->key.via.str.ptr, t->key.via.str.size, 0) + 1;
        if (strcmp(k, "__name__") == 0 || strcmp(k, "le") == 0)
            continue;
        set_pair(kv, &sc.n, k, put(&sc, t->val.via.str.ptr, t->val.via.str.size));
    }
    char *metric = sc.p;
    size_t metric_len = sanitize_into(metric, name->via.str.ptr, name->via.str.size, 1);
    sc.p += metric_len + 1;
    char *fixed = sc.p;
    static char name_label[] = "__name__", le_label[] = "le";
    int n = 0;
    for (uint32_t i = 0; i < fields->via.map.size; i++) {
        const msgpack_object_kv *f = &fields->via.map.ptr[i];
        double d;
        if (f->key.type != MSGPACK_OBJECT_STR || !pq_number(&f->val, &d))
            continue;
        const char *fk = f->key.via.str.ptr;
        size_t fl = f->key.via.str.size;
        /* The base labels, then __name__ (and le) where they sort. */
        sc.p = fixed;
        char **lk = kv + 2 * sc.n;
        size_t ln = sc.n;
        memmove(lk, kv, 2 * sc.n * sizeof *kv);
        char *series = metric;
        if (fl > 7 && !memcmp(fk, "bucket_", 7)) {
            series = put(&sc, metric, metric_len);
            sc.p--;
            put(&sc, "_bucket", 7);
            set_pair(lk, &ln, le_label, put(&sc, fk + 7, fl - 7));
        } else if (!(fl == 5 && !memcmp(fk, "value", 5))) {
            series = put(&sc, metric, metric_len);
            sc.p[-1] = '_';
            sc.p += sanitize_into(sc.p, fk, fl, 0) + 1;
        }
        set_pair(lk, &ln, name_label, series);
        fn(arg, &(pq_lset){lk, ln}, d);
        n++;
    }
    if (text != stack_text)
        free(text);
    if (kv != stack_kv)
        free(kv);
    return n;
}

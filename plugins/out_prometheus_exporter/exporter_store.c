/* The series the exporter serves, from metric events {name, kind, tags,
 * fields}: a histogram event (count, sum, bucket_<le>) is one histogram
 * series; otherwise each numeric field is a series of the event's kind,
 * named `name` for the field `value` and `name_<field>` for others. Tags
 * (and add_labels, which tags override) are the labels. A series keeps the
 * last value it was given, and is forgotten expire_ms after that, so a
 * series that stops coming disappears instead of piling up. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "promql_metric.h"

typedef struct label {
    char *name, *value;
} label;

static px_type
type_of(const msgpack_object *kind)
{
    static const char *const names[] = {"untyped", "counter", "gauge", "histogram"};
    for (int t = 0; kind && t < 4; t++)
        if (kind->via.str.size == strlen(names[t]) &&
            memcmp(kind->via.str.ptr, names[t], kind->via.str.size) == 0)
            return (px_type)t;
    return PX_UNTYPED;
}

static const msgpack_object *
member(const msgpack_object *map, const char *key, msgpack_object_type type)
{
    const msgpack_object *v = sluice_record_get(map, key);
    return v && v->type == type ? v : NULL;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const label *)a)->name, ((const label *)b)->name);
}

/* The labels as written between braces, sorted, each name once. */
static char *
label_text(const px_store *st, const msgpack_object *tags, int histogram)
{
    label *v = NULL;
    size_t n = 0, cap = 0;
    sluice_buf scratch = SLUICE_BUF_INIT;
    for (uint32_t i = 0; tags && i < tags->via.map.size; i++) {
        const msgpack_object_kv *kv = &tags->via.map.ptr[i];
        size_t len;
        const char *value = kv->key.type == MSGPACK_OBJECT_STR
                                ? sluice_json_text(&kv->val, &scratch, &len)
                                : NULL;
        if (!value || !len)
            continue; /* an empty label is no label, as in Prometheus */
        char *name = pq_sanitized_name(kv->key.via.str.ptr, kv->key.via.str.size, 0);
        /* __ starts the names Prometheus reserves; le is a bucket's. */
        if (name[0] == '_' && name[1] == '_')
            memmove(name, name + 1, strlen(name));
        if (histogram && strcmp(name, "le") == 0) {
            free(name);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            v = sluice_realloc(v, cap * sizeof *v);
        }
        v[n++] = (label){name, sluice_strndup(value, len)};
    }
    for (const char *const *a = st->add; a && *a; a += 2) {
        int have = 0;
        for (size_t i = 0; i < n && !have; i++)
            have = strcmp(v[i].name, a[0]) == 0;
        if (have)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            v = sluice_realloc(v, cap * sizeof *v);
        }
        v[n++] = (label){sluice_strdup(a[0]), sluice_strdup(a[1])};
    }
    if (n)
        qsort(v, n, sizeof *v, by_name);
    sluice_buf out = SLUICE_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(v[i].name, v[i - 1].name) == 0)
            continue; /* two tags that sanitise to one name: the first */
        if (out.len)
            sluice_buf_putc(&out, ',');
        sluice_buf_printf(&out, "%s=\"", v[i].name);
        sluice_prom_label_value(&out, v[i].value, strlen(v[i].value));
        sluice_buf_putc(&out, '"');
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
    sluice_buf_free(&scratch);
    sluice_buf_putc(&out, '\0');
    return out.data;
}

/* ==== Families and series ==== */

static px_family *
family(px_store *st, const char *name, px_type type, char *why, size_t whylen)
{
    size_t lo = 0, hi = st->n_fams;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(st->fams[mid]->name, name);
        if (c == 0) {
            if (st->fams[mid]->type == type)
                return st->fams[mid];
            static const char *const names[] = {"untyped", "counter", "gauge", "histogram"};
            snprintf(why, whylen, "%s is a %s already; an event makes it a %s", name,
                     names[st->fams[mid]->type], names[type]);
            return NULL;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    px_family *f = sluice_calloc(1, sizeof *f);
    f->name = sluice_strdup(name);
    f->type = type;
    st->fams = sluice_realloc(st->fams, (st->n_fams + 1) * sizeof *st->fams);
    memmove(st->fams + lo + 1, st->fams + lo, (st->n_fams - lo) * sizeof *st->fams);
    st->fams[lo] = f;
    st->n_fams++;
    return f;
}

static uint64_t
hash(const char *fam, const char *labels)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = fam; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = labels; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static void
grow(px_store *st)
{
    size_t size = st->table_size ? 2 * st->table_size : 1024;
    px_series **t = sluice_calloc(size, sizeof *t);
    for (size_t i = 0; i < st->table_size; i++)
        for (px_series *s = st->table[i], *next; s; s = next) {
            next = s->next;
            s->next = t[s->hash & (size - 1)];
            t[s->hash & (size - 1)] = s;
        }
    free(st->table);
    st->table = t;
    st->table_size = size;
}

static px_series *
series(px_store *st, px_family *f, const char *labels, char *why, size_t whylen)
{
    uint64_t h = hash(f->name, labels);
    for (px_series *s = st->table_size ? st->table[h & (st->table_size - 1)] : NULL; s;
         s = s->next)
        if (s->hash == h && s->fam == f && strcmp(s->labels, labels) == 0)
            return s;
    if (st->n_series >= st->max_series) {
        snprintf(why, whylen, "max_series (%zu) reached: %s{%s} refused", st->max_series,
                 f->name, labels);
        return NULL;
    }
    if (st->n_series >= st->table_size)
        grow(st);
    px_series *s = sluice_calloc(1, sizeof *s);
    s->fam = f;
    s->labels = sluice_strdup(labels);
    s->hash = h;
    s->next = st->table[h & (st->table_size - 1)];
    st->table[h & (st->table_size - 1)] = s;
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 8;
        f->series = sluice_realloc(f->series, f->cap * sizeof *f->series);
    }
    s->index = f->n;
    f->series[f->n++] = s;
    st->n_series++;
    return s;
}

static int
by_le(const void *a, const void *b)
{
    double x = ((const px_bucket *)a)->le, y = ((const px_bucket *)b)->le;
    return x < y ? -1 : x > y;
}

/* A histogram event's count, sum and bucket_<le> fields into `s`; the +Inf
 * bucket is the count. */
static void
set_histogram(px_series *s, const msgpack_object *fields)
{
    s->n_buckets = 0;
    s->value = s->count = 0;
    free(s->buckets);
    s->buckets = sluice_calloc(fields->via.map.size + 1, sizeof *s->buckets);
    for (uint32_t i = 0; i < fields->via.map.size; i++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[i];
        double d;
        if (kv->key.type != MSGPACK_OBJECT_STR || !pq_number(&kv->val, &d))
            continue;
        const char *k = kv->key.via.str.ptr;
        size_t kl = kv->key.via.str.size;
        if (kl == 5 && memcmp(k, "count", 5) == 0) {
            s->count = d;
        } else if (kl == 3 && memcmp(k, "sum", 3) == 0) {
            s->value = d;
        } else if (kl > 7 && kl < 64 && memcmp(k, "bucket_", 7) == 0) {
            char le[64];
            memcpy(le, k + 7, kl - 7);
            le[kl - 7] = '\0';
            char *end;
            double bound = strtod(le, &end);
            if (*end || isnan(bound) || isinf(bound))
                continue; /* +Inf is the count, below */
            s->buckets[s->n_buckets++] = (px_bucket){bound, d};
        }
    }
    qsort(s->buckets, s->n_buckets, sizeof *s->buckets, by_le);
    s->buckets[s->n_buckets++] = (px_bucket){INFINITY, s->count};
}

int
px_store_absorb(px_store *st, const msgpack_object *body, sluice_time_t time, int64_t now,
                char *why, size_t whylen)
{
    const msgpack_object *name = member(body, "name", MSGPACK_OBJECT_STR);
    const msgpack_object *fields = member(body, "fields", MSGPACK_OBJECT_MAP);
    if (!name || !fields) {
        snprintf(why, whylen, "not a metric event: no `name` and `fields`");
        return -1;
    }
    px_type type = type_of(member(body, "kind", MSGPACK_OBJECT_STR));
    char *labels = label_text(st, member(body, "tags", MSGPACK_OBJECT_MAP), type == PX_HISTOGRAM);
    char *metric = pq_sanitized_name(name->via.str.ptr, name->via.str.size, 1);
    int stored = 0, refused = 0;
    if (type == PX_HISTOGRAM) {
        px_family *f = family(st, metric, type, st->why_refused, sizeof st->why_refused);
        px_series *s = f ? series(st, f, labels, st->why_refused, sizeof st->why_refused) : NULL;
        if (s) {
            set_histogram(s, fields);
            s->updated = now;
            s->time = time / SLUICE_NSEC_PER_MSEC;
            stored++;
        } else {
            refused++;
        }
    }
    for (uint32_t i = 0; type != PX_HISTOGRAM && i < fields->via.map.size; i++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[i];
        double d;
        if (kv->key.type != MSGPACK_OBJECT_STR || !pq_number(&kv->val, &d))
            continue;
        char *fname;
        if (kv->key.via.str.size == 5 && memcmp(kv->key.via.str.ptr, "value", 5) == 0) {
            fname = sluice_strdup(metric);
        } else {
            char *field = pq_sanitized_name(kv->key.via.str.ptr, kv->key.via.str.size, 0);
            fname = sluice_asprintf("%s_%s", metric, field);
            free(field);
        }
        px_family *f = family(st, fname, type, st->why_refused, sizeof st->why_refused);
        px_series *s = f ? series(st, f, labels, st->why_refused, sizeof st->why_refused) : NULL;
        free(fname);
        if (!s) {
            refused++;
            continue;
        }
        s->value = d;
        s->updated = now;
        s->time = time / SLUICE_NSEC_PER_MSEC;
        stored++;
    }
    st->refused += (uint64_t)refused;
    free(metric);
    free(labels);
    return stored;
}

/* ==== Expiry ==== */

static void
series_free(px_series *s)
{
    free(s->labels);
    free(s->buckets);
    free(s);
}

void
px_store_expire(px_store *st, int64_t now)
{
    if (!st->expire_ms)
        return;
    for (size_t i = 0; i < st->table_size; i++) {
        px_series **link = &st->table[i];
        while (*link) {
            px_series *s = *link;
            if (now - s->updated < st->expire_ms) {
                link = &s->next;
                continue;
            }
            *link = s->next;
            px_family *f = s->fam;
            f->series[s->index] = f->series[--f->n];
            f->series[s->index]->index = s->index;
            series_free(s);
            st->n_series--;
            st->expired++;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < st->n_fams; i++) {
        if (st->fams[i]->n) {
            st->fams[k++] = st->fams[i];
            continue;
        }
        free(st->fams[i]->series);
        free(st->fams[i]->name);
        free(st->fams[i]);
    }
    st->n_fams = k;
}

void
px_store_free(px_store *st)
{
    for (size_t i = 0; i < st->table_size; i++)
        for (px_series *s = st->table[i], *next; s; s = next) {
            next = s->next;
            series_free(s);
        }
    for (size_t i = 0; i < st->n_fams; i++) {
        free(st->fams[i]->series);
        free(st->fams[i]->name);
        free(st->fams[i]);
    }
    free(st->fams);
    free(st->table);
    memset(st, 0, sizeof *st);
}

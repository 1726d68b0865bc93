/* The StatsD aggregation store (see statsd_agg.h). */
#include "statsd_agg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include <sluice/event.h>
#include <sluice/format.h>
#include <sluice/timefmt.h>

/* ==== Series ==== */

typedef struct timing {
    double count, sum, min, max, mean, m2; /* weighted by 1/rate; Welford */
    uint64_t seen;                         /* samples offered to the reservoir */
    double *samples;                       /* summary: the reservoir */
    uint32_t n_samples, cap;
    double *buckets; /* histogram: per bucket, n_buckets + 1 (the last is +Inf) */
} timing;

typedef struct set {
    uint64_t *slots; /* member hashes, 0 = empty */
    uint32_t cap, n;
} set;

typedef struct series {
    uint64_t hash;
    sluice_time_t last_seen; /* the flush that closed its last updated interval */
    uint32_t index;          /* in statsd_agg.all */
    uint32_t key_len;
    uint8_t type;
    uint8_t updated; /* got a sample this interval */
    union {
        double value; /* counters, gauges */
        timing t;
        set s;
    } u;
    char key[]; /* type, then (u32 len, bytes) for the name and each tag key and value */
} series;

typedef struct slot {
    uint64_t hash;
    series *s; /* NULL: empty */
} slot;

struct statsd_agg {
    const statsd_agg_config *cfg;
    slot *table;
    size_t cap; /* power of two */
    series **all;
    size_t n, all_cap;
    uint64_t rng;
    uint64_t seed; /* of the hashes: senders cannot aim at one slot */
    statsd_agg_stats stats;
    char (*pct_names)[40];
    size_t *pct_name_len;
};

/* ==== Hashing ==== */

static inline uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

/* One span into a running hash (not finished: see mix). */
static inline uint64_t
hash_step(uint64_t h, const char *p, size_t n)
{
    h = (h ^ n) * UINT64_C(0x9e3779b97f4a7c15);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
    }
    return h;
}

static uint64_t
hash_bytes(const char *p, size_t n, uint64_t seed)
{
    return mix(hash_step(seed, p, n));
}

/* ==== The table ==== */

static void
table_put(slot *table, size_t cap, uint64_t hash, series *s)
{
    size_t i = (size_t)hash & (cap - 1);
    while (table[i].s)
        i = (i + 1) & (cap - 1);
    table[i] = (slot){hash, s};
}

static void
table_grow(statsd_agg *a)
{
    size_t cap = a->cap ? a->cap * 2 : 64;
    slot *t = sluice_calloc(cap, sizeof *t);
    for (size_t i = 0; i < a->cap; i++)
        if (a->table[i].s)
            table_put(t, cap, a->table[i].hash, a->table[i].s);
    free(a->table);
    a->table = t;
    a->cap = cap;
}

/* Linear probing's deletion: shift back the entries that probed past. */
static void
table_remove(statsd_agg *a, const series *s)
{
    size_t mask = a->cap - 1, i = (size_t)s->hash & mask;
    while (a->table[i].s != s)
        i = (i + 1) & mask;
    size_t j = i;
    for (;;) {
        a->table[i].s = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!a->table[j].s)
                return;
            size_t home = (size_t)a->table[j].hash & mask;
            /* Stays if its home lies cyclically in (i, j]. */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        a->table[i] = a->table[j];
        i = j;
    }
}

/* ==== Keys ==== */

static size_t
key_put(char *k, size_t off, const char *p, size_t n)
{
    uint32_t len = (uint32_t)n;
    memcpy(k + off, &len, sizeof len);
    memcpy(k + off + sizeof len, p, n);
    return off + sizeof len + n;
}

static size_t
key_len(const statsd_line *line)
{
    size_t n = 1 + 4 + line->name.n;
    for (size_t i = 0; i < line->n_tags; i++)
        n += 8 + line->tags[i].key.n + line->tags[i].value.n;
    return n;
}

/* The next (len, bytes) of a key at *off. */
static sd_span
key_next(const series *s, size_t *off)
{
    uint32_t len;
    memcpy(&len, s->key + *off, sizeof len);
    sd_span sp = {s->key + *off + sizeof len, len};
    *off += sizeof len + len;
    return sp;
}

static int
key_span_eq(const series *s, size_t *off, sd_span want)
{
    uint32_t len;
    memcpy(&len, s->key + *off, sizeof len);
    if (len != want.n || memcmp(s->key + *off + sizeof len, want.p, want.n) != 0)
        return 0;
    *off += sizeof len + len;
    return 1;
}

/* Whether series `s` is the line's name and tags as `type`. */
static int
key_matches(const series *s, const statsd_line *line, int type, size_t len)
{
    if (s->type != type || s->key_len != len)
        return 0;
    size_t off = 1;
    if (!key_span_eq(s, &off, line->name))
        return 0;
    for (size_t i = 0; i < line->n_tags; i++)
        if (!key_span_eq(s, &off, line->tags[i].key) || !key_span_eq(s, &off, line->tags[i].value))
            return 0;
    return 1;
}

/* The hash of a line's name and tags, and of that as one type. */
static uint64_t
line_hash(const statsd_agg *a, const statsd_line *line)
{
    uint64_t h = hash_step(a->seed, line->name.p, line->name.n);
    for (size_t i = 0; i < line->n_tags; i++) {
        h = hash_step(h, line->tags[i].key.p, line->tags[i].key.n);
        h = hash_step(h, line->tags[i].value.p, line->tags[i].value.n);
    }
    return h; /* typed_hash finishes it */
}

static inline uint64_t
typed_hash(uint64_t base, int type)
{
    return mix(base + (uint64_t)(type + 1) * UINT64_C(0x9e3779b97f4a7c15));
}

/* The series of the line's name and tags as `type` (hash h, key length
 * len), made if new and max_series allows; NULL if refused. */
static series *
lookup(statsd_agg *a, const statsd_line *line, int type, uint64_t h, size_t len)
{
    if (a->cap) {
        size_t mask = a->cap - 1;
        for (size_t i = (size_t)h & mask; a->table[i].s; i = (i + 1) & mask)
            if (a->table[i].hash == h && key_matches(a->table[i].s, line, type, len))
                return a->table[i].s;
    }
    if (a->n >= a->cfg->max_series) {
        a->stats.series_refused++;
        return NULL;
    }
    if ((a->n + 1) * 2 > a->cap)
        table_grow(a);
    series *s = sluice_calloc(1, sizeof *s + len);
    s->hash = h;
    s->key_len = (uint32_t)len;
    s->type = (uint8_t)type;
    s->key[0] = (char)type;
    size_t off = key_put(s->key, 1, line->name.p, line->name.n);
    for (size_t i = 0; i < line->n_tags; i++) {
        off = key_put(s->key, off, line->tags[i].key.p, line->tags[i].key.n);
        off = key_put(s->key, off, line->tags[i].value.p, line->tags[i].value.n);
    }
    if (s->type == STATSD_TIMER) {
        s->u.t.min = INFINITY;
        s->u.t.max = -INFINITY;
        if (a->cfg->timer_histogram)
            s->u.t.buckets = sluice_calloc(a->cfg->n_buckets + 1, sizeof(double));
    }
    table_put(a->table, a->cap, h, s);
    if (a->n == a->all_cap) {
        a->all_cap = a->all_cap ? a->all_cap * 2 : 64;
        a->all = sluice_realloc(a->all, a->all_cap * sizeof *a->all);
    }
    s->index = (uint32_t)a->n;
    a->all[a->n++] = s;
    a->stats.series = a->n;
    return s;
}

static void
series_free(series *s)
{
    if (s->type == STATSD_TIMER) {
        free(s->u.t.samples);
        free(s->u.t.buckets);
    } else if (s->type == STATSD_SET) {
        free(s->u.s.slots);
    }
    free(s);
}

static void
forget(statsd_agg *a, series *s)
{
    table_remove(a, s);
    series *last = a->all[--a->n];
    a->all[s->index] = last;
    last->index = s->index;
    a->stats.series = a->n;
    series_free(s);
}

/* ==== Samples ==== */

static uint64_t
next_random(statsd_agg *a)
{
    uint64_t x = a->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return a->rng = x;
}

static void
add_timing(statsd_agg *a, timing *t, double x, double rate)
{
    double w = 1 / rate;
    t->count += w;
    t->sum += w * x;
    if (x < t->min)
        t->min = x;
    if (x > t->max)
        t->max = x;
    double d = x - t->mean;
    t->mean += d * w / t->count;
    t->m2 += w * d * (x - t->mean);
    if (t->buckets) {
        size_t lo = 0, hi = a->cfg->n_buckets;
        while (lo < hi) { /* the first bound >= x */
            size_t mid = (lo + hi) / 2;
            if (a->cfg->buckets[mid] < x)
                lo = mid + 1;
            else
                hi = mid;
        }
        t->buckets[lo] += w;
        return;
    }
    /* Reservoir sampling (Vitter's algorithm R). */
    t->seen++;
    if (t->n_samples < a->cfg->max_timer_samples) {
        if (t->n_samples == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 8;
            if (t->cap > a->cfg->max_timer_samples)
                t->cap = (uint32_t)a->cfg->max_timer_samples;
            t->samples = sluice_realloc(t->samples, t->cap * sizeof *t->samples);
        }
        t->samples[t->n_samples++] = x;
        return;
    }
    uint64_t j = next_random(a) % t->seen;
    if (j < t->n_samples)
        t->samples[j] = x;
}

static void
set_insert(statsd_agg *a, set *st, sd_span member)
{
    uint64_t h = hash_bytes(member.p, member.n, a->seed ^ UINT64_C(0x5e7));
    if (h == 0)
        h = 1;
    if (st->cap) {
        for (uint32_t i = (uint32_t)h & (st->cap - 1); st->slots[i]; i = (i + 1) & (st->cap - 1))
            if (st->slots[i] == h)
                return;
    }
    if (st->n >= a->cfg->max_set_values) {
        a->stats.set_values_refused++;
        return;
    }
    if ((st->n + 1) * 2 > st->cap) {
        uint32_t cap = st->cap ? st->cap * 2 : 8;
        uint64_t *slots = sluice_calloc(cap, sizeof *slots);
        for (uint32_t i = 0; i < st->cap; i++) {
            if (!st->slots[i])
                continue;
            uint32_t k = (uint32_t)st->slots[i] & (cap - 1);
            while (slots[k])
                k = (k + 1) & (cap - 1);
            slots[k] = st->slots[i];
        }
        free(st->slots);
        st->slots = slots;
        st->cap = cap;
    }
    uint32_t i = (uint32_t)h & (st->cap - 1);
    while (st->slots[i])
        i = (i + 1) & (st->cap - 1);
    st->slots[i] = h;
    st->n++;
}

/* Every value of one line; `base` is line_hash(a, line). */
static size_t
add_line(statsd_agg *a, const statsd_line *line, uint64_t base)
{
    size_t len = key_len(line), refused = 0;
    series *s = NULL;
    for (size_t i = 0; i < line->n_values; i++) {
        const statsd_value *v = &line->values[i];
        if (!s || s->type != v->type) {
            s = lookup(a, line, (int)v->type, typed_hash(base, (int)v->type), len);
            if (!s) {
                refused++;
                continue;
            }
        }
        s->updated = 1;
        a->stats.samples++;
        switch (v->type) {
        case STATSD_COUNTER:
            s->u.value += v->value / v->rate;
            break;
        case STATSD_GAUGE:
            s->u.value = v->delta ? s->u.value + v->value : v->value;
            break;
        case STATSD_TIMER:
            add_timing(a, &s->u.t, v->value, v->rate);
            break;
        case STATSD_SET:
            set_insert(a, &s->u.s, v->text);
            break;
        default:
            break;
        }
    }
    return refused;
}

size_t
statsd_agg_add(statsd_agg *a, const statsd_line *line)
{
    return add_line(a, line, line_hash(a, line));
}

/* With many series, the table's slots and the series are rarely in the
 * cache: hash every line first and prefetch its slot, then its series,
 * so that the misses overlap instead of following one another. */
size_t
statsd_agg_add_batch(statsd_agg *a, const statsd_line *lines, size_t n)
{
    uint64_t base[STATSD_AGG_BATCH];
    size_t refused = 0;
    if (n > STATSD_AGG_BATCH) {
        for (size_t i = 0; i < n; i += STATSD_AGG_BATCH)
            refused += statsd_agg_add_batch(a, lines + i,
                                            n - i < STATSD_AGG_BATCH ? n - i : STATSD_AGG_BATCH);
        return refused;
    }
    size_t mask = a->cap ? a->cap - 1 : 0;
    for (size_t i = 0; i < n; i++) {
        base[i] = line_hash(a, &lines[i]);
        if (a->cap && lines[i].n_values)
            __builtin_prefetch(&a->table[typed_hash(base[i], (int)lines[i].values[0].type) & mask]);
    }
    for (size_t i = 0; a->cap && i < n; i++) {
        if (!lines[i].n_values)
            continue;
        uint64_t h = typed_hash(base[i], (int)lines[i].values[0].type);
        const slot *sl = &a->table[h & mask];
        if (sl->s && sl->hash == h) {
            __builtin_prefetch(sl->s);
            __builtin_prefetch((const char *)sl->s + 64);
        }
    }
    for (size_t i = 0; i < n; i++)
        refused += add_line(a, &lines[i], base[i]);
    return refused;
}

/* ==== Flushing ==== */

#define PACK_LIT(pk, lit) sluice_pack_str(pk, lit, sizeof lit - 1)

/* Integral values as integers ("value": 3 rather than 3.0). */
static void
pack_number(msgpack_packer *pk, double d)
{
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        msgpack_pack_int64(pk, (int64_t)d);
    else
        msgpack_pack_double(pk, d);
}

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void
pack_tags(statsd_agg *a, msgpack_packer *pk, const series *s, size_t off)
{
    size_t n = 0, o = off;
    while (o < s->key_len) {
        key_next(s, &o);
        key_next(s, &o);
        n++;
    }
    size_t extra = 0;
    char *const *add = a->cfg->add_tags;
    for (size_t i = 0; add && add[i]; i += 2) {
        int present = 0;
        size_t kl = strlen(add[i]);
        for (o = off; o < s->key_len;) {
            sd_span k = key_next(s, &o);
            key_next(s, &o);
            if (k.n == kl && memcmp(k.p, add[i], kl) == 0)
                present = 1;
        }
        extra += !present;
    }
    msgpack_pack_map(pk, (uint32_t)(n + extra));
    for (o = off; o < s->key_len;) {
        sd_span k = key_next(s, &o), v = key_next(s, &o);
        sluice_pack_str(pk, k.p, k.n);
        sluice_pack_str(pk, v.p, v.n);
    }
    for (size_t i = 0; add && add[i]; i += 2) {
        int present = 0;
        size_t kl = strlen(add[i]);
        for (o = off; o < s->key_len;) {
            sd_span k = key_next(s, &o);
            key_next(s, &o);
            if (k.n == kl && memcmp(k.p, add[i], kl) == 0)
                present = 1;
        }
        if (!present) {
            sluice_pack_cstr(pk, add[i]);
            sluice_pack_cstr(pk, add[i + 1]);
        }
    }
}

static void
pack_summary(statsd_agg *a, msgpack_packer *pk, timing *t)
{
    if (t->count == 0 || t->n_samples == 0) { /* nothing yet */
        msgpack_pack_map(pk, 2);
        PACK_LIT(pk, "count");
        msgpack_pack_int64(pk, 0);
        PACK_LIT(pk, "sum");
        msgpack_pack_int64(pk, 0);
        return;
    }
    msgpack_pack_map(pk, 7 + (uint32_t)a->cfg->n_percentiles);
    PACK_LIT(pk, "count");
    pack_number(pk, t->count);
    PACK_LIT(pk, "sum");
    pack_number(pk, t->sum);
    PACK_LIT(pk, "lower");
    pack_number(pk, t->min);
    PACK_LIT(pk, "upper");
    pack_number(pk, t->max);
    PACK_LIT(pk, "mean");
    pack_number(pk, t->mean);
    PACK_LIT(pk, "stddev");
    pack_number(pk, t->m2 > 0 ? sqrt(t->m2 / t->count) : 0);
    qsort(t->samples, t->n_samples, sizeof *t->samples, cmp_double);
    uint32_t n = t->n_samples;
    PACK_LIT(pk, "median");
    pack_number(pk, n % 2 ? t->samples[n / 2] : (t->samples[n / 2 - 1] + t->samples[n / 2]) / 2);
    for (size_t i = 0; i < a->cfg->n_percentiles; i++) {
        /* Nearest rank: the smallest sample with at least p% at or below. */
        double rank = ceil(a->cfg->percentiles[i] / 100 * n);
        size_t k = rank < 1 ? 0 : (size_t)rank - 1;
        if (k >= n)
            k = n - 1;
        sluice_pack_str(pk, a->pct_names[i], a->pct_name_len[i]);
        pack_number(pk, t->samples[k]);
    }
}

static void
pack_histogram(statsd_agg *a, msgpack_packer *pk, const timing *t)
{
    msgpack_pack_map(pk, 3 + (uint32_t)a->cfg->n_buckets);
    PACK_LIT(pk, "count");
    pack_number(pk, t->count);
    PACK_LIT(pk, "sum");
    pack_number(pk, t->sum);
    double cumulative = 0;
    for (size_t b = 0; b <= a->cfg->n_buckets; b++) {
        char key[48] = "bucket_+Inf";
        int n = 11;
        if (b < a->cfg->n_buckets)
            n = 7 + sluice_double_text(a->cfg->buckets[b], key + 7);
        cumulative += t->buckets[b];
        sluice_pack_str(pk, key, (size_t)n);
        pack_number(pk, cumulative);
    }
}

static void
emit(statsd_agg *a, series *s, sluice_time_t now, const statsd_sink *sink)
{
    msgpack_packer *pk = sink->begin(sink->arg, now);
    size_t off = 1;
    sd_span name = key_next(s, &off);
    msgpack_pack_map(pk, 4);
    PACK_LIT(pk, "name");
    sluice_pack_str(pk, name.p, name.n);
    PACK_LIT(pk, "kind");
    if (s->type == STATSD_COUNTER)
        PACK_LIT(pk, "counter");
    else if (s->type == STATSD_TIMER && a->cfg->timer_histogram)
        PACK_LIT(pk, "histogram");
    else
        PACK_LIT(pk, "gauge");
    PACK_LIT(pk, "tags");
    pack_tags(a, pk, s, off);
    PACK_LIT(pk, "fields");
    if (s->type == STATSD_TIMER) {
        if (a->cfg->timer_histogram)
            pack_histogram(a, pk, &s->u.t);
        else
            pack_summary(a, pk, &s->u.t);
    } else {
        msgpack_pack_map(pk, 1);
        PACK_LIT(pk, "value");
        if (s->type == STATSD_SET)
            msgpack_pack_uint32(pk, s->u.s.n);
        else
            pack_number(pk, s->u.value);
    }
    sink->end(sink->arg);
}

static int
deletes(const statsd_agg_config *c, int type)
{
    switch (type) {
    case STATSD_COUNTER: return c->delete_counters;
    case STATSD_GAUGE: return c->delete_gauges;
    case STATSD_TIMER: return c->delete_timings;
    default: return c->delete_sets;
    }
}

/* What is kept of an idle series with delete_<kind>: true. Cumulative
 * counters and histograms keep counting (Prometheus would see a reset
 * otherwise) until expire_after; the rest start afresh. */
static int
keeps_when_idle(const statsd_agg_config *c, int type)
{
    return (type == STATSD_COUNTER && !c->counters_delta) ||
           (type == STATSD_TIMER && c->timer_histogram);
}

/* The interval's state, once emitted. */
static void
reset(statsd_agg *a, series *s)
{
    const statsd_agg_config *c = a->cfg;
    if (s->type == STATSD_COUNTER && c->counters_delta) {
        s->u.value = 0;
    } else if (s->type == STATSD_SET && c->delete_sets) {
        if (s->u.s.n) {
            memset(s->u.s.slots, 0, s->u.s.cap * sizeof *s->u.s.slots);
            s->u.s.n = 0;
        }
    } else if (s->type == STATSD_TIMER && !c->timer_histogram && c->delete_timings) {
        timing *t = &s->u.t;
        t->count = t->sum = t->mean = t->m2 = 0;
        t->min = INFINITY;
        t->max = -INFINITY;
        t->seen = 0;
        t->n_samples = 0;
    }
}

size_t
statsd_agg_flush(statsd_agg *a, sluice_time_t now, const statsd_sink *sink)
{
    const statsd_agg_config *c = a->cfg;
    size_t emitted = 0;
    for (size_t i = 0; i < a->n;) {
        series *s = a->all[i];
        int del = deletes(c, s->type);
        int idle = !s->updated;
        if (!idle)
            s->last_seen = now;
        int expired = idle && c->expire_after > 0 && now - s->last_seen >= c->expire_after;
        if (!expired && (!idle || !del)) {
            emit(a, s, now, sink);
            emitted++;
        }
        s->updated = 0;
        reset(a, s);
        if (expired || (idle && del && !keeps_when_idle(c, s->type)))
            forget(a, s); /* the last series moves to i: look at it next */
        else
            i++;
    }
    return emitted;
}

const statsd_agg_stats *
statsd_agg_stats_get(const statsd_agg *a)
{
    return &a->stats;
}

statsd_agg *
statsd_agg_new(const statsd_agg_config *cfg)
{
    statsd_agg *a = sluice_calloc(1, sizeof *a);
    a->cfg = cfg;
    a->rng = UINT64_C(0x2545f4914f6cdd1d);
    a->seed = mix((uint64_t)sluice_time_now() ^ (uint64_t)(uintptr_t)a);
    a->pct_names = sluice_calloc(cfg->n_percentiles + 1, sizeof *a->pct_names);
    a->pct_name_len = sluice_calloc(cfg->n_percentiles + 1, sizeof *a->pct_name_len);
    for (size_t i = 0; i < cfg->n_percentiles; i++) {
        char *k = a->pct_names[i];
        k[0] = 'p';
        int n = 1 + sluice_double_text(cfg->percentiles[i], k + 1);
        for (int j = 1; j < n; j++)
            if (k[j] == '.')
                k[j] = '_';
        a->pct_name_len[i] = (size_t)n;
    }
    return a;
}

void
statsd_agg_free(statsd_agg *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        series_free(a->all[i]);
    free(a->all);
    free(a->table);
    free(a->pct_names);
    free(a->pct_name_len);
    free(a);
}

/* The running totals that turn OTLP delta sums and histograms into the
 * cumulative series Prometheus and the rest of sluice expect: a hash table
 * of series (name, kind and tags, packed) under one mutex, bounded by
 * `max_series`; series idle for `expire_after` are swept out when room is
 * needed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include <sluice/timefmt.h>

#include "otlp_internal.h"

typedef struct series {
    struct series *next;
    uint64_t hash;
    sluice_time_t updated;
    double sum;
    uint64_t count;
    size_t n_bounds;
    double *bounds;   /* histograms: n_bounds */
    uint64_t *counts; /* histograms: n_bounds + 1 */
    size_t klen;
    char key[];
} series;

struct otlp_delta {
    pthread_mutex_t lock;
    series **slots;
    size_t n_slots, n, max;
    int64_t expire_after;
};

static uint64_t
fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return h;
}

otlp_delta *
otlp_delta_new(size_t max_series, int64_t expire_after)
{
    otlp_delta *d = sluice_calloc(1, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    d->max = max_series;
    d->expire_after = expire_after;
    d->n_slots = 1024;
    d->slots = sluice_calloc(d->n_slots, sizeof *d->slots);
    return d;
}

static void
series_free(series *s)
{
    free(s->bounds);
    free(s->counts);
    free(s);
}

void
otlp_delta_free(otlp_delta *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n_slots; i++)
        while (d->slots[i]) {
            series *next = d->slots[i]->next;
            series_free(d->slots[i]);
            d->slots[i] = next;
        }
    free(d->slots);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

size_t
otlp_delta_size(otlp_delta *d)
{
    pthread_mutex_lock(&d->lock);
    size_t n = d->n;
    pthread_mutex_unlock(&d->lock);
    return n;
}

static void
sweep(otlp_delta *d, sluice_time_t now)
{
    for (size_t i = 0; i < d->n_slots; i++)
        for (series **p = &d->slots[i]; *p;) {
            if (now - (*p)->updated > d->expire_after) {
                series *s = *p;
                *p = s->next;
                series_free(s);
                d->n--;
            } else {
                p = &(*p)->next;
            }
        }
}

static void
grow(otlp_delta *d)
{
    size_t n_slots = d->n_slots * 2;
    series **slots = sluice_calloc(n_slots, sizeof *slots);
    for (size_t i = 0; i < d->n_slots; i++)
        while (d->slots[i]) {
            series *s = d->slots[i];
            d->slots[i] = s->next;
            s->next = slots[s->hash & (n_slots - 1)];
            slots[s->hash & (n_slots - 1)] = s;
        }
    free(d->slots);
    d->slots = slots;
    d->n_slots = n_slots;
}

/* The series of `key`, made (zeroed, *fresh set) if new; NULL when full.
 * Called locked. */
static series *
find(otlp_delta *d, const char *key, size_t klen, sluice_time_t now, int *fresh)
{
    uint64_t h = fnv1a(key, klen);
    *fresh = 0;
    for (series *s = d->slots[h & (d->n_slots - 1)]; s; s = s->next)
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    if (d->n >= d->max) sweep(d, now);
    if (d->n >= d->max) return NULL;
    if (d->n >= d->n_slots) grow(d);
    series *s = sluice_calloc(1, sizeof *s + klen);
    s->hash = h;
    s->klen = klen;
    memcpy(s->key, key, klen);
    s->next = d->slots[h & (d->n_slots - 1)];
    d->slots[h & (d->n_slots - 1)] = s;
    d->n++;
    *fresh = 1;
    return s;
}

int
otlp_delta_sum(otlp_delta *d, const char *key, size_t klen, double delta, double *total)
{
    sluice_time_t now = sluice_time_now();
    int fresh;
    pthread_mutex_lock(&d->lock);
    series *s = find(d, key, klen, now, &fresh);
    if (s) {
        s->sum += delta;
        s->updated = now;
        *total = s->sum;
    }
    pthread_mutex_unlock(&d->lock);
    return s ? 0 : -1;
}

int
otlp_delta_histogram(otlp_delta *d, const char *key, size_t klen, size_t n_bounds,
                     const double *bounds, uint64_t *count, double *sum, uint64_t *buckets)
{
    sluice_time_t now = sluice_time_now();
    int fresh;
    pthread_mutex_lock(&d->lock);
    series *s = find(d, key, klen, now, &fresh);
    if (s) {
        if (fresh || s->n_bounds != n_bounds ||
            (n_bounds && memcmp(s->bounds, bounds, n_bounds * sizeof *bounds) != 0)) {
            free(s->bounds);
            free(s->counts);
            s->n_bounds = n_bounds;
            s->bounds = sluice_malloc((n_bounds ? n_bounds : 1) * sizeof *bounds);
            if (n_bounds) memcpy(s->bounds, bounds, n_bounds * sizeof *bounds);
            s->counts = sluice_calloc(n_bounds + 1, sizeof *s->counts);
            s->count = 0;
            s->sum = 0;
        }
        s->count += *count;
        s->sum += *sum;
        for (size_t i = 0; i <= n_bounds; i++)
            buckets[i] = s->counts[i] += buckets[i];
        *count = s->count;
        *sum = s->sum;
        s->updated = now;
    }
    pthread_mutex_unlock(&d->lock);
    return s ? 0 : -1;
}

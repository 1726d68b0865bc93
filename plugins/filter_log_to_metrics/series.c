/* An open-addressing hash of series (see series.h). */
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include "series.h"

static uint64_t
hash(uint32_t metric, const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u ^ metric; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3u;
    }
    return h;
}

void
series_table_init(series_table *t)
{
    memset(t, 0, sizeof *t);
}

static int
same(const series *s, uint32_t metric, const char *key, size_t len)
{
    return s->metric == metric && s->key_len == len && memcmp(s->key, key, len) == 0;
}

series *
series_find(series_table *t, uint32_t metric, const char *key, size_t len)
{
    if (!t->n_slots)
        return NULL;
    size_t mask = t->n_slots - 1;
    for (size_t i = hash(metric, key, len) & mask;; i = (i + 1) & mask) {
        uint32_t slot = t->slots[i];
        if (!slot)
            return NULL;
        if (same(&t->v[slot - 1], metric, key, len))
            return &t->v[slot - 1];
    }
}

static void
place(series_table *t, uint32_t index)
{
    const series *s = &t->v[index];
    size_t mask = t->n_slots - 1;
    size_t i = hash(s->metric, s->key, s->key_len) & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = index + 1;
}

series *
series_add(series_table *t, uint32_t metric, const char *key, size_t len, size_t n_buckets)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = sluice_realloc(t->v, t->cap * sizeof *t->v);
        if (!t->v)
            abort();
    }
    /* Keep the table at most half full. */
    if ((t->n + 1) * 2 > t->n_slots) {
        free(t->slots);
        t->n_slots = t->n_slots ? t->n_slots * 2 : 32;
        t->slots = sluice_calloc(t->n_slots, sizeof *t->slots);
        if (!t->slots)
            abort();
        for (size_t i = 0; i < t->n; i++)
            place(t, (uint32_t)i);
    }
    series *s = &t->v[t->n];
    memset(s, 0, sizeof *s);
    s->metric = metric;
    s->key = sluice_malloc(len ? len : 1);
    if (!s->key)
        abort();
    memcpy(s->key, key, len);
    s->key_len = len;
    if (n_buckets && !(s->buckets = sluice_calloc(n_buckets, sizeof *s->buckets)))
        abort();
    place(t, (uint32_t)t->n++);
    return s;
}

void
series_table_retain(series_table *t, int (*keep)(const series *s, void *arg), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (keep(&t->v[i], arg)) {
            t->v[n++] = t->v[i];
        } else {
            free(t->v[i].key);
            free(t->v[i].buckets);
        }
    }
    if (n == t->n)
        return;
    t->n = n;
    memset(t->slots, 0, t->n_slots * sizeof *t->slots);
    for (size_t i = 0; i < t->n; i++)
        place(t, (uint32_t)i);
}

void
series_table_free(series_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].buckets);
    }
    free(t->v);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

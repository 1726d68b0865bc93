/* The series a log_to_metrics filter keeps: one per metric and distinct
 * label values, found by a hash of both, and kept in creation order so that
 * every flush emits them in the same order. */
#ifndef SLUICE_L2M_SERIES_H
#define SLUICE_L2M_SERIES_H

#include <stddef.h>
#include <stdint.h>

typedef struct series {
    uint32_t metric;  /* index of its definition */
    char *key;        /* label values, each as a uint32 length and its bytes */
    size_t key_len;
    uint64_t count;   /* observations */
    double value;     /* counter: total; gauge: last; histogram: sum */
    uint64_t *buckets; /* histogram: observations per bucket (not cumulative), +Inf last */
    int64_t last_seen;  /* ns, the last observation */
} series;

typedef struct series_table {
    series *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1 into v; 0 = empty */
    size_t n_slots;
} series_table;

void series_table_init(series_table *t);
/* The series of `metric` with label values `key`, or NULL if absent. */
series *series_find(series_table *t, uint32_t metric, const char *key, size_t key_len);
/* Add it (absent): `n_buckets` counters for a histogram, else 0. */
series *series_add(series_table *t, uint32_t metric, const char *key, size_t key_len,
                   size_t n_buckets);
/* Drop the series `keep` says no to (keeping the order of the rest). */
void series_table_retain(series_table *t, int (*keep)(const series *s, void *arg), void *arg);
void series_table_free(series_table *t);

#endif

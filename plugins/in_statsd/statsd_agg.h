/* The StatsD aggregation store: parsed lines go in, one metric event per
 * series comes out at each flush.
 *
 * A series is a type, a name and its sorted tags; it lives in an
 * open-addressing hash table keyed by those bytes with the hash cached, so
 * a sample for a known series allocates nothing. What each kind keeps and
 * emits (docs/inputs.md, statsd):
 *
 *   counter  kind counter, {value}: the total since the series appeared
 *            (cumulative) or the interval's sum (delta); value / rate
 *   gauge    kind gauge, {value}: the last value; +x / -x add to it
 *   set      kind gauge, {value}: how many distinct members
 *   timing   summary: kind gauge, {count, sum, lower, upper, mean, stddev,
 *            median, p<N>...}; histogram: kind histogram, {count, sum,
 *            bucket_<le>..., bucket_+Inf}, cumulative as Prometheus's are
 *
 * delete_<kind> (Telegraf's meaning): when true, a series that got no
 * sample during an interval is not emitted, and sets and summary timings
 * start afresh each interval; when false, every series is emitted at every
 * flush and sets and summary timings accumulate. Not thread-safe: one
 * input's engine thread. */
#ifndef STATSD_AGG_H
#define STATSD_AGG_H

#include <msgpack.h>
#include <sluice/common.h>

#include "statsd_parse.h"

typedef struct statsd_agg_config {
    int counters_delta;  /* counters: delta; else cumulative */
    int timer_histogram; /* timer_mode: histogram; else summary */
    const double *percentiles;
    size_t n_percentiles;
    const double *buckets; /* strictly increasing, finite */
    size_t n_buckets;
    size_t max_timer_samples; /* >= 1 */
    size_t max_set_values;    /* >= 1 */
    size_t max_series;
    int delete_counters, delete_gauges, delete_timings, delete_sets;
    sluice_time_t expire_after; /* 0: never */
    char *const *add_tags;      /* name, value, ..., NULL; may be NULL */
} statsd_agg_config;

typedef struct statsd_agg statsd_agg;

/* Where flush writes its events: begin returns the packer for one event's
 * body map, end closes it (sluice_emit_begin/end in the plugin). */
typedef struct statsd_sink {
    msgpack_packer *(*begin)(void *arg, sluice_time_t time);
    void (*end)(void *arg);
    void *arg;
} statsd_sink;

typedef struct statsd_agg_stats {
    uint64_t series;             /* live now */
    uint64_t series_refused;     /* samples for a new series past max_series */
    uint64_t set_values_refused; /* members past max_set_values */
    uint64_t samples;            /* values taken */
} statsd_agg_stats;

/* The config (and what it points to) is borrowed until statsd_agg_free. */
statsd_agg *statsd_agg_new(const statsd_agg_config *cfg);
void statsd_agg_free(statsd_agg *a);

/* Take every value of a parsed line. Returns how many were refused
 * because their series would be new past max_series (counted in the
 * stats too). */
size_t statsd_agg_add(statsd_agg *a, const statsd_line *line);

/* The same for `n` lines at once, faster with many series (it overlaps
 * the cache misses of their lookups). */
#define STATSD_AGG_BATCH 16
size_t statsd_agg_add_batch(statsd_agg *a, const statsd_line *lines, size_t n);

/* Emit the series due at `now` (the events' time) into `sink`, then reset
 * what each kind resets per interval and forget what is to be forgotten.
 * Returns the number of events emitted. */
size_t statsd_agg_flush(statsd_agg *a, sluice_time_t now, const statsd_sink *sink);

const statsd_agg_stats *statsd_agg_stats_get(const statsd_agg *a);

#endif

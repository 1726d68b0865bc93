/* Evaluating PromQL over the series sluice keeps: a store of labelled
 * samples, and instant queries over it with Prometheus 2.42's semantics
 * (5-minute lookback and staleness, ranges closed at both ends, rate's
 * extrapolation, matching and aggregation label rules). */
#ifndef SLUICE_PROMQL_EVAL_H
#define SLUICE_PROMQL_EVAL_H

#include "promql.h"

/* Prometheus's staleness marker: a NaN with this bit pattern. */
#define PQ_STALE_BITS UINT64_C(0x7ff0000000000002)
int pq_is_stale(double v);
double pq_stale(void);

/* A label set: n pairs, kv[2i] the name and kv[2i+1] the value, sorted by
 * name; __name__ is the metric name. */
typedef struct pq_lset {
    char **kv;
    size_t n;
} pq_lset;

const char *pq_lset_get(const pq_lset *l, const char *name);
/* "name{a="b", c="d"}", as Prometheus prints a metric; the caller frees. */
char *pq_lset_string(const pq_lset *l);
void pq_lset_free(pq_lset *l);
/* Parse a series written as Prometheus writes it: name{a="b"} or {...}. */
int pq_lset_parse(const char *s, pq_lset *out, char *err, size_t errlen);

typedef struct pq_sample {
    int64_t t; /* ms */
    double v;
} pq_sample;

typedef struct pq_series {
    pq_lset labels;
    const char *name; /* its __name__ value (in labels), or "" */
    uint64_t hash;
    pq_sample *s; /* by time */
    size_t n, cap;
} pq_series;

/* The series of one metric name. */
typedef struct pq_named {
    char *name;
    pq_series **v;
    size_t n, cap;
} pq_named;

typedef struct pq_store {
    pq_series **v;
    size_t n, cap;
    pq_series **index; /* open addressing by label hash; index_cap a power of 2 */
    size_t index_cap;
    pq_named *names; /* what a selector with a metric name looks through */
    size_t n_names;
} pq_store;

/* The series with these labels (copied), made if new. */
pq_series *pq_store_series(pq_store *st, const pq_lset *labels);
/* The series with these labels, or NULL. */
pq_series *pq_store_find(const pq_store *st, const pq_lset *labels);
/* The series named `name` (an empty list when none). */
const pq_named *pq_store_named(const pq_store *st, const char *name);
/* Append a sample; one not newer than the last is ignored. */
void pq_series_append(pq_series *s, int64_t t, double v);
/* Forget samples before `t` and series left with none. */
void pq_store_trim(pq_store *st, int64_t t);
void pq_store_free(pq_store *st);

typedef struct pq_elem {
    pq_lset labels;
    double v;
} pq_elem;

typedef struct pq_value {
    pq_type type; /* PQ_SCALAR or PQ_VECTOR */
    double scalar;
    pq_elem *v;
    size_t n;
} pq_value;

/* Evaluate `n` (a scalar or instant vector expression) at time `t` (ms).
 * Returns 0, or -1 with `err` (duplicate series in matching). */
int pq_eval(const pq_node *n, const pq_store *st, int64_t t, pq_value *out, char *err,
            size_t errlen);
void pq_value_free(pq_value *v);

/* Go's %v of a float64 (shortest, e-notation from 1e+06 and below 1e-04),
 * as Prometheus prints $value. */
void pq_format_float(double v, char *out, size_t size);

#endif

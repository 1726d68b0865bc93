/* sluice metric events as Prometheus samples: {name, kind, tags, fields}
 * becomes one series per numeric field, named as Prometheus names them:
 *   value        -> name
 *   count, sum   -> name_count, name_sum
 *   bucket_<le>  -> name_bucket{le="<le>"}
 *   other        -> name_<field>
 * with the tags as labels (characters a label name cannot hold become _),
 * booleans as 1 and 0; strings are no samples. The alert filter feeds its
 * evaluator this way, and the Prometheus outputs will expose the same. */
#ifndef SLUICE_PQ_METRIC_H
#define SLUICE_PQ_METRIC_H

#include <msgpack.h>

#include "promql_eval.h"

typedef void (*pq_sample_fn)(void *arg, const pq_lset *labels, double v);

/* Call `fn` once per sample of the metric event body `body`. Returns the
 * number of samples, or -1 if the body is not a metric event. */
int pq_metric_samples(const msgpack_object *body, pq_sample_fn fn, void *arg);

/* A label name ([a-zA-Z_][a-zA-Z0-9_]*) or, with `metric`, a metric name
 * (':' allowed too) that Prometheus accepts: other characters become _, a
 * leading digit gets a _ before it. The caller frees. */
char *pq_sanitized_name(const char *s, size_t n, int metric);

/* A field's value as a sample: numbers, and booleans as 1 and 0. Returns
 * 1, or 0 for anything else. */
int pq_number(const msgpack_object *v, double *d);

#endif

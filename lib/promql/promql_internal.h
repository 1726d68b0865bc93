/* What the files of lib/promql share and nobody else needs: label set
 * operations of the evaluator. */
#ifndef SLUICE_PROMQL_INTERNAL_H
#define SLUICE_PROMQL_INTERNAL_H

#include "promql_eval.h"

pq_lset lset_copy(const pq_lset *l);
void lset_set(pq_lset *l, const char *name, const char *value);
void lset_filter(pq_lset *l, const pq_labels *names, int keep);
void lset_drop_name(pq_lset *l);
uint64_t lset_hash(const pq_lset *l);
uint64_t lset_signature(const pq_lset *l, int on, const pq_labels *names);
int lset_equal(const pq_lset *a, const pq_lset *b);

#endif

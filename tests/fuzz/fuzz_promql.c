/* libFuzzer target: PromQL expressions, parsed, evaluated over a few
 * series (counters with a reset, a histogram, a stale marker) and freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promql_eval.h"

static pq_store store;

static void
add(const char *series, const double *v, size_t n)
{
    pq_lset l;
    if (pq_lset_parse(series, &l, NULL, 0) < 0)
        abort();
    pq_series *s = pq_store_series(&store, &l);
    for (size_t i = 0; i < n; i++)
        pq_series_append(s, (int64_t)i * 15000, v[i]);
    pq_lset_free(&l);
}

static void
setup(void)
{
    static const double counter[] = {0, 5, 9, 2, 8, 20, 21, 30};
    static const double gauge[] = {1, -2, 0.5, 1e6, 0, 0, 3, 3};
    double stale[] = {1, 2, 3, 0, 5, 6, 7, 8};
    stale[3] = pq_stale();
    add("x_total{job=\"a\", instance=\"1\"}", counter, 8);
    add("x_total{job=\"b\", instance=\"1\"}", gauge, 8);
    add("g{job=\"a\", le=\"0.5\"}", counter, 8);
    add("g{job=\"a\", le=\"+Inf\"}", gauge, 8);
    add("up{job=\"a\"}", stale, 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store.n)
        setup();
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = '\0';
    char err[256];
    size_t pos;
    pq_node *n = pq_parse(src, err, sizeof err, &pos);
    if (n) {
        pq_lookback_ms(n);
        pq_value v;
        if ((n->type == PQ_SCALAR || n->type == PQ_VECTOR) &&
            pq_eval(n, &store, 100000, &v, err, sizeof err) == 0)
            pq_value_free(&v);
    } else if (pos > size) {
        abort();
    }
    pq_free(n);
    free(src);
    return 0;
}

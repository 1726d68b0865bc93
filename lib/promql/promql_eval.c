/* Instant queries over the series store, as Prometheus 2.42 evaluates them
 * (promql/engine.go and functions.go are the reference): selection with a
 * 5-minute lookback and staleness markers, ranges closed at both ends,
 * rate's extrapolation, aggregations with their incremental means, vector
 * matching and the label rules of each operation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_eval.h"
#include "promql_internal.h"
#include "sluice/alloc.h"

#define LOOKBACK_MS (5 * 60 * 1000)

typedef struct ev {
    const pq_store *st;
    int64_t t;
    char *err;
    size_t errlen;
    int failed;
} ev;

int
pq_is_stale(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == PQ_STALE_BITS;
}

double
pq_stale(void)
{
    uint64_t bits = PQ_STALE_BITS;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void
pq_value_free(pq_value *v)
{
    for (size_t i = 0; i < v->n; i++)
        pq_lset_free(&v->v[i].labels);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

static void
push(pq_value *out, pq_lset labels, double v)
{
    if ((out->n & (out->n - 1)) == 0 || out->n == 0)
        out->v = sluice_realloc(out->v, (out->n ? out->n * 2 : 4) * sizeof *out->v);
    out->v[out->n++] = (pq_elem){labels, v};
}

static int
eval_fail(ev *e, const char *fmt, const char *detail)
{
    if (!e->failed)
        snprintf(e->err, e->errlen, fmt, detail);
    e->failed = 1;
    return -1;
}

/* ==== Selection ==== */

/* The series a selector looks through: those of its metric name, or all. */
static pq_series *const *
candidates(const ev *e, const pq_node *sel, size_t *n)
{
    if (!sel->sel.metric) {
        *n = e->st->n;
        return e->st->v;
    }
    const pq_named *nl = pq_store_named(e->st, sel->sel.metric);
    *n = nl->n;
    return nl->v;
}

static int
matches(const pq_node *sel, const pq_lset *l)
{
    for (size_t i = 0; i < sel->sel.n_matchers; i++) {
        const pq_matcher *m = &sel->sel.matchers[i];
        const char *v = pq_lset_get(l, m->name);
        if (!v)
            v = "";
        int ok;
        switch (m->op) {
        case PQ_EQ: ok = strcmp(v, m->value) == 0; break;
        case PQ_NEQ: ok = strcmp(v, m->value) != 0; break;
        default: {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
            int r = pcre2_match(m->re, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL);
            pcre2_match_data_free(md);
            ok = (r >= 0) == (m->op == PQ_RE);
        }
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* The index of the first sample at or after `t`. */
static size_t
first_at(const pq_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->s[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
select_instant(ev *e, const pq_node *sel, pq_value *out)
{
    int64_t t = e->t - sel->sel.offset_ms;
    size_t n;
    pq_series *const *v = candidates(e, sel, &n);
    for (size_t i = 0; i < n; i++) {
        const pq_series *s = v[i];
        if (!matches(sel, &s->labels))
            continue;
        size_t k = first_at(s, t + 1); /* samples up to t */
        if (k == 0)
            continue;
        const pq_sample *last = &s->s[k - 1];
        if (last->t < t - LOOKBACK_MS || pq_is_stale(last->v))
            continue;
        push(out, lset_copy(&s->labels), last->v);
    }
}

/* The samples of `s` in [t - range, t] (shifted by the offset), stale
 * markers left out, into `buf` (grown as needed); returns how many. */
static size_t
range_of(ev *e, const pq_node *sel, const pq_series *s, pq_sample **buf, size_t *cap)
{
    int64_t end = e->t - sel->sel.offset_ms, start = end - sel->sel.range_ms;
    size_t n = 0;
    for (size_t k = first_at(s, start); k < s->n && s->s[k].t <= end; k++) {
        if (pq_is_stale(s->s[k].v))
            continue;
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *buf = sluice_realloc(*buf, *cap * sizeof **buf);
        }
        (*buf)[n++] = s->s[k];
    }
    return n;
}

/* ==== Functions over ranges ==== */

static void
kahan_inc(double inc, double *sum, double *c)
{
    double t = *sum + inc;
    if (fabs(*sum) >= fabs(inc))
        *c += (*sum - t) + inc;
    else
        *c += (inc - t) + *sum;
    *sum = t;
}

/* rate, increase, delta: Prometheus's extrapolatedRate. */
static int
extrapolated(ev *e, const pq_node *sel, const pq_sample *s, size_t n, int counter, int per_second,
             double *out)
{
    if (n < 2)
        return 0;
    int64_t range_end = e->t - sel->sel.offset_ms, range_start = range_end - sel->sel.range_ms;
    double result = s[n - 1].v - s[0].v;
    if (counter) {
        double last = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i].v < last)
                result += last;
            last = s[i].v;
        }
    }
    double to_start = (double)(s[0].t - range_start) / 1000;
    double to_end = (double)(range_end - s[n - 1].t) / 1000;
    double sampled = (double)(s[n - 1].t - s[0].t) / 1000;
    double average = sampled / (double)(n - 1);
    if (counter && result > 0 && s[0].v >= 0) {
        double to_zero = sampled * (s[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    double threshold = average * 1.1, interval = sampled;
    interval += to_start < threshold ? to_start : average / 2;
    interval += to_end < threshold ? to_end : average / 2;
    double factor = interval / sampled;
    if (per_second)
        factor /= (double)sel->sel.range_ms / 1000;
    *out = result * factor;
    return 1;
}

/* irate, idelta: the last two samples. */
static int
instant_rate(const pq_sample *s, size_t n, int per_second, double *out)
{
    if (n < 2)
        return 0;
    const pq_sample *last = &s[n - 1], *prev = &s[n - 2];
    double result = per_second && last->v < prev->v ? last->v : last->v - prev->v;
    int64_t interval = last->t - prev->t;
    if (interval == 0)
        return 0;
    if (per_second)
        result /= (double)interval / 1000;
    *out = result;
    return 1;
}

static int
over_time(pq_func fn, const pq_sample *s, size_t n, double *out)
{
    if (n == 0)
        return 0;
    double acc = 0, c = 0;
    switch (fn) {
    case PQ_FN_AVG_OVER_TIME: {
        double mean = 0, count = 0;
        for (size_t i = 0; i < n; i++) {
            count++;
            if (isinf(mean)) {
                if (isinf(s[i].v) && (mean > 0) == (s[i].v > 0))
                    continue;
                if (!isinf(s[i].v) && !isnan(s[i].v))
                    continue;
            }
            kahan_inc(s[i].v / count - mean / count, &mean, &c);
        }
        *out = isinf(mean) ? mean : mean + c;
        return 1;
    }
    case PQ_FN_SUM_OVER_TIME:
        for (size_t i = 0; i < n; i++)
            kahan_inc(s[i].v, &acc, &c);
        *out = isinf(acc) ? acc : acc + c;
        return 1;
    case PQ_FN_COUNT_OVER_TIME:
        *out = (double)n;
        return 1;
    case PQ_FN_MIN_OVER_TIME:
    case PQ_FN_MAX_OVER_TIME:
        acc = s[0].v;
        for (size_t i = 1; i < n; i++)
            if ((fn == PQ_FN_MIN_OVER_TIME ? s[i].v < acc : s[i].v > acc) || isnan(acc))
                acc = s[i].v;
        *out = acc;
        return 1;
    case PQ_FN_LAST_OVER_TIME:
        *out = s[n - 1].v;
        return 1;
    default:
        return 0;
    }
}

/* absent(), absent_over_time(): one sample of 1, with the labels the
 * selector's equality matchers fix (a label matched twice is left out). */
static void
absent_labels(const pq_node *arg, pq_value *out)
{
    pq_lset l = {0};
    if (arg->kind == PQ_SELECTOR) {
        for (size_t i = 0; i < arg->sel.n_matchers; i++) {
            const pq_matcher *m = &arg->sel.matchers[i];
            if (m->op != PQ_EQ || strcmp(m->name, "__name__") == 0)
                continue;
            int twice = 0;
            for (size_t j = 0; j < arg->sel.n_matchers; j++)
                twice |= j != i && strcmp(arg->sel.matchers[j].name, m->name) == 0;
            if (!twice)
                lset_set(&l, m->name, m->value);
        }
    }
    push(out, l, 1);
}

static void
eval_range_call(ev *e, const pq_node *call, pq_value *out)
{
    const pq_node *sel = call->call.args[0];
    pq_func fn = call->call.fn;
    pq_sample *buf = NULL;
    size_t cap = 0;
    int any = 0;
    size_t nc;
    pq_series *const *cands = candidates(e, sel, &nc);
    for (size_t i = 0; i < nc; i++) {
        const pq_series *s = cands[i];
        if (!matches(sel, &s->labels))
            continue;
        size_t n = range_of(e, sel, s, &buf, &cap);
        any |= n > 0;
        double v;
        int got;
        switch (fn) {
        case PQ_FN_RATE: got = extrapolated(e, sel, buf, n, 1, 1, &v); break;
        case PQ_FN_INCREASE: got = extrapolated(e, sel, buf, n, 1, 0, &v); break;
        case PQ_FN_DELTA: got = extrapolated(e, sel, buf, n, 0, 0, &v); break;
        case PQ_FN_IRATE: got = instant_rate(buf, n, 1, &v); break;
        case PQ_FN_IDELTA: got = instant_rate(buf, n, 0, &v); break;
        case PQ_FN_ABSENT_OVER_TIME: got = 0; break;
        default: got = over_time(fn, buf, n, &v); break;
        }
        if (!got)
            continue;
        pq_lset l = lset_copy(&s->labels);
        if (fn != PQ_FN_LAST_OVER_TIME)
            lset_drop_name(&l);
        push(out, l, v);
    }
    free(buf);
    if (fn == PQ_FN_ABSENT_OVER_TIME && !any)
        absent_labels(sel, out);
}

/* ==== histogram_quantile ==== */

typedef struct bucket {
    double le, count;
} bucket;

static int
by_le(const void *a, const void *b)
{
    double x = ((const bucket *)a)->le, y = ((const bucket *)b)->le;
    return x < y ? -1 : x > y;
}

/* Prometheus's bucketQuantile, with its coalescing and monotonicity fix. */
static double
bucket_quantile(double q, bucket *b, size_t n)
{
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(b, n, sizeof *b, by_le);
    if (n == 0 || !isinf(b[n - 1].le) || b[n - 1].le < 0)
        return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && b[m - 1].le == b[i].le)
            b[m - 1].count += b[i].count;
        else
            b[m++] = b[i];
    }
    n = m;
    double max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (b[i].count > max)
            max = b[i].count;
        else if (b[i].count < max)
            b[i].count = max;
    }
    if (n < 2)
        return NAN;
    double observations = b[n - 1].count;
    if (observations == 0)
        return NAN;
    double rank = q * observations;
    size_t k = 0;
    while (k < n - 1 && b[k].count < rank)
        k++;
    if (k == n - 1)
        return b[n - 2].le;
    if (k == 0 && b[0].le <= 0)
        return b[0].le;
    double start = 0, end = b[k].le, count = b[k].count;
    if (k > 0) {
        start = b[k - 1].le;
        count -= b[k - 1].count;
        rank -= b[k - 1].count;
    }
    return start + (end - start) * (rank / count);
}

static int
parse_le(const char *s, double *le)
{
    char *end;
    *le = strtod(s, &end);
    return *s && !*end ? 0 : -1;
}

static void
histogram_quantile(double q, const pq_value *in, pq_value *out)
{
    static char *const le_name[] = {"le"};
    pq_labels le = {(char **)le_name, 1};
    uint64_t *sig = sluice_calloc(in->n + 1, sizeof *sig);
    int *done = sluice_calloc(in->n + 1, sizeof *done);
    bucket *b = sluice_calloc(in->n + 1, sizeof *b);
    for (size_t i = 0; i < in->n; i++)
        sig[i] = lset_signature(&in->v[i].labels, 0, &le);
    for (size_t i = 0; i < in->n; i++) {
        double bound;
        const char *les = pq_lset_get(&in->v[i].labels, "le");
        if (done[i] || !les || parse_le(les, &bound) < 0)
            continue;
        size_t n = 0;
        for (size_t j = i; j < in->n; j++) {
            const char *lj = pq_lset_get(&in->v[j].labels, "le");
            if (done[j] || sig[j] != sig[i] || !lj || parse_le(lj, &bound) < 0)
                continue;
            done[j] = 1;
            b[n++] = (bucket){bound, in->v[j].v};
        }
        pq_lset l = lset_copy(&in->v[i].labels);
        lset_filter(&l, &le, 0);
        lset_drop_name(&l);
        push(out, l, bucket_quantile(q, b, n));
    }
    free(sig);
    free(done);
    free(b);
}

/* ==== Aggregations ==== */

typedef struct group {
    pq_lset labels;
    uint64_t sig;
    double value, mean, count;
} group;

/* An aggregation over `in` into `out`: one group per label set left after
 * by/without (without also drops __name__), values combined as Prometheus
 * 2.42 combines them (avg's incremental mean with its Inf rules, max/min
 * replacing NaN, Welford for stddev/stdvar). Owns the groups' labels until
 * they are pushed; calls only label helpers. Linear in groups per sample. */
static void
aggregate(const pq_node *n, const pq_value *in, pq_value *out)
{
    group *g = sluice_calloc(in->n + 1, sizeof *g);
    size_t ng = 0;
    pq_aggop op = n->agg.op;
    for (size_t i = 0; i < in->n; i++) {
        pq_lset l = lset_copy(&in->v[i].labels);
        if (n->agg.without) {
            lset_filter(&l, &n->agg.grouping, 0);
            lset_drop_name(&l);
        } else {
            lset_filter(&l, &n->agg.grouping, 1);
        }
        uint64_t h = lset_hash(&l);
        size_t k = 0;
        while (k < ng && (g[k].sig != h || !lset_equal(&g[k].labels, &l)))
            k++;
        double v = in->v[i].v;
        if (k == ng) {
            g[ng++] = (group){l, h, v, v, 1};
            if (op == PQ_STDDEV || op == PQ_STDVAR)
                g[k].value = 0;
            continue;
        }
        pq_lset_free(&l);
        group *x = &g[k];
        switch (op) {
        case PQ_SUM: x->value += v; break;
        case PQ_AVG:
            x->count++;
            if (isinf(x->mean)) {
                if (isinf(v) && (x->mean > 0) == (v > 0))
                    break;
                if (!isinf(v) && !isnan(v))
                    break;
            }
            x->mean += v / x->count - x->mean / x->count;
            break;
        case PQ_COUNT: x->count++; break;
        case PQ_GROUP: break;
        case PQ_MAX:
            if (x->value < v || isnan(x->value))
                x->value = v;
            break;
        case PQ_MIN:
            if (x->value > v || isnan(x->value))
                x->value = v;
            break;
        case PQ_STDDEV:
        case PQ_STDVAR: {
            x->count++;
            double delta = v - x->mean;
            x->mean += delta / x->count;
            x->value += delta * (v - x->mean);
            break;
        }
        }
    }
    for (size_t k = 0; k < ng; k++) {
        double v = g[k].value;
        switch (op) {
        case PQ_AVG: v = g[k].mean; break;
        case PQ_COUNT: v = g[k].count; break;
        case PQ_GROUP: v = 1; break;
        case PQ_STDVAR: v = g[k].value / g[k].count; break;
        case PQ_STDDEV: v = sqrt(g[k].value / g[k].count); break;
        default: break;
        }
        push(out, g[k].labels, v);
    }
    free(g);
}

/* ==== Binary operations ==== */

/* Go's math.Atan2, whose pure-Go arctangent (Cephes's rational
 * approximation) can differ from the C library's in the last bit; PromQL's
 * atan2 is Go's, so it is computed the same way here. */
static double
go_xatan(double x)
{
    static const double p0 = -8.750608600031904122785e-01, p1 = -1.615753718733365076637e+01,
                        p2 = -7.500855792314704667340e+01, p3 = -1.228866684490136173410e+02,
                        p4 = -6.485021904942025371773e+01, q0 = +2.485846490142306297962e+01,
                        q1 = +1.650270098316988542046e+02, q2 = +4.328810604912902668951e+02,
                        q3 = +4.853903996359136964868e+02, q4 = +1.945506571482613964425e+02;
    double z = x * x;
    z = z * ((((p0 * z + p1) * z + p2) * z + p3) * z + p4) /
        (((((z + q0) * z + q1) * z + q2) * z + q3) * z + q4);
    return x * z + x;
}

static double
go_satan(double x)
{
    static const double morebits = 6.123233995736765886130e-17, tan3pio8 = 2.41421356237309504880;
    if (x <= 0.66)
        return go_xatan(x);
    if (x > tan3pio8)
        return M_PI / 2 - go_xatan(1 / x) + morebits;
    return M_PI / 4 + go_xatan((x - 1) / (x + 1)) + 0.5 * morebits;
}

static double
go_atan(double x)
{
    if (x == 0)
        return x;
    return x > 0 ? go_satan(x) : -go_satan(-x);
}

static double
go_atan2(double y, double x)
{
    if (isnan(y) || isnan(x))
        return NAN;
    if (y == 0) {
        if (x >= 0 && !signbit(x))
            return copysign(0, y);
        return copysign(M_PI, y);
    }
    if (x == 0)
        return copysign(M_PI / 2, y);
    if (isinf(x)) {
        if (x > 0)
            return isinf(y) ? copysign(M_PI / 4, y) : copysign(0, y);
        return isinf(y) ? copysign(3 * M_PI / 4, y) : copysign(M_PI, y);
    }
    if (isinf(y))
        return copysign(M_PI / 2, y);
    double q = go_atan(y / x);
    if (x < 0)
        return q <= 0 ? q + M_PI : q - M_PI;
    return q;
}

static double
arith(pq_binop op, double a, double b, int *keep)
{
    *keep = 1;
    switch (op) {
    case PQ_ADD: return a + b;
    case PQ_SUB: return a - b;
    case PQ_MUL: return a * b;
    case PQ_DIV: return a / b;
    case PQ_MOD: return fmod(a, b);
    case PQ_POW: return pow(a, b);
    case PQ_ATAN2: return go_atan2(a, b);
    case PQ_EQL: *keep = a == b; break;
    case PQ_NEQL: *keep = a != b; break;
    case PQ_GTR: *keep = a > b; break;
    case PQ_LSS: *keep = a < b; break;
    case PQ_GTE: *keep = a >= b; break;
    case PQ_LTE: *keep = a <= b; break;
    default: break;
    }
    return a;
}

static int
comparison(pq_binop op)
{
    return op >= PQ_EQL && op <= PQ_GTR;
}

/* As Prometheus 2.42's shouldDropMetricName: arithmetic drops the metric
 * name, except atan2 (which keeps it there too). */
static int
drops_name(const pq_node *n)
{
    pq_binop op = n->bin.op;
    return n->bin.bool_mod || (op >= PQ_ADD && op != PQ_ATAN2);
}

static void
vector_scalar(const pq_node *n, pq_value *vec, double scalar, int scalar_left, pq_value *out)
{
    for (size_t i = 0; i < vec->n; i++) {
        double a = scalar_left ? scalar : vec->v[i].v, b = scalar_left ? vec->v[i].v : scalar;
        int keep;
        double r = arith(n->bin.op, a, b, &keep);
        if (comparison(n->bin.op)) {
            if (n->bin.bool_mod) {
                r = keep;
                keep = 1;
            } else {
                r = vec->v[i].v;
            }
        }
        if (!keep)
            continue;
        pq_lset l = vec->v[i].labels;
        vec->v[i].labels = (pq_lset){0};
        if (drops_name(n))
            lset_drop_name(&l);
        push(out, l, r);
    }
}

static int
set_op(const pq_node *n, pq_value *lhs, pq_value *rhs, pq_value *out)
{
    const pq_labels *names = &n->bin.labels;
    int on = n->bin.matching && n->bin.on;
    uint64_t *rs = sluice_calloc(rhs->n + 1, sizeof *rs);
    for (size_t j = 0; j < rhs->n; j++)
        rs[j] = lset_signature(&rhs->v[j].labels, on, names);
    uint64_t *ls = sluice_calloc(lhs->n + 1, sizeof *ls);
    for (size_t i = 0; i < lhs->n; i++) {
        ls[i] = lset_signature(&lhs->v[i].labels, on, names);
        int found = 0;
        for (size_t j = 0; j < rhs->n && !found; j++)
            found = rs[j] == ls[i];
        int keep = n->bin.op == PQ_AND ? found : n->bin.op == PQ_UNLESS ? !found : 1;
        if (keep) {
            push(out, lhs->v[i].labels, lhs->v[i].v);
            lhs->v[i].labels = (pq_lset){0};
        }
    }
    if (n->bin.op == PQ_OR)
        for (size_t j = 0; j < rhs->n; j++) {
            int found = 0;
            for (size_t i = 0; i < lhs->n && !found; i++)
                found = ls[i] == rs[j];
            if (!found) {
                push(out, rhs->v[j].labels, rhs->v[j].v);
                rhs->v[j].labels = (pq_lset){0};
            }
        }
    free(rs);
    free(ls);
    return 0;
}

/* A binary operation between two vectors: set operators by signature, the
 * others one-to-one (on/ignoring), refusing duplicates on the right and
 * results that would collide, with Prometheus's messages. The result keeps
 * the left side's labels, minus __name__ for arithmetic and bool, and only
 * the on() labels with on(). Set operators move the labels they keep out
 * of `lhs` and `rhs`. */
static int
vector_vector(ev *e, const pq_node *n, pq_value *lhs, pq_value *rhs, pq_value *out)
{
    if (n->bin.op == PQ_AND || n->bin.op == PQ_OR || n->bin.op == PQ_UNLESS)
        return set_op(n, lhs, rhs, out);
    const pq_labels *names = &n->bin.labels;
    int on = n->bin.matching && n->bin.on;
    uint64_t *rs = sluice_calloc(rhs->n + 1, sizeof *rs);
    for (size_t j = 0; j < rhs->n; j++) {
        rs[j] = lset_signature(&rhs->v[j].labels, on, names);
        for (size_t k = 0; k < j; k++)
            if (rs[k] == rs[j]) {
                char *s = pq_lset_string(&rhs->v[j].labels);
                eval_fail(e, "found duplicate series for the match group on the right hand-side "
                             "of the operation (%s); many-to-many matching not allowed: "
                             "matching labels must be unique on one side",
                          s);
                free(s);
                free(rs);
                return -1;
            }
    }
    size_t first_out = out->n;
    for (size_t i = 0; i < lhs->n; i++) {
        uint64_t sig = lset_signature(&lhs->v[i].labels, on, names);
        size_t j = 0;
        while (j < rhs->n && rs[j] != sig)
            j++;
        if (j == rhs->n)
            continue;
        int keep;
        double r = arith(n->bin.op, lhs->v[i].v, rhs->v[j].v, &keep);
        if (comparison(n->bin.op)) {
            if (n->bin.bool_mod) {
                r = keep;
                keep = 1;
            } else {
                r = lhs->v[i].v;
            }
        }
        if (!keep)
            continue;
        pq_lset l = lset_copy(&lhs->v[i].labels);
        if (drops_name(n))
            lset_drop_name(&l);
        if (n->bin.matching)
            lset_filter(&l, names, on);
        for (size_t k = first_out; k < out->n; k++)
            if (lset_equal(&out->v[k].labels, &l)) {
                char *s = pq_lset_string(&l);
                eval_fail(e, "multiple matches for labels %s: many-to-one matching must be "
                             "explicit (group_left/group_right)",
                          s);
                free(s);
                pq_lset_free(&l);
                free(rs);
                return -1;
            }
        push(out, l, r);
    }
    free(rs);
    return 0;
}

/* ==== The walk ==== */

static int eval(ev *e, const pq_node *n, pq_value *out);

static int
eval_scalar(ev *e, const pq_node *n, double *v)
{
    pq_value x = {0};
    if (eval(e, n, &x) < 0)
        return -1;
    *v = x.scalar;
    pq_value_free(&x);
    return 0;
}

/* A function call: the scalar and instant-vector functions here; the
 * functions over ranges in eval_range_call. Frees what it evaluated of the
 * arguments; may fail only through the arguments' evaluation. */
static int
eval_call(ev *e, const pq_node *n, pq_value *out)
{
    pq_value a = {0};
    double s;
    switch (n->call.fn) {
    case PQ_FN_TIME:
        out->scalar = (double)e->t / 1000;
        return 0;
    case PQ_FN_VECTOR:
        if (eval_scalar(e, n->call.args[0], &s) < 0)
            return -1;
        push(out, (pq_lset){0}, s);
        return 0;
    case PQ_FN_SCALAR:
        if (eval(e, n->call.args[0], &a) < 0)
            return -1;
        out->scalar = a.n == 1 ? a.v[0].v : NAN;
        pq_value_free(&a);
        return 0;
    case PQ_FN_HISTOGRAM_QUANTILE:
        if (eval_scalar(e, n->call.args[0], &s) < 0 || eval(e, n->call.args[1], &a) < 0)
            return -1;
        histogram_quantile(s, &a, out);
        pq_value_free(&a);
        return 0;
    case PQ_FN_ABSENT:
        if (eval(e, n->call.args[0], &a) < 0)
            return -1;
        if (a.n == 0)
            absent_labels(n->call.args[0], out);
        pq_value_free(&a);
        return 0;
    case PQ_FN_ABS:
    case PQ_FN_CEIL:
    case PQ_FN_FLOOR:
    case PQ_FN_CLAMP_MIN:
    case PQ_FN_CLAMP_MAX:
        s = 0;
        if (n->call.n_args == 2 && eval_scalar(e, n->call.args[1], &s) < 0)
            return -1;
        if (eval(e, n->call.args[0], &a) < 0)
            return -1;
        for (size_t i = 0; i < a.n; i++) {
            double v = a.v[i].v;
            switch (n->call.fn) {
            case PQ_FN_ABS: v = fabs(v); break;
            case PQ_FN_CEIL: v = ceil(v); break;
            case PQ_FN_FLOOR: v = floor(v); break;
            case PQ_FN_CLAMP_MIN: v = fmax(v, s); break;
            default: v = fmin(v, s); break;
            }
            lset_drop_name(&a.v[i].labels);
            push(out, a.v[i].labels, v);
            a.v[i].labels = (pq_lset){0};
        }
        pq_value_free(&a);
        return 0;
    default:
        eval_range_call(e, n, out);
        return 0;
    }
}

static int
eval(ev *e, const pq_node *n, pq_value *out)
{
    out->type = n->type == PQ_SCALAR ? PQ_SCALAR : PQ_VECTOR;
    pq_value l = {0}, r = {0};
    int rc = 0;
    switch (n->kind) {
    case PQ_NUMBER:
        out->scalar = n->number;
        return 0;
    case PQ_STRING_LIT:
        return eval_fail(e, "%s", "a string is not a value");
    case PQ_PAREN:
        return eval(e, n->inner, out);
    case PQ_SELECTOR:
        select_instant(e, n, out);
        return 0;
    case PQ_CALL:
        return eval_call(e, n, out);
    case PQ_AGGREGATE:
        if (eval(e, n->agg.expr, &l) < 0)
            return -1;
        aggregate(n, &l, out);
        pq_value_free(&l);
        return 0;
    case PQ_UNARY_MINUS:
        if (eval(e, n->inner, &l) < 0)
            return -1;
        out->scalar = -l.scalar;
        for (size_t i = 0; i < l.n; i++) {
            lset_drop_name(&l.v[i].labels);
            push(out, l.v[i].labels, -l.v[i].v);
            l.v[i].labels = (pq_lset){0};
        }
        pq_value_free(&l);
        return 0;
    case PQ_BINARY:
        if (eval(e, n->bin.lhs, &l) < 0 || eval(e, n->bin.rhs, &r) < 0) {
            rc = -1;
        } else if (l.type == PQ_SCALAR && r.type == PQ_SCALAR) {
            int keep;
            out->scalar = arith(n->bin.op, l.scalar, r.scalar, &keep);
            if (comparison(n->bin.op))
                out->scalar = keep;
        } else if (l.type == PQ_SCALAR) {
            vector_scalar(n, &r, l.scalar, 1, out);
        } else if (r.type == PQ_SCALAR) {
            vector_scalar(n, &l, r.scalar, 0, out);
        } else {
            rc = vector_vector(e, n, &l, &r, out);
        }
        pq_value_free(&l);
        pq_value_free(&r);
        return rc;
    }
    return 0;
}

int
pq_eval(const pq_node *n, const pq_store *st, int64_t t, pq_value *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ev e = {st, t, err, errlen, 0};
    if (eval(&e, n, out) < 0) {
        pq_value_free(out);
        return -1;
    }
    return 0;
}

/* ==== Go's formatting of a float64 ==== */

void
pq_format_float(double v, char *out, size_t size)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(out, size, signbit(v) ? "-0" : "0");
        return;
    }
    /* The fewest digits that read back as v. */
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    char *x = strchr(e, 'e');
    int exp = atoi(x + 1);
    /* strconv's shortest 'g': e-notation when exp < -4 or exp >= 6. */
    if (exp < -4 || exp >= 6) {
        /* d.ddde±XX, as Go writes it: at least two exponent digits. */
        *x = '\0';
        char *dot = strchr(e, '.');
        if (dot) {
            char *end = e + strlen(e);
            while (end > dot + 1 && end[-1] == '0')
                *--end = '\0';
            if (end == dot + 1)
                *dot = '\0';
        }
        snprintf(out, size, "%se%c%02d", e, exp < 0 ? '-' : '+', abs(exp));
        return;
    }
    snprintf(out, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

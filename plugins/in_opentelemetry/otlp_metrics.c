/* OTLP metrics to metric events, one per data point, shaped as the rest
 * of sluice makes them ({name, kind, tags, fields}; docs/prometheus.md):
 * gauges and non-monotonic sums are gauges, monotonic sums counters,
 * explicit-bucket histograms histogram events with cumulative
 * bucket_<le> fields, summaries a gauge-like event per quantile plus
 * _sum and _count as Prometheus stores them. Delta sums and histograms
 * are added up into running totals (otlp_delta.c). Tags are the point's
 * attributes over the resource's, with `job` and `instance` made of the
 * service.* attributes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include <sluice/event.h>
#include <sluice/format.h>
#include <sluice/timefmt.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp_internal.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_request;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics resource_metrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint histogram_point;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint summary_point;
typedef Opentelemetry__Proto__Resource__V1__Resource resource_t;

#define M(x) OPENTELEMETRY__PROTO__METRICS__V1__##x
#define REQUEST_DESCRIPTOR                                                                         \
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor
#define NO_RECORDED_VALUE M(DATA_POINT_FLAGS__DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)

typedef struct tag {
    const char *k, *v;
    size_t order; /* the later wins among tags of one name */
} tag;

typedef struct mctx {
    const otlp_options *opt;
    otlp_arena *a;
    msgpack_packer pk;
    otlp_result *res;
    sluice_time_t now;
    sluice_buf text;
    tag *rtags; /* the resource's, in the arena */
    size_t n_rtags;
    tag *tags; /* the point's, reused */
    size_t n_tags, cap_tags;
    msgpack_sbuffer key; /* a delta series' key */
    msgpack_packer kpk;
    uint64_t *buckets;
    size_t cap_buckets;
    sluice_buf name;
} mctx;

/* ==== Tags ==== */

static const char *
tag_text(mctx *c, const otlp_any *v)
{
    if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
        return v->string_value;
    otlp_any_text(v, &c->text);
    if (c->text.len == 0) return "";
    char *s = otlp_arena_alloc(c->a, c->text.len + 1);
    memcpy(s, c->text.data, c->text.len);
    s[c->text.len] = '\0';
    return s;
}

static const char *
attr(const resource_t *r, const char *key)
{
    for (size_t i = 0; r && i < r->n_attributes; i++)
        if (strcmp(r->attributes[i]->key, key) == 0 && r->attributes[i]->value &&
            r->attributes[i]->value->value_case ==
                OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
            return r->attributes[i]->value->string_value;
    return NULL;
}

/* The resource's tags: its attributes (if opt->resource_tags), then job
 * and instance from service.namespace, service.name and
 * service.instance.id unless it has attributes of those names. */
static void
resource_tags(mctx *c, const resource_t *r)
{
    size_t n = r ? r->n_attributes : 0;
    c->rtags = otlp_arena_alloc(c->a, (n + 2) * sizeof *c->rtags);
    c->n_rtags = 0;
    int has_job = 0, has_instance = 0;
    for (size_t i = 0; c->opt->resource_tags && i < n; i++) {
        const otlp_kv *kv = r->attributes[i];
        has_job |= strcmp(kv->key, "job") == 0;
        has_instance |= strcmp(kv->key, "instance") == 0;
        c->rtags[c->n_rtags] = (tag){kv->key, tag_text(c, kv->value), c->n_rtags};
        c->n_rtags++;
    }
    const char *service = attr(r, "service.name"), *ns = attr(r, "service.namespace");
    const char *instance = attr(r, "service.instance.id");
    if (service && service[0] && !has_job) {
        const char *job = service;
        if (ns && ns[0]) {
            size_t len = strlen(ns) + 1 + strlen(service) + 1;
            char *s = otlp_arena_alloc(c->a, len);
            snprintf(s, len, "%s/%s", ns, service);
            job = s;
        }
        c->rtags[c->n_rtags] = (tag){"job", job, c->n_rtags};
        c->n_rtags++;
    }
    if (instance && instance[0] && !has_instance) {
        c->rtags[c->n_rtags] = (tag){"instance", instance, c->n_rtags};
        c->n_rtags++;
    }
}

static int
by_key(const void *a, const void *b)
{
    const tag *x = a, *y = b;
    int d = strcmp(x->k, y->k);
    return d ? d : (x->order > y->order) - (x->order < y->order);
}

/* The point's tags: the resource's, its attributes over them, and
 * `extra` (the quantile) over both; sorted by name, one per name, none
 * empty. */
static void
point_tags(mctx *c, otlp_kv *const *kv, size_t n, const char *extra_k, const char *extra_v)
{
    size_t need = c->n_rtags + n + 1;
    if (need > c->cap_tags) {
        c->cap_tags = need * 2;
        c->tags = sluice_realloc(c->tags, c->cap_tags * sizeof *c->tags);
    }
    size_t m = 0;
    for (size_t i = 0; i < c->n_rtags; i++, m++)
        c->tags[m] = (tag){c->rtags[i].k, c->rtags[i].v, m};
    for (size_t i = 0; i < n; i++, m++)
        c->tags[m] = (tag){kv[i]->key, tag_text(c, kv[i]->value), m};
    if (extra_k) {
        c->tags[m] = (tag){extra_k, extra_v, m};
        m++;
    }
    qsort(c->tags, m, sizeof *c->tags, by_key);
    c->n_tags = 0;
    for (size_t i = 0; i < m; i++) {
        if (i + 1 < m && strcmp(c->tags[i].k, c->tags[i + 1].k) == 0)
            continue; /* a later one of this name follows */
        if (c->tags[i].v[0] && c->tags[i].k[0]) c->tags[c->n_tags++] = c->tags[i];
    }
}

static void
pack_tags(mctx *c, msgpack_packer *pk)
{
    msgpack_pack_map(pk, (uint32_t)c->n_tags);
    for (size_t i = 0; i < c->n_tags; i++) {
        sluice_pack_cstr(pk, c->tags[i].k);
        sluice_pack_cstr(pk, c->tags[i].v);
    }
}

/* ==== Events ==== */

/* Start a metric event; the caller packs the fields map next. */
static void
begin(mctx *c, const char *name, const char *kind, uint64_t time_unix_nano)
{
    sluice_event_pack_head(&c->pk, time_unix_nano ? otlp_time(time_unix_nano) : c->now);
    c->res->events++;
    msgpack_pack_map(&c->pk, 4);
    sluice_pack_cstr(&c->pk, "name");
    sluice_pack_cstr(&c->pk, name);
    sluice_pack_cstr(&c->pk, "kind");
    sluice_pack_cstr(&c->pk, kind);
    sluice_pack_cstr(&c->pk, "tags");
    pack_tags(c, &c->pk);
    sluice_pack_cstr(&c->pk, "fields");
}

/* The key of the series of the current tags, for the delta table. */
static void
series_key(mctx *c, const char *name, const char *kind)
{
    msgpack_sbuffer_clear(&c->key);
    sluice_pack_cstr(&c->kpk, name);
    sluice_pack_cstr(&c->kpk, kind);
    pack_tags(c, &c->kpk);
}

static void
pack_value_field(mctx *c, double d)
{
    msgpack_pack_map(&c->pk, 1);
    sluice_pack_cstr(&c->pk, "value");
    msgpack_pack_double(&c->pk, d);
}

static const char *
suffixed(mctx *c, const char *name, const char *suffix)
{
    sluice_buf_reset(&c->name);
    sluice_buf_append(&c->name, name, strlen(name));
    sluice_buf_append(&c->name, suffix, strlen(suffix) + 1);
    return c->name.data;
}

/* ==== Data points ==== */

static int
delta_ok(mctx *c, const metric_t *m, size_t n)
{
    if (c->opt->delta) return 1;
    otlp_reject(c->res, n, "metric %s: delta temporality is not accepted here", m->name);
    return 0;
}

static void
number_points(mctx *c, const metric_t *m, number_point *const *p, size_t n, const char *kind,
              int delta)
{
    if (delta && !delta_ok(c, m, n)) return;
    for (size_t i = 0; i < n; i++) {
        const number_point *dp = p[i];
        if (dp->flags & NO_RECORDED_VALUE) {
            c->res->accepted++;
            continue;
        }
        int is_int = dp->value_case == M(NUMBER_DATA_POINT__VALUE_AS_INT);
        if (!is_int && dp->value_case != M(NUMBER_DATA_POINT__VALUE_AS_DOUBLE)) {
            otlp_reject(c->res, 1, "metric %s: data point without a value", m->name);
            continue;
        }
        double d = is_int ? (double)dp->as_int : dp->as_double;
        point_tags(c, dp->attributes, dp->n_attributes, NULL, NULL);
        if (delta) {
            series_key(c, m->name, kind);
            if (otlp_delta_sum(c->opt->delta, c->key.data, c->key.size, d, &d) < 0) {
                otlp_reject(c->res, 1, "metric %s: too many delta series", m->name);
                continue;
            }
        }
        begin(c, m->name, kind, dp->time_unix_nano);
        if (is_int && !delta) {
            msgpack_pack_map(&c->pk, 1);
            sluice_pack_cstr(&c->pk, "value");
            msgpack_pack_int64(&c->pk, dp->as_int);
        } else {
            pack_value_field(c, d);
        }
        c->res->accepted++;
    }
}

static void
pack_bucket(mctx *c, double bound, uint64_t cumulative)
{
    char key[48] = "bucket_+Inf";
    int n = 11;
    if (!isinf(bound)) n = 7 + sluice_double_text(bound, key + 7);
    sluice_pack_str(&c->pk, key, (size_t)n);
    msgpack_pack_uint64(&c->pk, cumulative);
}

/* Why the buckets of `p` cannot be read, or NULL. */
static const char *
bad_buckets(const histogram_point *p)
{
    if (p->n_bucket_counts && p->n_bucket_counts != p->n_explicit_bounds + 1)
        return "bucket_counts do not match explicit_bounds";
    for (size_t b = 0; p->n_bucket_counts && b < p->n_explicit_bounds; b++)
        if (!isfinite(p->explicit_bounds[b]) ||
            (b && !(p->explicit_bounds[b] > p->explicit_bounds[b - 1])))
            return "explicit_bounds are not finite and increasing";
    return NULL;
}

static void
histogram_points(mctx *c, const metric_t *m, histogram_point *const *p, size_t n, int delta)
{
    if (delta && !delta_ok(c, m, n)) return;
    for (size_t i = 0; i < n; i++) {
        const histogram_point *dp = p[i];
        if (dp->flags & NO_RECORDED_VALUE) {
            c->res->accepted++;
            continue;
        }
        const char *why = bad_buckets(dp);
        if (why) {
            otlp_reject(c->res, 1, "metric %s: %s", m->name, why);
            continue;
        }
        size_t nb = dp->n_bucket_counts ? dp->n_explicit_bounds : 0;
        if (nb + 1 > c->cap_buckets) {
            c->cap_buckets = (nb + 1) * 2;
            c->buckets = sluice_realloc(c->buckets, c->cap_buckets * sizeof *c->buckets);
        }
        if (dp->n_bucket_counts)
            memcpy(c->buckets, dp->bucket_counts, (nb + 1) * sizeof *c->buckets);
        else
            c->buckets[0] = dp->count;
        int has_sum = dp->_sum_case == M(HISTOGRAM_DATA_POINT___SUM_SUM);
        uint64_t count = dp->count;
        double sum = has_sum ? dp->sum : 0;
        point_tags(c, dp->attributes, dp->n_attributes, NULL, NULL);
        if (delta) {
            series_key(c, m->name, "histogram");
            if (otlp_delta_histogram(c->opt->delta, c->key.data, c->key.size, nb,
                                     dp->explicit_bounds, &count, &sum, c->buckets) < 0) {
                otlp_reject(c->res, 1, "metric %s: too many delta series", m->name);
                continue;
            }
        }
        begin(c, m->name, "histogram", dp->time_unix_nano);
        msgpack_pack_map(&c->pk, (uint32_t)(1 + has_sum + nb + 1));
        sluice_pack_cstr(&c->pk, "count");
        msgpack_pack_uint64(&c->pk, count);
        if (has_sum) {
            sluice_pack_cstr(&c->pk, "sum");
            msgpack_pack_double(&c->pk, sum);
        }
        uint64_t cumulative = 0;
        for (size_t b = 0; b < nb; b++) {
            cumulative += c->buckets[b];
            pack_bucket(c, dp->explicit_bounds[b], cumulative);
        }
        pack_bucket(c, INFINITY, count);
        c->res->accepted++;
    }
}

static void
summary_points(mctx *c, const metric_t *m, summary_point *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const summary_point *dp = p[i];
        if (dp->flags & NO_RECORDED_VALUE) {
            c->res->accepted++;
            continue;
        }
        for (size_t q = 0; q < dp->n_quantile_values; q++) {
            char text[32];
            double quantile = dp->quantile_values[q]->quantile;
            if (isnan(quantile))
                snprintf(text, sizeof text, "NaN");
            else if (isinf(quantile))
                snprintf(text, sizeof text, "%cInf", quantile < 0 ? '-' : '+');
            else
                sluice_double_text(quantile, text);
            point_tags(c, dp->attributes, dp->n_attributes, "quantile", text);
            begin(c, m->name, "summary", dp->time_unix_nano);
            pack_value_field(c, dp->quantile_values[q]->value);
        }
        point_tags(c, dp->attributes, dp->n_attributes, NULL, NULL);
        begin(c, suffixed(c, m->name, "_sum"), "summary", dp->time_unix_nano);
        pack_value_field(c, dp->sum);
        begin(c, suffixed(c, m->name, "_count"), "summary", dp->time_unix_nano);
        msgpack_pack_map(&c->pk, 1);
        sluice_pack_cstr(&c->pk, "value");
        msgpack_pack_uint64(&c->pk, dp->count);
        c->res->accepted++;
    }
}

/* ==== Metrics ==== */

static size_t
point_count(const metric_t *m)
{
    switch (m->data_case) {
    case M(METRIC__DATA_GAUGE):
        return m->gauge ? m->gauge->n_data_points : 0;
    case M(METRIC__DATA_SUM):
        return m->sum ? m->sum->n_data_points : 0;
    case M(METRIC__DATA_HISTOGRAM):
        return m->histogram ? m->histogram->n_data_points : 0;
    case M(METRIC__DATA_EXPONENTIAL_HISTOGRAM):
        return m->exponential_histogram ? m->exponential_histogram->n_data_points : 0;
    case M(METRIC__DATA_SUMMARY):
        return m->summary ? m->summary->n_data_points : 0;
    default:
        return 0;
    }
}

static void
map_metric(mctx *c, const metric_t *m)
{
    size_t n = point_count(m);
    if (n == 0) return;
    if (!m->name[0]) {
        otlp_reject(c->res, n, "a metric without a name");
        return;
    }
    switch (m->data_case) {
    case M(METRIC__DATA_GAUGE):
        number_points(c, m, m->gauge->data_points, n, "gauge", 0);
        return;
    case M(METRIC__DATA_SUM): {
        int temporality = m->sum->aggregation_temporality;
        if (temporality != M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA) &&
            temporality != M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE)) {
            otlp_reject(c->res, n, "metric %s: aggregation temporality unspecified", m->name);
            return;
        }
        number_points(c, m, m->sum->data_points, n, m->sum->is_monotonic ? "counter" : "gauge",
                      temporality == M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA));
        return;
    }
    case M(METRIC__DATA_HISTOGRAM): {
        int temporality = m->histogram->aggregation_temporality;
        if (temporality != M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA) &&
            temporality != M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE)) {
            otlp_reject(c->res, n, "metric %s: aggregation temporality unspecified", m->name);
            return;
        }
        histogram_points(c, m, m->histogram->data_points, n,
                         temporality == M(AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA));
        return;
    }
    case M(METRIC__DATA_SUMMARY):
        summary_points(c, m, m->summary->data_points, n);
        return;
    default:
        otlp_reject(c->res, n, "metric %s: exponential histograms are not supported", m->name);
        return;
    }
}

int
otlp_metrics_decode(const char *body, size_t len, otlp_encoding enc, const otlp_options *opt,
                    msgpack_sbuffer *out, otlp_result *res, char *err, size_t errlen)
{
    static const otlp_options defaults = OTLP_OPTIONS_DEFAULT;
    memset(res, 0, sizeof *res);
    otlp_arena a;
    otlp_arena_init(&a);
    ProtobufCMessage *msg;
    if (otlp_decode(&REQUEST_DESCRIPTOR, body, len, enc, &a, &msg, err, errlen) < 0) {
        otlp_arena_destroy(&a);
        return -1;
    }
    mctx c = {.opt = opt ? opt : &defaults, .a = &a, .res = res, .now = sluice_time_now()};
    msgpack_packer_init(&c.pk, out, msgpack_sbuffer_write);
    msgpack_sbuffer_init(&c.key);
    msgpack_packer_init(&c.kpk, &c.key, msgpack_sbuffer_write);
    const metrics_request *req = (const metrics_request *)msg;
    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        const resource_metrics *rm = req->resource_metrics[i];
        resource_tags(&c, rm->resource);
        for (size_t s = 0; s < rm->n_scope_metrics; s++)
            for (size_t k = 0; k < rm->scope_metrics[s]->n_metrics; k++)
                map_metric(&c, rm->scope_metrics[s]->metrics[k]);
    }
    msgpack_sbuffer_destroy(&c.key);
    free(c.tags);
    free(c.buckets);
    sluice_buf_free(&c.text);
    sluice_buf_free(&c.name);
    otlp_arena_destroy(&a);
    return 0;
}

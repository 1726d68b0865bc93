/* filter_log_to_metrics: scrapes metrics out of log events.
 *
 * Each definition under `metrics:` counts matching events (counter, or the
 * sum of a numeric field), keeps the last value of a field (gauge), or
 * sorts a field's values into buckets (histogram, with count and sum), per
 * distinct values of its `labels`. Every `interval`, and once more when
 * sluice stops, every series is emitted as a metric event into this
 * pipeline (after this filter) or into the pipeline `emit_to`:
 *
 *   {name, kind: counter|gauge|histogram, tags: {label: value},
 *    fields: counter/gauge {value}; histogram {count, sum, bucket_<le>...}}
 *
 * Counters and histograms are cumulative since start, as in Prometheus;
 * with expire_after, a series not observed for that long is emitted once
 * more and forgotten.
 * Past `max_series` series, new ones are not created: their observations
 * are counted as dropped and the log names the metric. Log events pass on
 * unchanged unless discard_logs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "field_rules.h"
#include "series.h"

enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };
static const char *const kind_names[] = {"counter", "gauge", "histogram", NULL};

typedef struct metric_config {
    char *name;
    int kind;
    char *field;
    sluice_strlist labels;
    sluice_bytes when;
    sluice_strlist buckets;
} metric_config;

typedef struct l2m_config {
    sluice_list metrics;
    int64_t interval;
    char *emit_to;
    int64_t max_series;
    int64_t expire_after;
    int discard_logs;
} l2m_config;

static const sluice_option metric_options[] = {
    {.name = "name", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(metric_config, name),
     .help = "Metric name: letters, digits, '_' and ':', not starting with a digit."},
    {.name = "type", .type = SLUICE_OPT_ENUM, .flags = SLUICE_OPT_REQUIRED, .values = kind_names,
     .offset = offsetof(metric_config, kind),
     .help = "counter: matching events (or the sum of `field`); gauge: the last value of "
             "`field`; histogram: `field`'s values in `buckets`, with count and sum."},
    {.name = "field", .type = SLUICE_OPT_STR, .offset = offsetof(metric_config, field),
     .help = "The numeric field observed (a path: a.b); numeric strings count. Events "
             "without it are not observed (counted as skipped)."},
    {.name = "labels", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(metric_config, labels),
     .help = "Fields whose values become tags: one series per distinct combination."},
    {.name = "when", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(metric_config, when),
     .help = "field: regex pairs that must all match for an event to be observed."},
    {.name = "buckets", .type = SLUICE_OPT_STR_LIST,
     .def = "[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]",
     .offset = offsetof(metric_config, buckets),
     .help = "Histogram: ascending upper bounds; +Inf is implied."},
    SLUICE_OPTIONS_END,
};

static const sluice_option l2m_options[] = {
    {.name = "metrics", SLUICE_OPT_LIST_OF(metric_config), .flags = SLUICE_OPT_REQUIRED,
     .sub = metric_options, .offset = offsetof(l2m_config, metrics),
     .help = "The metrics to scrape."},
    {.name = "interval", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = 10 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(l2m_config, interval),
     .help = "Emit every series this often (and once more at shutdown)."},
    {.name = "emit_to", .type = SLUICE_OPT_STR, .offset = offsetof(l2m_config, emit_to),
     .help = "Pipeline the metric events enter (through its filters); default: this one, "
             "after this filter."},
    {.name = "max_series", .type = SLUICE_OPT_INT, .def = "10000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 10000000, .offset = offsetof(l2m_config, max_series),
     .help = "Most series kept over all metrics; observations of new series past it are "
             "dropped and counted."},
    {.name = "expire_after", .type = SLUICE_OPT_DURATION, .def = "0", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 365 * 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(l2m_config, expire_after),
     .help = "Forget a series not observed for this long, after emitting it once more (its "
             "room counts again under max_series); 0 keeps every series."},
    {.name = "discard_logs", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(l2m_config, discard_logs),
     .help = "Drop the log events once observed (only metrics go on)."},
    SLUICE_OPTIONS_END,
};

typedef struct metric {
    const metric_config *cfg;
    field_rules when;
    double *bounds; /* histogram */
    size_t n_bounds;
    uint64_t skipped;       /* events without a numeric field */
    uint64_t series_dropped; /* observations refused by max_series */
} metric;

typedef struct l2m_ctx {
    sluice_instance *ins;
    const l2m_config *cfg;
    metric *metrics;
    size_t n_metrics;
    series_table table;
    sluice_emitter *to;
    sluice_buf key, text;
    sluice_time_t now; /* of the batch being observed */
    uint64_t expired;
} l2m_ctx;

/* ==== Set-up ==== */

static int
valid_metric_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == ':'))
            return 0;
    return 1;
}

static int
parse_buckets(l2m_ctx *c, metric *m, size_t idx)
{
    char opt[64];
    const sluice_strlist *b = &m->cfg->buckets;
    m->bounds = sluice_calloc(b->n ? b->n : 1, sizeof *m->bounds);
    for (size_t i = 0; i < b->n; i++) {
        char *end;
        double v = strtod(b->v[i], &end);
        snprintf(opt, sizeof opt, "metrics[%zu].buckets[%zu]", idx, i);
        if (end == b->v[i] || *end || !isfinite(v)) {
            sluice_option_error(c->ins, opt, "expected a number, found '%s'", b->v[i]);
            return 1;
        }
        if (i && v <= m->bounds[i - 1]) {
            sluice_option_error(c->ins, opt, "buckets must ascend: %s follows %g", b->v[i],
                                m->bounds[i - 1]);
            return 1;
        }
        m->bounds[m->n_bounds++] = v;
    }
    return 0;
}

static int
setup_metric(l2m_ctx *c, metric *m, const metric_config *mc, size_t idx)
{
    char opt[64];
    m->cfg = mc;
    if (!valid_metric_name(mc->name)) {
        snprintf(opt, sizeof opt, "metrics[%zu].name", idx);
        sluice_option_error(c->ins, opt, "'%s' is not a metric name: use letters, digits, '_' "
                                         "and ':', not starting with a digit",
                            mc->name);
        return 1;
    }
    if (mc->kind != KIND_COUNTER && !mc->field) {
        snprintf(opt, sizeof opt, "metrics[%zu]", idx);
        sluice_option_error(c->ins, opt, "metric %s: a %s needs a `field`", mc->name,
                            kind_names[mc->kind]);
        return 1;
    }
    snprintf(opt, sizeof opt, "metrics[%zu].when", idx);
    int bad = field_rules_compile(&m->when, c->ins, opt, &mc->when) > 0;
    if (mc->kind == KIND_HISTOGRAM)
        bad |= parse_buckets(c, m, idx);
    return bad;
}

static void
l2m_exit(void *ctx)
{
    l2m_ctx *c = ctx;
    for (size_t i = 0; i < c->n_metrics; i++) {
        metric *m = &c->metrics[i];
        if (m->skipped || m->series_dropped)
            sluice_info(c->ins, "metric %s: %llu events without a numeric %s skipped; %llu "
                                "observations dropped past max_series",
                        m->cfg->name, (unsigned long long)m->skipped,
                        m->cfg->field ? m->cfg->field : "field",
                        (unsigned long long)m->series_dropped);
        field_rules_free(&m->when);
        free(m->bounds);
    }
    if (c->expired)
        sluice_info(c->ins, "%llu series expired", (unsigned long long)c->expired);
    free(c->metrics);
    series_table_free(&c->table);
    sluice_buf_free(&c->key);
    sluice_buf_free(&c->text);
    free(c);
}

static void collect(sluice_instance *ins, void *arg);

static int
l2m_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const l2m_config *cfg = config;
    l2m_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    series_table_init(&c->table);
    c->metrics = sluice_calloc(cfg->metrics.n ? cfg->metrics.n : 1, sizeof *c->metrics);
    int bad = 0;
    const metric_config *mcs = cfg->metrics.items;
    for (size_t i = 0; i < cfg->metrics.n; i++) {
        c->n_metrics++;
        bad |= setup_metric(c, &c->metrics[i], &mcs[i], i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(mcs[j].name, mcs[i].name) == 0) {
                char opt[64];
                snprintf(opt, sizeof opt, "metrics[%zu].name", i);
                sluice_option_error(ins, opt, "metric %s is defined twice (first as metrics[%zu])",
                                    mcs[i].name, j);
                bad = 1;
            }
    }
    if (cfg->metrics.n == 0) {
        sluice_option_error(ins, "metrics", "define at least one metric");
        bad = 1;
    }
    c->to = cfg->emit_to ? sluice_pipeline_route(ins, "emit_to", cfg->emit_to)
                         : sluice_input_emitter(ins);
    bad |= !c->to;
    sluice_collector_add(ins, cfg->interval, collect, c);
    return bad ? SLUICE_ERROR : SLUICE_OK;
}

/* ==== Observing ==== */

static int
numeric(const msgpack_object *v, double *out)
{
    char buf[64], *end;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (double)v->via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (double)v->via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = v->via.f64;
        return isfinite(*out) ? 0 : -1;
    case MSGPACK_OBJECT_STR:
        if (v->via.str.size == 0 || v->via.str.size >= sizeof buf)
            return -1;
        memcpy(buf, v->via.str.ptr, v->via.str.size);
        buf[v->via.str.size] = '\0';
        *out = strtod(buf, &end);
        return *end || !isfinite(*out) ? -1 : 0;
    default:
        return -1;
    }
}

/* The series of `m` for this event's labels, created if there is room. */
static series *
series_for(l2m_ctx *c, uint32_t idx, const msgpack_object *body)
{
    metric *m = &c->metrics[idx];
    sluice_buf_reset(&c->key);
    for (size_t i = 0; i < m->cfg->labels.n; i++) {
        size_t len = 0;
        const char *s = field_text(body, m->cfg->labels.v[i], &c->text, &len);
        uint32_t n = s ? (uint32_t)len : 0;
        sluice_buf_append(&c->key, &n, sizeof n);
        if (n)
            sluice_buf_append(&c->key, s, n);
    }
    series *s = series_find(&c->table, idx, c->key.data, c->key.len);
    if (s)
        return s;
    if (c->table.n >= (size_t)c->cfg->max_series) {
        if (m->series_dropped++ % 10000 == 0)
            sluice_warn(c->ins, "metric %s: max_series (%lld) reached; observations of new "
                                "label values are dropped (%llu so far)",
                        m->cfg->name, (long long)c->cfg->max_series,
                        (unsigned long long)m->series_dropped);
        return NULL;
    }
    return series_add(&c->table, idx, c->key.data, c->key.len,
                      m->cfg->kind == KIND_HISTOGRAM ? m->n_bounds + 1 : 0);
}

static void
observe(l2m_ctx *c, uint32_t idx, const msgpack_object *body)
{
    metric *m = &c->metrics[idx];
    if (!field_rules_all(&m->when, body))
        return;
    double v = 1;
    if (m->cfg->field) {
        const msgpack_object *f = sluice_record_get(body, m->cfg->field);
        if (!f || numeric(f, &v) < 0) {
            m->skipped++;
            return;
        }
    }
    series *s = series_for(c, idx, body);
    if (!s)
        return;
    s->count++;
    s->last_seen = c->now;
    switch (m->cfg->kind) {
    case KIND_COUNTER:
        s->value += v;
        break;
    case KIND_GAUGE:
        s->value = v;
        break;
    case KIND_HISTOGRAM: {
        size_t b = 0;
        while (b < m->n_bounds && v > m->bounds[b])
            b++;
        s->buckets[b]++;
        s->value += v;
        break;
    }
    }
}

static int
l2m_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    l2m_ctx *c = ctx;
    sluice_event_iter it;
    sluice_event ev;
    c->now = sluice_time_now();
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1)
        for (uint32_t i = 0; i < c->n_metrics; i++)
            observe(c, i, &ev.body);
    sluice_event_iter_destroy(&it);
    if (!c->cfg->discard_logs)
        return SLUICE_FILTER_NOTOUCH;
    sluice_filter_dropped(c->ins, in->count);
    (void)out;
    return SLUICE_FILTER_MODIFIED;
}

/* ==== Emitting ==== */

static void
pack_bucket_key(msgpack_packer *pk, double bound)
{
    char key[48] = "bucket_+Inf";
    int n = 11;
    if (!isinf(bound))
        n = 7 + sluice_double_text(bound, key + 7);
    msgpack_pack_str_with_body(pk, key, (size_t)n);
}

static void
emit_series(l2m_ctx *c, const series *s, sluice_time_t now)
{
    const metric *m = &c->metrics[s->metric];
    msgpack_packer *pk = sluice_emit_begin(c->to, SLUICE_EVENT_METRIC, now);
    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    sluice_pack_cstr(pk, m->cfg->name);
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, kind_names[m->cfg->kind]);
    sluice_pack_cstr(pk, "tags");
    uint32_t n_tags = 0, len;
    for (size_t i = 0, off = 0; i < m->cfg->labels.n; i++, off += sizeof len + len) {
        memcpy(&len, s->key + off, sizeof len);
        n_tags += len > 0; /* an absent or empty label is no tag */
    }
    msgpack_pack_map(pk, n_tags);
    for (size_t i = 0, off = 0; i < m->cfg->labels.n; i++, off += sizeof len + len) {
        memcpy(&len, s->key + off, sizeof len);
        if (len) {
            sluice_pack_cstr(pk, m->cfg->labels.v[i]);
            msgpack_pack_str_with_body(pk, s->key + off + sizeof len, len);
        }
    }
    sluice_pack_cstr(pk, "fields");
    if (m->cfg->kind != KIND_HISTOGRAM) {
        msgpack_pack_map(pk, 1);
        sluice_pack_cstr(pk, "value");
        if (m->cfg->kind == KIND_COUNTER && !m->cfg->field)
            msgpack_pack_uint64(pk, s->count);
        else
            msgpack_pack_double(pk, s->value);
    } else {
        msgpack_pack_map(pk, 2 + (uint32_t)m->n_bounds + 1);
        sluice_pack_cstr(pk, "count");
        msgpack_pack_uint64(pk, s->count);
        sluice_pack_cstr(pk, "sum");
        msgpack_pack_double(pk, s->value);
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= m->n_bounds; b++) {
            cumulative += s->buckets[b];
            pack_bucket_key(pk, b < m->n_bounds ? m->bounds[b] : INFINITY);
            msgpack_pack_uint64(pk, cumulative);
        }
    }
    sluice_emit_end(c->to);
}

static int
fresh(const series *s, void *arg)
{
    const l2m_ctx *c = arg;
    return s->last_seen > c->now - c->cfg->expire_after;
}

/* Every series, then forget those past expire_after (they were just
 * emitted one last time). */
static void
emit_all(l2m_ctx *c)
{
    sluice_time_t now = sluice_time_now();
    for (size_t i = 0; i < c->table.n; i++)
        emit_series(c, &c->table.v[i], now);
    if (c->cfg->expire_after) {
        size_t before = c->table.n;
        c->now = now;
        series_table_retain(&c->table, fresh, c);
        c->expired += before - c->table.n;
    }
}

static void
collect(sluice_instance *ins, void *arg)
{
    (void)ins;
    emit_all(arg);
}

/* After every input has stopped and every event has passed: the last
 * aggregates. */
static void
l2m_stop(void *ctx)
{
    emit_all(ctx);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "log_to_metrics",
    .description = "Scrape counters, gauges and histograms out of log events.",
    .options = l2m_options,
    .config_size = sizeof(l2m_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .emits = SLUICE_ACCEPTS_METRICS,
    .init = l2m_init,
    .exit = l2m_exit,
    .stop = l2m_stop,
    .filter = l2m_filter,
};

/* sluice's own metrics: one table of definitions, rendered as Prometheus
 * text, as JSON, and as metric events (see metrics.h). */
#include <dirent.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "engine.h"
#include "metrics.h"
#include "sluice/format.h"
#include "sluice/version.h"
#include "xalloc.h"

typedef enum scope { SCOPE_INPUT, SCOPE_FILTER, SCOPE_OUTPUT, SCOPE_PIPELINE } scope;

typedef struct metric_def {
    const char *name;  /* after "sluice_<scope>_" */
    const char *help;
    int counter;       /* else a gauge */
    scope where;
    double (*get)(const void *obj);
} metric_def;

#define GETTER(fn, T, expr)                                                                        \
    static double fn(const void *p)                                                                \
    {                                                                                              \
        const T *x = p;                                                                            \
        return (double)(expr);                                                                     \
    }

GETTER(in_events, sluice_instance, x->events_in)
GETTER(in_bytes, sluice_instance, x->bytes_in)
GETTER(in_paused, sluice_instance, x->paused)
GETTER(f_in, sluice_instance, x->events_in)
GETTER(f_out, sluice_instance, x->events_out)
GETTER(f_errors, sluice_instance, x->filter_errors)
GETTER(f_dropped, sluice_instance, x->dropped)
GETTER(f_failed, sluice_instance, x->failed)
GETTER(f_dead, sluice_instance, x->dead->events)
GETTER(o_events, output, x->delivered_events)
GETTER(o_bytes, output, x->delivered_bytes)
GETTER(o_chunks, output, x->delivered_chunks)
GETTER(o_retries, output, x->retries)
GETTER(o_retried, output, x->retried_events)
GETTER(o_failed, output, x->failed_events)
GETTER(o_dead, output, x->dead.events)
GETTER(o_dropped, output, x->buf.dropped_events)
GETTER(o_pending, output, x->pending)
GETTER(o_mem, output, x->buf.held_bytes)
GETTER(o_disk, output, x->buf.disk_bytes)
GETTER(o_spilled, output, x->buf.spilled)
GETTER(o_corrupt, output, x->buf.corrupt_chunks)
GETTER(o_torn, output, x->buf.torn_records)
GETTER(p_pauses, pipeline, x->pauses)
GETTER(p_paused, pipeline, x->paused)
GETTER(p_unrouted, pipeline, x->dropped_no_output)

static const metric_def defs[] = {
    {"events_total", "Events emitted by the input.", 1, SCOPE_INPUT, in_events},
    {"bytes_total", "Bytes of events emitted by the input (MessagePack).", 1, SCOPE_INPUT, in_bytes},
    {"paused", "1 while the input is paused by backpressure.", 0, SCOPE_INPUT, in_paused},
    {"events_in_total", "Events that entered the filter.", 1, SCOPE_FILTER, f_in},
    {"events_out_total", "Events the filter passed on (changed or not).", 1, SCOPE_FILTER, f_out},
    {"errors_total", "Batches on which the filter failed (passed on unchanged).", 1, SCOPE_FILTER,
     f_errors},
    {"dropped_total", "Events the filter dropped on purpose.", 1, SCOPE_FILTER, f_dropped},
    {"failed_events_total", "Events the filter could not process (kept flagged, dropped or "
     "dead-lettered).", 1, SCOPE_FILTER, f_failed},
    {"dead_lettered_total", "Events the filter wrote to its dead letters.", 1, SCOPE_FILTER,
     f_dead},
    {"events_total", "Events delivered by the output.", 1, SCOPE_OUTPUT, o_events},
    {"bytes_total", "Bytes of chunks delivered by the output (MessagePack).", 1, SCOPE_OUTPUT,
     o_bytes},
    {"chunks_total", "Chunks delivered by the output.", 1, SCOPE_OUTPUT, o_chunks},
    {"retries_total", "Flush attempts that failed transiently and were retried.", 1, SCOPE_OUTPUT,
     o_retries},
    {"retried_events_total", "Events in retried flushes.", 1, SCOPE_OUTPUT, o_retried},
    {"errors_total", "Events that failed for good (dead-lettered or lost at shutdown).", 1,
     SCOPE_OUTPUT, o_failed},
    {"dead_lettered_total", "Events written to the dead letters (or logged without a path).", 1,
     SCOPE_OUTPUT, o_dead},
    {"dropped_total", "Events dropped by buffer.when_full: drop_oldest.", 1, SCOPE_OUTPUT,
     o_dropped},
    {"pending_chunks", "Chunks queued, in flight or waiting to be retried.", 0, SCOPE_OUTPUT,
     o_pending},
    {"buffer_memory_bytes", "Bytes of chunks held in memory for the output.", 0, SCOPE_OUTPUT,
     o_mem},
    {"buffer_disk_bytes", "Bytes of chunk files of the output's filesystem buffer.", 0,
     SCOPE_OUTPUT, o_disk},
    {"buffer_spilled_chunks", "Chunks waiting on disk only.", 0, SCOPE_OUTPUT, o_spilled},
    {"corrupt_chunks_total", "Chunk files found corrupt and moved aside.", 1, SCOPE_OUTPUT,
     o_corrupt},
    {"torn_records_total", "Torn last records cut off chunk files at recovery.", 1, SCOPE_OUTPUT,
     o_torn},
    {"pauses_total", "Times the pipeline's inputs were paused by backpressure.", 1,
     SCOPE_PIPELINE, p_pauses},
    {"paused", "1 while the pipeline's inputs are paused.", 0, SCOPE_PIPELINE, p_paused},
    {"unrouted_events_total", "Events of a kind no output of the pipeline accepts (dropped).", 1,
     SCOPE_PIPELINE, p_unrouted},
};

static const char *const scope_names[] = {"input", "filter", "output", "pipeline"};

static void
label_value(sluice_buf *out, const char *s)
{
    sluice_prom_label_value(out, s, strlen(s));
}

static void
sample(sluice_buf *out, const metric_def *d, const char *pipeline_name, const sluice_instance *ins,
       double v)
{
    sluice_buf_printf(out, "sluice_%s_%s{pipeline=\"", scope_names[d->where], d->name);
    label_value(out, pipeline_name);
    if (ins) {
        sluice_buf_append(out, "\",plugin=\"", 10);
        label_value(out, ins->plugin->name);
        sluice_buf_append(out, "\",id=\"", 6);
        label_value(out, ins->id);
    }
    sluice_buf_append(out, "\"} ", 3);
    sluice_prom_value(out, v);
    sluice_buf_putc(out, '\n');
}

static sluice_time_t process_start;
static uint64_t process_start_mono; /* uv_hrtime */

void
metrics_process_started(void)
{
    process_start = sluice_time_now();
    process_start_mono = uv_hrtime();
}

/* A "Name:   value kB" line of /proc/self/status, in bytes; 0 if absent. */
static double
status_bytes(const char *status, const char *name)
{
    const char *p = strstr(status, name);
    return p ? strtod(p + strlen(name), NULL) * 1024 : 0;
}

static size_t
open_fds(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n ? n - 1 : 0; /* not the one reading the directory */
}

/* The process metrics Prometheus client libraries export, under their
 * standard names, and the peak RSS (VmHWM, which the kernel computes as
 * the larger of the recorded peak and the current RSS). */
static void
process_metrics(sluice_buf *out)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    char status[4096] = "";
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        size_t n = fread(status, 1, sizeof status - 1, f);
        status[n] = '\0';
        fclose(f);
    }
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    sluice_buf_printf(out,
                      "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                      "seconds.\n"
                      "# TYPE process_cpu_seconds_total counter\n"
                      "process_cpu_seconds_total %.6f\n"
                      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                      "# TYPE process_resident_memory_bytes gauge\n"
                      "process_resident_memory_bytes %.0f\n"
                      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                      "# TYPE process_virtual_memory_bytes gauge\n"
                      "process_virtual_memory_bytes %.0f\n"
                      "# HELP process_start_time_seconds Start time of the process since unix "
                      "epoch in seconds.\n"
                      "# TYPE process_start_time_seconds gauge\n"
                      "process_start_time_seconds %.3f\n"
                      "# HELP process_open_fds Number of open file descriptors.\n"
                      "# TYPE process_open_fds gauge\n"
                      "process_open_fds %zu\n"
                      "# HELP process_max_fds Maximum number of open file descriptors.\n"
                      "# TYPE process_max_fds gauge\n"
                      "process_max_fds %llu\n"
                      "# HELP sluice_resident_memory_peak_bytes Peak resident memory size in "
                      "bytes (VmHWM).\n"
                      "# TYPE sluice_resident_memory_peak_bytes gauge\n"
                      "sluice_resident_memory_peak_bytes %.0f\n"
                      "# HELP sluice_build_info The running version.\n"
                      "# TYPE sluice_build_info gauge\n"
                      "sluice_build_info{version=\"%s\"} 1\n",
                      cpu, status_bytes(status, "VmRSS:"), status_bytes(status, "VmSize:"),
                      (double)process_start / 1e9, open_fds(), (unsigned long long)rl.rlim_cur,
                      status_bytes(status, "VmHWM:"), SLUICE_VERSION);
}

/* ==== Metrics plugins keep of their own ==== */

static const char *const kind_names[] = {"", "input", "filter", "output"};

/* Every instance of the engine, in order; NULL past the last. */
static const sluice_instance *
nth_instance(engine *e, size_t n, const char **pipeline_name)
{
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        *pipeline_name = p->name;
        const sluice_instance *ins = pipeline_instance(p, n);
        if (ins)
            return ins;
        n -= p->n_inputs + p->n_filters + p->n_outputs;
    }
    return NULL;
}

static int
has_metrics(const sluice_instance *ins)
{
    return ins->plugin->metrics && ins->plugin->metric_value && ins->ctx;
}

/* One family per plugin and metric, its samples from every instance of
 * that plugin, the family written where its first instance comes. */
static void
plugin_metrics_prometheus(engine *e, sluice_buf *out)
{
    const char *pn, *qn;
    const sluice_instance *ins, *other;
    for (size_t i = 0; (ins = nth_instance(e, i, &pn)); i++) {
        if (!has_metrics(ins))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const sluice_instance *x = nth_instance(e, j, &qn);
            seen = has_metrics(x) && x->plugin == ins->plugin;
        }
        if (seen)
            continue;
        const struct sluice_plugin *pl = ins->plugin;
        const char *kind = kind_names[pl->kind];
        for (size_t m = 0; pl->metrics[m].name; m++) {
            const sluice_metric_def *d = &pl->metrics[m];
            sluice_buf_printf(out, "# HELP sluice_%s_%s_%s %s\n# TYPE sluice_%s_%s_%s %s\n", kind,
                              pl->name, d->name, d->help, kind, pl->name, d->name,
                              d->counter ? "counter" : "gauge");
            for (size_t j = i; (other = nth_instance(e, j, &qn)); j++) {
                if (other->plugin != pl || !other->ctx)
                    continue;
                sluice_buf_printf(out, "sluice_%s_%s_%s{pipeline=\"", kind, pl->name, d->name);
                label_value(out, qn);
                sluice_buf_append(out, "\",plugin=\"", 10);
                label_value(out, pl->name);
                sluice_buf_append(out, "\",id=\"", 6);
                label_value(out, other->id);
                sluice_buf_append(out, "\"} ", 3);
                sluice_prom_value(out, pl->metric_value(other->ctx, m));
                sluice_buf_putc(out, '\n');
            }
        }
    }
}

static size_t
plugin_metric_count(const sluice_instance *ins)
{
    size_t n = 0;
    while (has_metrics(ins) && ins->plugin->metrics[n].name)
        n++;
    return n;
}

void
metrics_prometheus(engine *e, sluice_buf *out)
{
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++) {
        const metric_def *m = &defs[d];
        sluice_buf_printf(out, "# HELP sluice_%s_%s %s\n# TYPE sluice_%s_%s %s\n",
                          scope_names[m->where], m->name, m->help, scope_names[m->where], m->name,
                          m->counter ? "counter" : "gauge");
        for (size_t i = 0; i < e->n_pipelines; i++) {
            pipeline *p = e->pipelines[i];
            if (m->where == SCOPE_PIPELINE)
                sample(out, m, p->name, NULL, m->get(p));
            for (size_t j = 0; m->where == SCOPE_INPUT && j < p->n_inputs; j++)
                sample(out, m, p->name, p->inputs[j], m->get(p->inputs[j]));
            for (size_t j = 0; m->where == SCOPE_FILTER && j < p->n_filters; j++)
                sample(out, m, p->name, p->filters[j], m->get(p->filters[j]));
            for (size_t j = 0; m->where == SCOPE_OUTPUT && j < p->n_outputs; j++)
                sample(out, m, p->name, p->outputs[j], m->get(p->outputs[j]->output));
        }
    }
    plugin_metrics_prometheus(e, out);
    process_metrics(out);
}

/* ==== Rates ==== */

/* Every counter of /api/v1/pipelines also comes as a rate per second over
 * about the last RATE_WINDOW_NS. Each request samples the counters (so
 * nothing runs while nobody asks) into one ring all clients share, at most
 * one sample per RATE_SPACING_NS; a rate is taken against the oldest sample
 * within the window that is at least RATE_MIN_NS old, else against the
 * newest older one (a client asking every 30 s gets the rate over those
 * 30 s). Before the first request the counters count from zero at process
 * start. The samples are only comparable while the topology stays the
 * same: when it changes (a reload) the ring restarts and rates are null
 * for a second. */
#define RATE_WINDOW_NS (10 * SLUICE_NSEC_PER_SEC)
#define RATE_MIN_NS SLUICE_NSEC_PER_SEC
#define RATE_SPACING_NS (SLUICE_NSEC_PER_SEC / 2)
#define RATE_SAMPLES 32

typedef struct rate_sample {
    uint64_t t; /* uv_hrtime */
    double *v;  /* every counter, in walk order */
} rate_sample;

/* The counters now, and what they describe. */
typedef struct counter_set {
    sluice_buf shape; /* one line per pipeline and instance */
    double *v;
    size_t n, cap;
} counter_set;

static struct {
    const engine *e;
    sluice_buf shape;
    size_t n;
    rate_sample ring[RATE_SAMPLES];
    size_t newest, count;
} rates;

/* A rate being rendered: the values now and then, and where we are. */
typedef struct rate_walk {
    uint64_t t;
    double *now;
    const double *then; /* NULL when there is no rate */
    double seconds;
    size_t at;
} rate_walk;

static void
counters_add(counter_set *cs, double x)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 64;
        cs->v = xrealloc(cs->v, cs->cap * sizeof *cs->v);
    }
    cs->v[cs->n++] = x;
}

static void
counters_of(counter_set *cs, scope where, const char *pipeline_name, const sluice_instance *ins,
            const void *obj)
{
    size_t own = ins ? plugin_metric_count(ins) : 0;
    sluice_buf_printf(&cs->shape, "%s %s %s %s %zu\n", scope_names[where], pipeline_name,
                      ins ? ins->id : "", ins ? ins->plugin->name : "", own);
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        if (defs[d].where == where && defs[d].counter)
            counters_add(cs, defs[d].get(obj));
    for (size_t m = 0; m < own; m++)
        if (ins->plugin->metrics[m].counter)
            counters_add(cs, ins->plugin->metric_value(ins->ctx, m));
}

/* The walk the JSON renders in. */
static void
counters_collect(engine *e, counter_set *cs)
{
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        counters_of(cs, SCOPE_PIPELINE, p->name, NULL, p);
        for (size_t j = 0; j < p->n_inputs; j++)
            counters_of(cs, SCOPE_INPUT, p->name, p->inputs[j], p->inputs[j]);
        for (size_t j = 0; j < p->n_filters; j++)
            counters_of(cs, SCOPE_FILTER, p->name, p->filters[j], p->filters[j]);
        for (size_t j = 0; j < p->n_outputs; j++)
            counters_of(cs, SCOPE_OUTPUT, p->name, p->outputs[j], p->outputs[j]->output);
    }
}

static void
rates_push(uint64_t t, double *v)
{
    if (rates.count == RATE_SAMPLES)
        free(rates.ring[(rates.newest + 1) % RATE_SAMPLES].v);
    else
        rates.count++;
    rates.newest = (rates.newest + 1) % RATE_SAMPLES;
    rates.ring[rates.newest] = (rate_sample){t, v};
}

static void
rates_reset(engine *e, const sluice_buf *shape, size_t n)
{
    int first = rates.e == NULL;
    for (size_t k = 0; k < rates.count; k++)
        free(rates.ring[(rates.newest + RATE_SAMPLES - k) % RATE_SAMPLES].v);
    rates.count = 0;
    rates.e = e;
    rates.n = n;
    sluice_buf_reset(&rates.shape);
    sluice_buf_append(&rates.shape, shape->data, shape->len);
    if (first && process_start_mono)
        rates_push(process_start_mono, xcalloc(n ? n : 1, sizeof(double)));
}

/* The sample to take rates against at `now`, or NULL. */
static const rate_sample *
rates_base(uint64_t now)
{
    const rate_sample *base = NULL;
    for (size_t k = 0; k < rates.count; k++) {
        const rate_sample *s = &rates.ring[(rates.newest + RATE_SAMPLES - k) % RATE_SAMPLES];
        uint64_t age = now - s->t;
        if (age < (uint64_t)RATE_MIN_NS)
            continue;
        if (base && age > (uint64_t)RATE_WINDOW_NS)
            break;
        base = s;
    }
    return base;
}

/* Sample the counters and set up `w` to render their rates. */
static void
rates_begin(engine *e, rate_walk *w)
{
    counter_set cs = {SLUICE_BUF_INIT, NULL, 0, 0};
    counters_collect(e, &cs);
    uint64_t now = uv_hrtime();
    if (rates.e != e || rates.shape.len != cs.shape.len ||
        (cs.shape.len && memcmp(rates.shape.data, cs.shape.data, cs.shape.len) != 0))
        rates_reset(e, &cs.shape, cs.n);
    sluice_buf_free(&cs.shape);
    const rate_sample *base = rates_base(now);
    *w = (rate_walk){now, cs.v, base ? base->v : NULL,
                     base ? (double)(now - base->t) / 1e9 : 0, 0};
}

/* Once rendered: keep the sample, or drop it when the last is too recent. */
static void
rates_end(rate_walk *w)
{
    if (rates.count && w->t - rates.ring[rates.newest].t < (uint64_t)RATE_SPACING_NS)
        free(w->now);
    else
        rates_push(w->t, w->now);
}

/* ",\"<name without _total>_per_second\":<rate>" for the next counter. */
static void
rate_field(sluice_buf *out, rate_walk *w, const char *name)
{
    size_t len = strlen(name);
    if (len > 6 && strcmp(name + len - 6, "_total") == 0)
        len -= 6;
    sluice_buf_printf(out, ",\"%.*s_per_second\":", (int)len, name);
    size_t i = w->at++;
    if (!w->then || w->seconds <= 0) {
        sluice_buf_append(out, "null", 4);
        return;
    }
    /* A counter that went down was reset: count it from zero. */
    double d = w->now[i] >= w->then[i] ? w->now[i] - w->then[i] : w->now[i];
    if (isfinite(d / w->seconds))
        sluice_buf_printf(out, "%.6g", d / w->seconds);
    else
        sluice_buf_append(out, "null", 4);
}

static void
json_rates(sluice_buf *out, rate_walk *w, scope where, const sluice_instance *ins)
{
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        if (defs[d].where == where && defs[d].counter)
            rate_field(out, w, defs[d].name);
    for (size_t m = 0, n = ins ? plugin_metric_count(ins) : 0; m < n; m++)
        if (ins->plugin->metrics[m].counter)
            rate_field(out, w, ins->plugin->metrics[m].name);
}

int
metrics_is_core_field(const char *name)
{
    static const char *const fixed[] = {"id", "plugin", "name", "workers", "buffer"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strcmp(name, fixed[i]) == 0)
            return 1;
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        if (strcmp(name, defs[d].name) == 0)
            return 1;
    return 0;
}

/* ==== JSON ==== */

/* A number, or null for what JSON cannot write (NaN, infinities). */
static void
json_number(sluice_buf *out, double v)
{
    if (isfinite(v))
        sluice_buf_printf(out, "%.17g", v);
    else
        sluice_buf_append(out, "null", 4);
}

static void
json_key(sluice_buf *out, const char *k)
{
    sluice_json_string(out, k, strlen(k));
    sluice_buf_putc(out, ':');
}

static void
json_metrics(sluice_buf *out, scope where, const void *obj)
{
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++) {
        if (defs[d].where != where)
            continue;
        sluice_buf_printf(out, ",\"%s\":", defs[d].name);
        json_number(out, defs[d].get(obj));
    }
}

static void
json_instance(sluice_buf *out, const sluice_instance *ins, int first)
{
    if (!first)
        sluice_buf_putc(out, ',');
    sluice_buf_putc(out, '{');
    json_key(out, "id");
    sluice_json_string(out, ins->id, strlen(ins->id));
    sluice_buf_putc(out, ',');
    json_key(out, "plugin");
    sluice_json_string(out, ins->plugin->name, strlen(ins->plugin->name));
    for (size_t m = 0, n = plugin_metric_count(ins); m < n; m++) {
        sluice_buf_printf(out, ",\"%s\":", ins->plugin->metrics[m].name);
        json_number(out, ins->plugin->metric_value(ins->ctx, m));
    }
}

void
metrics_pipelines_json(engine *e, sluice_buf *out)
{
    rate_walk w;
    rates_begin(e, &w);
    sluice_buf_printf(out, "{\"version\":\"%s\",\"rate_window_seconds\":", SLUICE_VERSION);
    if (w.then)
        sluice_buf_printf(out, "%.3f", w.seconds);
    else
        sluice_buf_append(out, "null", 4);
    sluice_buf_append(out, ",\"pipelines\":[", 14);
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        if (i)
            sluice_buf_putc(out, ',');
        sluice_buf_putc(out, '{');
        json_key(out, "name");
        sluice_json_string(out, p->name, strlen(p->name));
        json_metrics(out, SCOPE_PIPELINE, p);
        json_rates(out, &w, SCOPE_PIPELINE, NULL);
        sluice_buf_append(out, ",\"inputs\":[", 11);
        for (size_t j = 0; j < p->n_inputs; j++) {
            json_instance(out, p->inputs[j], j == 0);
            json_metrics(out, SCOPE_INPUT, p->inputs[j]);
            json_rates(out, &w, SCOPE_INPUT, p->inputs[j]);
            sluice_buf_putc(out, '}');
        }
        sluice_buf_append(out, "],\"filters\":[", 13);
        for (size_t j = 0; j < p->n_filters; j++) {
            json_instance(out, p->filters[j], j == 0);
            json_metrics(out, SCOPE_FILTER, p->filters[j]);
            json_rates(out, &w, SCOPE_FILTER, p->filters[j]);
            sluice_buf_putc(out, '}');
        }
        sluice_buf_append(out, "],\"outputs\":[", 13);
        for (size_t j = 0; j < p->n_outputs; j++) {
            const output *o = p->outputs[j]->output;
            json_instance(out, p->outputs[j], j == 0);
            json_metrics(out, SCOPE_OUTPUT, o);
            json_rates(out, &w, SCOPE_OUTPUT, p->outputs[j]);
            sluice_buf_printf(out,
                              ",\"workers\":%zu,\"buffer\":{\"type\":\"%s\",\"max_memory\":%lld,"
                              "\"max_disk\":%lld}}",
                              o->n_workers, o->buf.fs ? "filesystem" : "memory",
                              (long long)o->buf.max_memory,
                              (long long)o->settings->max_disk);
        }
        sluice_buf_append(out, "]}", 2);
    }
    sluice_buf_append(out, "]}\n", 3);
    rates_end(&w);
}

/* ==== Health ==== */

/* Attempts after which a chunk's backoff has reached max_backoff: past
 * them the backend has been failing for a long while, not a moment. */
static unsigned
saturated_attempts(const output_settings *s)
{
    unsigned k = 1;
    for (int64_t b = s->initial_backoff; b < s->max_backoff && k < 64; b *= 2)
        k++;
    return k < 3 ? 3 : k;
}

int
metrics_health(engine *e, sluice_buf *out)
{
    sluice_buf reasons = SLUICE_BUF_INIT;
    size_t n = 0;
    for (size_t i = 0; i < e->n_outputs; i++) {
        const output *o = e->outputs[i];
        unsigned budget = o->settings->max_attempts ? (unsigned)o->settings->max_attempts
                                                    : saturated_attempts(o->settings);
        unsigned worst = 0;
        for (const struct sluice_flush *fl = o->live; fl; fl = fl->live_next)
            if (fl->attempt > worst)
                worst = fl->attempt;
        char why[600];
        why[0] = '\0';
        if (worst >= budget)
            snprintf(why, sizeof why, "%s: a chunk has failed %u attempts; last error: %s",
                     o->ins->id, worst, o->last_error[0] ? o->last_error : "unknown");
        else if (o->last_gave_up > o->last_ok)
            snprintf(why, sizeof why, "%s: gave up on events and has delivered nothing since; "
                     "last error: %s", o->ins->id, o->last_error);
        if (!why[0])
            continue;
        if (n++)
            sluice_buf_putc(&reasons, ',');
        sluice_json_string(&reasons, why, strlen(why));
    }
    int status = n ? 503 : 200;
    sluice_buf_printf(out, "{\"status\":\"%s\",\"reasons\":[", n ? "failing" : "ok");
    if (reasons.len)
        sluice_buf_append(out, reasons.data, reasons.len);
    sluice_buf_append(out, "]}\n", 3);
    sluice_buf_free(&reasons);
    return status;
}

/* ==== Metric events (the internal_metrics input) ==== */

static void
emit_scope(sluice_emitter *em, sluice_time_t now, scope where, const char *pipeline_name,
           const sluice_instance *ins, const void *obj)
{
    size_t n = 0;
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        n += defs[d].where == where;
    size_t own = ins ? plugin_metric_count(ins) : 0;
    msgpack_packer *pk = sluice_emit_begin(em, SLUICE_EVENT_METRIC, now);
    char name[32];
    snprintf(name, sizeof name, "sluice_%s", scope_names[where]);
    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    sluice_pack_cstr(pk, name);
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, "untyped");
    sluice_pack_cstr(pk, "tags");
    msgpack_pack_map(pk, ins ? 3 : 1);
    sluice_pack_cstr(pk, "pipeline");
    sluice_pack_cstr(pk, pipeline_name);
    if (ins) {
        sluice_pack_cstr(pk, "plugin");
        sluice_pack_cstr(pk, ins->plugin->name);
        sluice_pack_cstr(pk, "id");
        sluice_pack_cstr(pk, ins->id);
    }
    sluice_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, n + own);
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        if (defs[d].where == where) {
            sluice_pack_cstr(pk, defs[d].name);
            msgpack_pack_uint64(pk, (uint64_t)defs[d].get(obj));
        }
    for (size_t m = 0; m < own; m++) {
        char field[128];
        snprintf(field, sizeof field, "%s_%s", ins->plugin->name, ins->plugin->metrics[m].name);
        sluice_pack_cstr(pk, field);
        msgpack_pack_double(pk, ins->plugin->metric_value(ins->ctx, m));
    }
    sluice_emit_end(em);
}

void
sluice_internal_metrics_emit(sluice_instance *ins)
{
    engine *e = ins->pipeline->engine;
    sluice_emitter *em = ins->emitter;
    sluice_time_t now = sluice_time_now();
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        emit_scope(em, now, SCOPE_PIPELINE, p->name, NULL, p);
        for (size_t j = 0; j < p->n_inputs; j++)
            emit_scope(em, now, SCOPE_INPUT, p->name, p->inputs[j], p->inputs[j]);
        for (size_t j = 0; j < p->n_filters; j++)
            emit_scope(em, now, SCOPE_FILTER, p->name, p->filters[j], p->filters[j]);
        for (size_t j = 0; j < p->n_outputs; j++)
            emit_scope(em, now, SCOPE_OUTPUT, p->name, p->outputs[j], p->outputs[j]->output);
    }
}

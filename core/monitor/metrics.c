/* sluice's own metrics: one table of definitions, rendered as Prometheus
 * text, as JSON, and as metric events (see metrics.h). */
#include <dirent.h>
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

void
metrics_process_started(void)
{
    process_start = sluice_time_now();
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
        pipeline *p = &e->pipelines[i];
        *pipeline_name = p->name;
        if (n < p->n_inputs)
            return &p->inputs[n];
        n -= p->n_inputs;
        if (n < p->n_filters)
            return &p->filters[n];
        n -= p->n_filters;
        if (n < p->n_outputs)
            return &p->outputs[n];
        n -= p->n_outputs;
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
        for (size_t j = 0; j < i && !seen; j++)
            seen = nth_instance(e, j, &qn)->plugin == ins->plugin;
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
            pipeline *p = &e->pipelines[i];
            if (m->where == SCOPE_PIPELINE)
                sample(out, m, p->name, NULL, m->get(p));
            for (size_t j = 0; m->where == SCOPE_INPUT && j < p->n_inputs; j++)
                sample(out, m, p->name, &p->inputs[j], m->get(&p->inputs[j]));
            for (size_t j = 0; m->where == SCOPE_FILTER && j < p->n_filters; j++)
                sample(out, m, p->name, &p->filters[j], m->get(&p->filters[j]));
            for (size_t j = 0; m->where == SCOPE_OUTPUT && j < p->n_outputs; j++)
                sample(out, m, p->name, &p->outputs[j], m->get(p->outputs[j].output));
        }
    }
    plugin_metrics_prometheus(e, out);
    process_metrics(out);
}

/* ==== JSON ==== */

static void
json_key(sluice_buf *out, const char *k)
{
    sluice_json_string(out, k, strlen(k));
    sluice_buf_putc(out, ':');
}

static void
json_metrics(sluice_buf *out, scope where, const void *obj)
{
    for (size_t d = 0; d < sizeof defs / sizeof *defs; d++)
        if (defs[d].where == where)
            sluice_buf_printf(out, ",\"%s\":%.17g", defs[d].name, defs[d].get(obj));
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
    for (size_t m = 0, n = plugin_metric_count(ins); m < n; m++)
        sluice_buf_printf(out, ",\"%s\":%.17g", ins->plugin->metrics[m].name,
                          ins->plugin->metric_value(ins->ctx, m));
}

void
metrics_pipelines_json(engine *e, sluice_buf *out)
{
    sluice_buf_printf(out, "{\"version\":\"%s\",\"pipelines\":[", SLUICE_VERSION);
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = &e->pipelines[i];
        if (i)
            sluice_buf_putc(out, ',');
        sluice_buf_putc(out, '{');
        json_key(out, "name");
        sluice_json_string(out, p->name, strlen(p->name));
        json_metrics(out, SCOPE_PIPELINE, p);
        sluice_buf_append(out, ",\"inputs\":[", 11);
        for (size_t j = 0; j < p->n_inputs; j++) {
            json_instance(out, &p->inputs[j], j == 0);
            json_metrics(out, SCOPE_INPUT, &p->inputs[j]);
            sluice_buf_putc(out, '}');
        }
        sluice_buf_append(out, "],\"filters\":[", 13);
        for (size_t j = 0; j < p->n_filters; j++) {
            json_instance(out, &p->filters[j], j == 0);
            json_metrics(out, SCOPE_FILTER, &p->filters[j]);
            sluice_buf_putc(out, '}');
        }
        sluice_buf_append(out, "],\"outputs\":[", 13);
        for (size_t j = 0; j < p->n_outputs; j++) {
            const output *o = p->outputs[j].output;
            json_instance(out, &p->outputs[j], j == 0);
            json_metrics(out, SCOPE_OUTPUT, o);
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
        const output *o = &e->outputs[i];
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
        pipeline *p = &e->pipelines[i];
        emit_scope(em, now, SCOPE_PIPELINE, p->name, NULL, p);
        for (size_t j = 0; j < p->n_inputs; j++)
            emit_scope(em, now, SCOPE_INPUT, p->name, &p->inputs[j], &p->inputs[j]);
        for (size_t j = 0; j < p->n_filters; j++)
            emit_scope(em, now, SCOPE_FILTER, p->name, &p->filters[j], &p->filters[j]);
        for (size_t j = 0; j < p->n_outputs; j++)
            emit_scope(em, now, SCOPE_OUTPUT, p->name, &p->outputs[j], p->outputs[j].output);
    }
}

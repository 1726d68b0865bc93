/* in_prometheus_scrape: scrape Prometheus targets every `interval` and emit
 * what they expose as metric events, as Prometheus would store it.
 *
 * Each target is fetched with GET (OpenMetrics asked first, then the text
 * format; gzip taken) within `timeout`, read whole by exposition.c, and
 * only then emitted: an exposition with a bad line gives `up 0` and a log
 * line naming the line, and nothing of it, as in Prometheus (events are
 * staged while the exposition is read, and emitted once it all was). A histogram
 * series (its _bucket, _sum and _count samples) is one event {kind:
 * histogram, fields: count, sum, bucket_<le>}, as log_to_metrics makes
 * them; every other sample is an event of its own named as the sample
 * (x_total, x_sum, x{quantile}), of its family's kind. Targets get the
 * labels Prometheus gives them: job, instance (the URL's host:port) and
 * `labels`; a scraped label of the same name becomes exported_<name>
 * unless honor_labels. Per target and scrape, up, scrape_duration_seconds
 * and scrape_samples_scraped are events too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http.h>
#include <sluice/sluice.h>
#include <sluice/version.h>

#include "exposition.h"

#define ACCEPT                                                                                     \
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"            \
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

typedef struct scrape_config {
    sluice_strlist targets;
    int64_t interval, timeout;
    char *job;
    int honor_labels;
    sluice_bytes labels;
    char *user, *password, *bearer_token;
    sluice_http_tls tls;
} scrape_config;

static const sluice_option scrape_options[] = {
    {.name = "targets", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(scrape_config, targets),
     .help = "URLs to scrape, e.g. http://127.0.0.1:9100/metrics."},
    {.name = "interval", .type = SLUICE_OPT_DURATION, .def = "15s", .flags = SLUICE_OPT_RANGE,
     .min = 100 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(scrape_config, interval), .help = "How often each target is scraped."},
    {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = 10 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(scrape_config, timeout),
     .help = "Time limit of one scrape (at most the interval)."},
    {.name = "job", .type = SLUICE_OPT_STR, .def = "sluice", .offset = offsetof(scrape_config, job),
     .help = "The job label of every series, as Prometheus's job_name."},
    {.name = "honor_labels", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(scrape_config, honor_labels),
     .help = "Keep a scraped label that clashes with a target label (job, instance, labels) "
             "instead of renaming it exported_<name>."},
    {.name = "labels", .type = SLUICE_OPT_MAP, .def = "{}", .check = sluice_check_string_map,
     .offset = offsetof(scrape_config, labels), .help = "More target labels."},
    {.name = "user", .type = SLUICE_OPT_STR, .offset = offsetof(scrape_config, user),
     .help = "Basic auth user."},
    {.name = "password", .type = SLUICE_OPT_STR, .offset = offsetof(scrape_config, password),
     .help = "Basic auth password; write ${VAR} to take it from the environment."},
    {.name = "bearer_token", .type = SLUICE_OPT_STR,
     .offset = offsetof(scrape_config, bearer_token),
     .help = "Authorization: Bearer <token>; write ${VAR} to take it from the environment."},
    {.name = "tls", .type = SLUICE_OPT_SECTION, .help = "TLS settings.",
     .sub = (const sluice_option[]){SLUICE_HTTP_TLS_OPTIONS(scrape_config, tls),
                                    SLUICE_OPTIONS_END}},
    SLUICE_OPTIONS_END,
};

typedef struct scrape_ctx scrape_ctx;

/* A histogram series being gathered from its _bucket, _sum and _count
 * samples, which come one after the other. */
typedef struct hist {
    int open;
    sluice_buf key;   /* family and labels but le */
    sluice_buf text;  /* the family, then label names and values, NUL-terminated */
    size_t *offs;     /* of the labels in text */
    exp_label *labels;
    size_t n_labels, cap;
    sluice_time_t time;
    double count, sum;
    int has_count, has_sum;
    char **le;        /* bucket bounds as written */
    double *bucket;
    size_t n_buckets, cap_buckets;
} hist;

typedef struct target {
    scrape_ctx *c;
    const char *url;
    char *instance; /* host:port */
    int busy, down;
    sluice_time_t started;
} target;

struct scrape_ctx {
    sluice_instance *ins;
    const scrape_config *cfg;
    sluice_http *http;
    target *targets;
    size_t n_targets;
    char **extra; /* the labels option: name, value, ..., NULL */
    const char *headers[4];
    char *auth;
    sluice_collector *collector;
    int stopping;
    /* While reading one scrape: its events, staged until it is all read. */
    target *t;
    sluice_time_t scrape_time;
    hist h;
    msgpack_sbuffer stage;
    msgpack_packer pk;
    size_t *starts;
    size_t n_events, cap_events;
};

/* ==== Samples to events ==== */

static const char *
kind_name(exp_type t)
{
    switch (t) {
    case EXP_COUNTER: return "counter";
    case EXP_GAUGE: return "gauge";
    case EXP_HISTOGRAM:
    case EXP_GAUGEHISTOGRAM: return "histogram";
    case EXP_SUMMARY: return "summary";
    default: return "untyped";
    }
}

static int
is_target_label(const scrape_ctx *c, const char *name)
{
    if (strcmp(name, "job") == 0 || strcmp(name, "instance") == 0)
        return 1;
    for (char **e = c->extra; *e; e += 2)
        if (strcmp(*e, name) == 0)
            return 1;
    return 0;
}

static int
has_label(const exp_label *l, size_t n, const char *name, const char *skip)
{
    for (size_t i = 0; i < n; i++)
        if ((!skip || strcmp(l[i].name, skip) != 0) && strcmp(l[i].name, name) == 0)
            return 1;
    return 0;
}

/* The tags: the scraped labels but `skip` (le of a histogram), then the
 * target's, as Prometheus's honor_labels says. */
static void
pack_tags(scrape_ctx *c, msgpack_packer *pk, const exp_label *l, size_t n, const char *skip)
{
    const char *tl[64];
    size_t nt = 0;
    tl[nt++] = "job";
    tl[nt++] = c->cfg->job;
    tl[nt++] = "instance";
    tl[nt++] = c->t->instance;
    for (char **e = c->extra; *e && nt < 62; e += 2) {
        tl[nt++] = e[0];
        tl[nt++] = e[1];
    }
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += !skip || strcmp(l[i].name, skip) != 0;
    for (size_t i = 0; i < nt; i += 2)
        count += !(c->cfg->honor_labels && has_label(l, n, tl[i], skip));
    msgpack_pack_map(pk, count);
    for (size_t i = 0; i < n; i++) {
        if (skip && strcmp(l[i].name, skip) == 0)
            continue;
        if (!c->cfg->honor_labels && is_target_label(c, l[i].name)) {
            size_t len = strlen(l[i].name);
            msgpack_pack_str(pk, 9 + len);
            msgpack_pack_str_body(pk, "exported_", 9);
            msgpack_pack_str_body(pk, l[i].name, len);
        } else {
            sluice_pack_cstr(pk, l[i].name);
        }
        sluice_pack_cstr(pk, l[i].value);
    }
    for (size_t i = 0; i < nt; i += 2) {
        if (c->cfg->honor_labels && has_label(l, n, tl[i], skip))
            continue;
        sluice_pack_cstr(pk, tl[i]);
        sluice_pack_cstr(pk, tl[i + 1]);
    }
}

static sluice_time_t
time_of(const scrape_ctx *c, const exp_sample *s)
{
    return s->has_time ? s->time_ms * SLUICE_NSEC_PER_MSEC : c->scrape_time;
}

/* Start a staged event; its body goes into the returned packer. */
static msgpack_packer *
stage(scrape_ctx *c, sluice_time_t t)
{
    if (c->n_events == c->cap_events) {
        c->cap_events = c->cap_events ? 2 * c->cap_events : 1024;
        c->starts = sluice_realloc(c->starts, c->cap_events * sizeof *c->starts);
    }
    c->starts[c->n_events++] = c->stage.size;
    sluice_event_pack_head(&c->pk, t);
    return &c->pk;
}

/* Emit what is staged (keep: 1), or drop it. */
static void
unstage(scrape_ctx *c, int keep)
{
    sluice_emitter *em = sluice_input_emitter(c->ins);
    for (size_t i = 0; keep && i < c->n_events; i++) {
        size_t end = i + 1 < c->n_events ? c->starts[i + 1] : c->stage.size;
        sluice_emit_raw(em, SLUICE_EVENT_METRIC, c->stage.data + c->starts[i],
                        end - c->starts[i]);
    }
    c->n_events = 0;
    msgpack_sbuffer_clear(&c->stage);
}

/* One sample as an event of its own: {name, kind, tags, fields: {value}}. */
static void
emit_sample(scrape_ctx *c, const char *name, const char *kind, const exp_label *l, size_t n,
            sluice_time_t t, double v)
{
    msgpack_packer *pk = stage(c, t);
    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    sluice_pack_cstr(pk, name);
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, kind);
    sluice_pack_cstr(pk, "tags");
    pack_tags(c, pk, l, n, NULL);
    sluice_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, 1);
    sluice_pack_cstr(pk, "value");
    msgpack_pack_double(pk, v);
}

static void
hist_flush(scrape_ctx *c)
{
    hist *h = &c->h;
    if (!h->open)
        return;
    h->open = 0;
    for (size_t i = 0; i < h->n_labels; i++) {
        h->labels[i].name = h->text.data + h->offs[2 * i];
        h->labels[i].value = h->text.data + h->offs[2 * i + 1];
    }
    msgpack_packer *pk = stage(c, h->time);
    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    sluice_pack_cstr(pk, h->text.data); /* the family */
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, "histogram");
    sluice_pack_cstr(pk, "tags");
    pack_tags(c, pk, h->labels, h->n_labels, NULL);
    sluice_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, (uint32_t)(h->has_count + h->has_sum + h->n_buckets));
    if (h->has_count) {
        sluice_pack_cstr(pk, "count");
        msgpack_pack_double(pk, h->count);
    }
    if (h->has_sum) {
        sluice_pack_cstr(pk, "sum");
        msgpack_pack_double(pk, h->sum);
    }
    for (size_t i = 0; i < h->n_buckets; i++) {
        size_t n = strlen(h->le[i]);
        msgpack_pack_str(pk, 7 + n);
        msgpack_pack_str_body(pk, "bucket_", 7);
        msgpack_pack_str_body(pk, h->le[i], n);
        msgpack_pack_double(pk, h->bucket[i]);
        free(h->le[i]);
    }
    h->n_buckets = 0;
}

/* A sample of a histogram family: into the series being gathered, which
 * is emitted when a sample of another series comes. */
static void
hist_add(scrape_ctx *c, const exp_sample *s, const char *suffix)
{
    hist *h = &c->h;
    sluice_buf key = SLUICE_BUF_INIT;
    sluice_buf_append(&key, s->family, strlen(s->family) + 1);
    const char *le = NULL;
    for (size_t i = 0; i < s->n_labels; i++) {
        if (strcmp(s->labels[i].name, "le") == 0) {
            le = s->labels[i].value;
            continue;
        }
        sluice_buf_append(&key, s->labels[i].name, strlen(s->labels[i].name) + 1);
        sluice_buf_append(&key, s->labels[i].value, strlen(s->labels[i].value) + 1);
    }
    if (h->open && (key.len != h->key.len || memcmp(key.data, h->key.data, key.len) != 0))
        hist_flush(c);
    if (!h->open) {
        h->open = 1;
        sluice_buf_free(&h->key);
        h->key = key;
        key = (sluice_buf)SLUICE_BUF_INIT;
        h->text.len = 0;
        sluice_buf_append(&h->text, s->family, strlen(s->family) + 1);
        h->n_labels = 0;
        for (size_t i = 0; i < s->n_labels; i++) {
            if (strcmp(s->labels[i].name, "le") == 0)
                continue;
            if (h->n_labels == h->cap) {
                h->cap = h->cap ? 2 * h->cap : 8;
                h->offs = sluice_realloc(h->offs, 2 * h->cap * sizeof *h->offs);
                h->labels = sluice_realloc(h->labels, h->cap * sizeof *h->labels);
            }
            h->offs[2 * h->n_labels] = h->text.len;
            sluice_buf_append(&h->text, s->labels[i].name, strlen(s->labels[i].name) + 1);
            h->offs[2 * h->n_labels + 1] = h->text.len;
            sluice_buf_append(&h->text, s->labels[i].value, strlen(s->labels[i].value) + 1);
            h->n_labels++;
        }
        h->time = time_of(c, s);
        h->has_count = h->has_sum = 0;
    }
    sluice_buf_free(&key);
    if (strcmp(suffix, "_bucket") == 0 && le) {
        if (h->n_buckets == h->cap_buckets) {
            h->cap_buckets = h->cap_buckets ? 2 * h->cap_buckets : 16;
            h->le = sluice_realloc(h->le, h->cap_buckets * sizeof *h->le);
            h->bucket = sluice_realloc(h->bucket, h->cap_buckets * sizeof *h->bucket);
        }
        h->le[h->n_buckets] = sluice_strdup(le);
        h->bucket[h->n_buckets++] = s->value;
    } else if (strcmp(suffix, "_count") == 0 || strcmp(suffix, "_gcount") == 0) {
        h->count = s->value;
        h->has_count = 1;
    } else if (strcmp(suffix, "_sum") == 0 || strcmp(suffix, "_gsum") == 0) {
        h->sum = s->value;
        h->has_sum = 1;
    }
}

static void
on_sample(void *arg, const exp_sample *s)
{
    scrape_ctx *c = arg;
    const char *suffix = exp_suffix(s->name, s->family, s->type, 1);
    if (suffix && strcmp(suffix, "_created") == 0)
        return; /* OpenMetrics's creation times are no samples in Prometheus 2.42 */
    if (s->type == EXP_HISTOGRAM || s->type == EXP_GAUGEHISTOGRAM) {
        hist_add(c, s, suffix ? suffix : "");
        return;
    }
    hist_flush(c);
    emit_sample(c, s->name, kind_name(s->type), s->labels, s->n_labels, time_of(c, s), s->value);
}

/* ==== Scrapes ==== */

static void
report(scrape_ctx *c, target *t, int up, double seconds, long samples)
{
    c->t = t;
    emit_sample(c, "up", "gauge", NULL, 0, t->started, up);
    emit_sample(c, "scrape_duration_seconds", "gauge", NULL, 0, t->started, seconds);
    emit_sample(c, "scrape_samples_scraped", "gauge", NULL, 0, t->started, (double)samples);
    unstage(c, 1);
}

static void
on_answer(void *arg, const sluice_http_response *r)
{
    target *t = arg;
    scrape_ctx *c = t->c;
    t->busy = 0;
    if (c->stopping)
        return;
    double seconds = (double)(sluice_time_now() - t->started) / 1e9;
    char why[300];
    long samples = -1;
    if (r->status == 200) {
        int om = r->content_type && strstr(r->content_type, "application/openmetrics-text");
        c->t = t;
        c->scrape_time = t->started;
        samples = exp_parse(r->body, r->body_len, om, on_sample, c, why, sizeof why);
        hist_flush(c);
        unstage(c, samples >= 0); /* a bad line: nothing of this scrape */
    } else if (r->error) {
        snprintf(why, sizeof why, "%s", r->error);
    } else {
        snprintf(why, sizeof why, "HTTP %ld", r->status);
    }
    if (samples < 0 && !t->down)
        sluice_warn(c->ins, "target %s is down: %s", t->url, why);
    else if (samples >= 0 && t->down)
        sluice_info(c->ins, "target %s is up again", t->url);
    t->down = samples < 0;
    report(c, t, samples >= 0, seconds, samples < 0 ? 0 : samples);
}

static void
collect(sluice_instance *ins, void *arg)
{
    (void)ins;
    scrape_ctx *c = arg;
    for (size_t i = 0; i < c->n_targets; i++) {
        target *t = &c->targets[i];
        if (t->busy)
            continue; /* still within its timeout */
        sluice_http_request req = {
            .url = t->url,
            .method = "GET",
            .headers = c->headers,
            .user = c->cfg->user,
            .password = c->cfg->password,
            .timeout = c->cfg->timeout,
            .tls = &c->cfg->tls,
        };
        t->started = sluice_time_now();
        t->busy = 1;
        if (sluice_http_send(c->http, &req, on_answer, t) != 0) {
            t->busy = 0;
            sluice_http_response none = {.error = "the request could not be started"};
            on_answer(t, &none);
        }
    }
}

/* ==== The instance ==== */

/* host:port of a URL, the port made explicit as Prometheus's instance. */
static char *
instance_of(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/?#");
    const char *at = memchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    const char *close = h[0] == '[' ? memchr(h, ']', n) : NULL;
    const char *colon = memchr(close ? close : h, ':', n - (size_t)((close ? close : h) - h));
    if (colon)
        return sluice_strndup(h, n);
    return sluice_asprintf("%.*s:%s", (int)n, h, strncmp(url, "https", 5) == 0 ? "443" : "80");
}

static int
scrape_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const scrape_config *cfg = config;
    scrape_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    if (cfg->timeout > cfg->interval) {
        sluice_option_error(ins, "timeout", "a scrape's timeout cannot be longer than the "
                                            "interval");
        return SLUICE_ERROR;
    }
    c->extra = sluice_string_map_pairs(&cfg->labels);
    c->n_targets = cfg->targets.n;
    c->targets = sluice_calloc(c->n_targets, sizeof *c->targets);
    for (size_t i = 0; i < c->n_targets; i++) {
        c->targets[i].c = c;
        c->targets[i].url = cfg->targets.v[i];
        c->targets[i].instance = instance_of(cfg->targets.v[i]);
    }
    size_t h = 0;
    c->headers[h++] = ACCEPT;
    c->headers[h++] = "User-Agent: sluice/" SLUICE_VERSION;
    if (cfg->bearer_token) {
        c->auth = sluice_asprintf("Authorization: Bearer %s", cfg->bearer_token);
        c->headers[h++] = c->auth;
    }
    msgpack_sbuffer_init(&c->stage);
    msgpack_packer_init(&c->pk, &c->stage, msgpack_sbuffer_write);
    c->collector = sluice_collector_add(ins, cfg->interval, collect, c);
    return SLUICE_OK;
}

static int
scrape_start(void *ctx)
{
    scrape_ctx *c = ctx;
    c->http = sluice_http_new(sluice_instance_loop(c->ins));
    sluice_collector_wake(c->collector); /* the first scrape now, as Prometheus */
    return SLUICE_OK;
}

static void
scrape_stop(void *ctx)
{
    scrape_ctx *c = ctx;
    c->stopping = 1;
    if (c->http)
        sluice_http_free(c->http);
    c->http = NULL;
}

static void
scrape_exit(void *ctx)
{
    scrape_ctx *c = ctx;
    for (size_t i = 0; i < c->n_targets; i++)
        free(c->targets[i].instance);
    free(c->targets);
    sluice_string_map_free(c->extra);
    free(c->auth);
    sluice_buf_free(&c->h.key);
    sluice_buf_free(&c->h.text);
    free(c->h.offs);
    free(c->h.labels);
    free(c->h.le);
    free(c->h.bucket);
    msgpack_sbuffer_destroy(&c->stage);
    free(c->starts);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .name = "prometheus_scrape",
    .description = "Scrape Prometheus targets (text format and OpenMetrics) into metric events, "
                   "with up and scrape_duration_seconds per target.",
    .options = scrape_options,
    .config_size = sizeof(scrape_config),
    .init = scrape_init,
    .start = scrape_start,
    .stop = scrape_stop,
    .exit = scrape_exit,
    .emits = SLUICE_ACCEPTS_METRICS,
};

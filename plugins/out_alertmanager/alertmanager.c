/* out_alertmanager: alert events (from the alert filter) to an
 * Alertmanager's POST /api/v2/alerts, as Prometheus sends them: a JSON
 * array of {labels, annotations, startsAt, endsAt, generatorURL}. The
 * filter already sends a firing alert again every resend_delay with an
 * endsAt ahead of it (so that it resolves by itself if sluice dies), and a
 * resolved one with endsAt = when it resolved.
 *
 * One output per Alertmanager: each has its own buffer and retries, so
 * that one down does not hold back the others (Prometheus sends every
 * alert to each of its Alertmanagers the same way).
 *
 * Answers: 2xx delivered; 4xx are permanent (the alerts go to the dead
 * letters with Alertmanager's message); 5xx, 429 and no answer are
 * retried. A log event that is not an alert (no `labels` map) is a dead
 * letter too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_batch.h>
#include <sluice/sluice.h>

typedef struct am_config {
    char *url;
    int64_t max_alerts;
    sluice_http_output_config http;
} am_config;

static const sluice_option am_options[] = {
    {.name = "url", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(am_config, url),
     .help = "The Alertmanager's base URL, e.g. http://127.0.0.1:9093."},
    {.name = "max_alerts", .type = SLUICE_OPT_INT, .def = "64", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000, .offset = offsetof(am_config, max_alerts),
     .help = "Most alerts in one request (Prometheus sends 64)."},
    SLUICE_HTTP_OUTPUT_OPTIONS(am_config, http, "1"),
    SLUICE_OPTIONS_END,
};

typedef struct am_ctx {
    sluice_http_batch *batch; /* first: SLUICE_HTTP_BATCH_CALLBACKS */
    sluice_instance *ins;
    char *url; /* .../api/v2/alerts */
} am_ctx;

static const msgpack_object *
member(const msgpack_object *map, const char *key, msgpack_object_type type)
{
    const msgpack_object *v = sluice_record_get(map, key);
    return v && v->type == type ? v : NULL;
}

/* One alert event as Alertmanager's postableAlert. */
static int
am_render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out, char *why,
          size_t whylen)
{
    (void)ctx;
    const msgpack_object *labels = member(&ev->body, "labels", MSGPACK_OBJECT_MAP);
    if (kind != SLUICE_EVENT_LOG || !labels || !labels->via.map.size) {
        snprintf(why, whylen, "not an alert event: no `labels` map (alert events come from the "
                              "alert filter)");
        return -1;
    }
    sluice_buf_append(out, "{\"labels\":", 10);
    sluice_json_value(out, labels);
    const msgpack_object *ann = member(&ev->body, "annotations", MSGPACK_OBJECT_MAP);
    if (ann) {
        sluice_buf_append(out, ",\"annotations\":", 15);
        sluice_json_value(out, ann);
    }
    static const char *const strings[] = {"startsAt", "endsAt", "generatorURL"};
    for (size_t i = 0; i < 3; i++) {
        const msgpack_object *v = member(&ev->body, strings[i], MSGPACK_OBJECT_STR);
        if (!v)
            continue;
        sluice_buf_printf(out, ",\"%s\":", strings[i]);
        sluice_json_value(out, v);
    }
    sluice_buf_append(out, "}\n", 2);
    return 0;
}

static void
am_prepare(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg)
{
    (void)rg;
    req->url = ((am_ctx *)ctx)->url;
}

static sluice_http_batch_verdict
am_response(void *ctx, sluice_flush *fl, const sluice_http_batch_range *rg,
            const sluice_http_response *r, char *why, size_t whylen)
{
    (void)ctx;
    (void)fl;
    (void)rg;
    (void)why;
    (void)whylen;
    switch (sluice_http_classify(r)) {
    case SLUICE_OK:
        return SLUICE_HTTP_BATCH_DONE;
    case SLUICE_RETRY:
        return SLUICE_HTTP_BATCH_RETRY;
    default:
        /* 400 names one bad alert: find it, deliver the others. */
        return r->status == 400 ? SLUICE_HTTP_BATCH_SPLIT : SLUICE_HTTP_BATCH_FAIL;
    }
}

static const sluice_http_batch_ops am_ops = {am_render, am_prepare, am_response};

static int
am_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const am_config *cfg = config;
    am_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    sluice_buf u = SLUICE_BUF_INIT;
    sluice_buf_url_base(&u, cfg->url);
    sluice_buf_printf(&u, "/api/v2/alerts");
    c->url = u.data;
    c->batch = sluice_http_batch_new(&(sluice_http_batch_config){
        .ops = &am_ops,
        .ctx = c,
        .http = &cfg->http,
        .content_type = "application/json",
        .max_events = (size_t)cfg->max_alerts,
        .json_array = 1});
    return SLUICE_OK;
}

static void
am_exit(void *ctx)
{
    am_ctx *c = ctx;
    sluice_http_batch_free(c->batch);
    free(c->url);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "alertmanager",
    .description = "Send alert events to an Alertmanager (POST /api/v2/alerts), as Prometheus "
                   "does.",
    .options = am_options,
    .config_size = sizeof(am_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = am_init,
    .exit = am_exit,
    SLUICE_HTTP_BATCH_CALLBACKS,
};

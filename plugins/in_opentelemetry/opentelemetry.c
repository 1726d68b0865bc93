/* in_opentelemetry: OTLP/HTTP, as the OpenTelemetry SDKs and the Collector
 * export it. POST /v1/logs and /v1/metrics, in binary protobuf or OTLP/JSON,
 * gzip or not; the body is decoded whole (otlp.h) before any of it is
 * emitted. Answers follow the OTLP specification: 200 with an
 * Export*ServiceResponse (partial_success when some items were rejected),
 * 400 for a body that does not decode, 415 for another content type, 404
 * for /v1/traces and unknown paths, and under backpressure 503 with
 * Retry-After, which the SDKs retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_server.h>
#include <sluice/sluice.h>

#include "otlp.h"

#define LOG_REFUSED_EVERY_NS (10 * SLUICE_NSEC_PER_SEC)

typedef struct otel_config {
    char *listen;
    int resource_tags;
    int64_t delta_max_series, delta_expire_after;
    sluice_http_server_config server;
} otel_config;

static const sluice_option tls_options[] = {
    SLUICE_HTTP_SERVER_TLS_OPTIONS(otel_config, server),
    SLUICE_OPTIONS_END,
};

static const sluice_option otel_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR, .def = "127.0.0.1:4318",
     .check = sluice_check_address, .offset = offsetof(otel_config, listen),
     .help = "HOST:PORT to serve OTLP/HTTP on; 0.0.0.0:4318 for every interface."},
    {.name = "resource_tags", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(otel_config, resource_tags),
     .help = "Metrics: every resource attribute becomes a tag as well; false: only `job` and "
             "`instance` made of service.namespace/service.name and service.instance.id, as "
             "Prometheus's OTLP receiver does."},
    {.name = "delta_max_series", .type = SLUICE_OPT_INT, .def = "100000",
     .flags = SLUICE_OPT_RANGE, .min = 1, .max = 100000000,
     .offset = offsetof(otel_config, delta_max_series),
     .help = "Delta sums and histograms are added up into cumulative series; at most this many "
             "are held, and points of more are rejected (partial_success)."},
    {.name = "delta_expire_after", .type = SLUICE_OPT_DURATION, .def = "1h",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC, .max = 30 * 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(otel_config, delta_expire_after),
     .help = "A delta series not updated this long is forgotten (its total starts again)."},
    SLUICE_HTTP_SERVER_OPTIONS(otel_config, server),
    {.name = "tls", .type = SLUICE_OPT_SECTION, .def = "off", .flags = SLUICE_OPT_OFF,
     .offset = offsetof(otel_config, server.tls), .sub = tls_options,
     .help = "Serve HTTPS."},
    SLUICE_OPTIONS_END,
};

typedef struct otel_ctx {
    sluice_instance *ins;
    const otel_config *cfg;
    sluice_emitter *em;
    sluice_http_server *server;
    sluice_http_acks *acks;
    otlp_delta *delta;
    msgpack_sbuffer staged;
    sluice_buf answer;
    uint64_t requests, items, rejected, refused, suppressed;
    sluice_time_t last_refused_log;
} otel_ctx;

static void
refuse(otel_ctx *c, sluice_http_exchange *x, unsigned status, const char *why)
{
    c->refused++;
    sluice_time_t now = sluice_time_now();
    if (now - c->last_refused_log >= LOG_REFUSED_EVERY_NS) {
        sluice_warn(c->ins, "%s %s from %s refused (%u), nothing of it accepted: %s%s",
                    sluice_http_method(x), sluice_http_path(x), sluice_http_peer(x), status, why,
                    c->suppressed ? " (and more refused since the last such line)" : "");
        c->last_refused_log = now;
        c->suppressed = 0;
    } else {
        c->suppressed++;
    }
    /* OTLP's error body is a google.rpc.Status; its message is what
     * exporters log, and plain text serves that as well for both
     * encodings. */
    sluice_http_respond(x, status, "text/plain; charset=utf-8", why, strlen(why));
}

static void
on_request(void *arg, sluice_http_exchange *x)
{
    otel_ctx *c = arg;
    const char *path = sluice_http_path(x);
    c->requests++;
    int metrics;
    if (!strcmp(path, "/v1/logs"))
        metrics = 0;
    else if (!strcmp(path, "/v1/metrics"))
        metrics = 1;
    else if (!strcmp(path, "/v1/traces")) {
        refuse(c, x, 404, "traces are not collected by sluice: send logs to /v1/logs and "
                          "metrics to /v1/metrics");
        return;
    } else {
        refuse(c, x, 404, "no such path: OTLP/HTTP takes /v1/logs and /v1/metrics");
        return;
    }
    if (strcmp(sluice_http_method(x), "POST")) {
        sluice_http_add_header(x, "Allow", "POST");
        refuse(c, x, 405, "OTLP/HTTP requests are POSTs");
        return;
    }
    const char *type = sluice_http_content_type(x);
    otlp_encoding enc;
    if (!strcmp(type, "application/x-protobuf") || !strcmp(type, "application/protobuf"))
        enc = OTLP_PROTOBUF;
    else if (!strcmp(type, "application/json"))
        enc = OTLP_JSON;
    else {
        refuse(c, x, 415, "Content-Type must be application/x-protobuf or application/json");
        return;
    }
    size_t len;
    const char *body = sluice_http_body(x, &len);
    otlp_options opt = {.resource_tags = c->cfg->resource_tags, .delta = c->delta};
    otlp_result res;
    char err[300];
    msgpack_sbuffer_clear(&c->staged);
    int r = metrics ? otlp_metrics_decode(body, len, enc, &opt, &c->staged, &res, err, sizeof err)
                    : otlp_logs_decode(body, len, enc, &opt, &c->staged, &res, err, sizeof err);
    if (r < 0) {
        refuse(c, x, 400, err);
        return;
    }
    sluice_event_kind kind = metrics ? SLUICE_EVENT_METRIC : SLUICE_EVENT_LOG;
    sluice_emit_batch(c->em, kind, c->staged.data, c->staged.size, res.events);
    c->items += res.accepted;
    c->rejected += res.rejected;
    if (res.rejected)
        sluice_debug(c->ins, "%llu items rejected: %s", (unsigned long long)res.rejected,
                     res.message);
    sluice_buf_reset(&c->answer);
    otlp_response(metrics, enc, &res, &c->answer);
    const char *answer_type = enc == OTLP_JSON ? "application/json" : "application/x-protobuf";
    if (c->acks && c->staged.size)
        sluice_http_acks_defer(c->acks, x, c->em, 200, answer_type, c->answer.data,
                               c->answer.len);
    else
        sluice_http_respond(x, 200, answer_type, c->answer.data, c->answer.len);
}

static void
otel_ack(void *ctx, uint64_t token)
{
    otel_ctx *c = ctx;
    sluice_http_acks_done(c->acks, token);
}

static int
otel_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const otel_config *cfg = config;
    otel_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    c->em = sluice_input_emitter(ins);
    msgpack_sbuffer_init(&c->staged);
    if (sluice_http_server_check(ins, &cfg->server) != SLUICE_OK)
        return SLUICE_ERROR;
    c->delta = otlp_delta_new((size_t)cfg->delta_max_series, cfg->delta_expire_after);
    return c->delta ? SLUICE_OK : SLUICE_ERROR;
}

static int
otel_start(void *ctx)
{
    otel_ctx *c = ctx;
    c->server = sluice_http_server_start(c->ins, c->cfg->listen, &c->cfg->server, on_request, c);
    if (!c->server)
        return SLUICE_ERROR;
    if (c->cfg->server.ack == SLUICE_HTTP_ACK_DELIVERED)
        c->acks = sluice_http_acks_new(c->ins, &c->cfg->server);
    sluice_info(c->ins, "listening for OTLP/HTTP on http%s://%s (/v1/logs, /v1/metrics)",
                c->cfg->server.tls ? "s" : "", c->cfg->listen);
    return SLUICE_OK;
}

static void
otel_pause(void *ctx)
{
    otel_ctx *c = ctx;
    if (c->server)
        sluice_http_server_busy(c->server, c->cfg->server.retry_after);
}

static void
otel_resume(void *ctx)
{
    otel_ctx *c = ctx;
    if (c->server)
        sluice_http_server_busy(c->server, 0);
}

static void
otel_stop(void *ctx)
{
    otel_ctx *c = ctx;
    sluice_http_acks_stop(c->acks);
    c->acks = NULL;
    sluice_http_server_stop(c->server);
    c->server = NULL;
}

static void
otel_exit(void *ctx)
{
    otel_ctx *c = ctx;
    if (!c)
        return;
    if (c->requests)
        sluice_info(c->ins,
                    "%llu requests: %llu items accepted, %llu rejected (partial success), %llu "
                    "requests refused",
                    (unsigned long long)c->requests, (unsigned long long)c->items,
                    (unsigned long long)c->rejected, (unsigned long long)c->refused);
    otlp_delta_free(c->delta);
    msgpack_sbuffer_destroy(&c->staged);
    sluice_buf_free(&c->answer);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .name = "opentelemetry",
    .description = "Logs and metrics exported over OTLP/HTTP (protobuf or JSON)",
    .options = otel_options,
    .config_size = sizeof(otel_config),
    .init = otel_init,
    .exit = otel_exit,
    .start = otel_start,
    .pause = otel_pause,
    .resume = otel_resume,
    .stop = otel_stop,
    .ack = otel_ack,
    .emits = SLUICE_ACCEPTS_ALL,
};

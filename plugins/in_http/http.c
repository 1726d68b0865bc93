/* in_http: log and metric events POSTed by applications. JSON objects,
 * arrays of objects, NDJSON, forms and text lines become log events;
 * the InfluxDB line protocol at /write and /api/v2/write becomes metric
 * events, so anything that writes to InfluxDB can write here.
 *
 * A request is accepted whole or refused whole: its body is parsed into
 * staged events first, and only a body without fault is emitted. The answer
 * comes once the events are in the pipeline, or with `ack: delivered` once
 * they are delivered by every output, dead-lettered or in a filesystem
 * buffer (the core's acknowledgements). Under backpressure requests are
 * answered 503 with Retry-After before their bodies are read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sluice/http_server.h>
#include <sluice/sluice.h>

#include "body_parse.h"

#define LOG_REFUSED_EVERY_NS (10 * SLUICE_NSEC_PER_SEC)

typedef struct http_config {
    char *listen;
    sluice_strlist paths;
    int influxdb;
    char *collectd_path;
    char *path_key, *remote_addr_key;
    sluice_strlist headers;
    sluice_http_server_config server;
} http_config;

static int
check_path(const void *value, char *err, size_t errlen)
{
    if ((*(char *const *)value)[0] == '/')
        return 0;
    snprintf(err, errlen, "a path starts with /, e.g. /logs");
    return -1;
}

static const sluice_option tls_options[] = {
    SLUICE_HTTP_SERVER_TLS_OPTIONS(http_config, server),
    SLUICE_OPTIONS_END,
};

static const sluice_option http_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR, .def = "127.0.0.1:9880",
     .check = sluice_check_address, .offset = offsetof(http_config, listen),
     .help = "HOST:PORT to serve on; 0.0.0.0:9880 for every interface."},
    {.name = "paths", .type = SLUICE_OPT_STR_LIST, .def = "[]", .check = check_path,
     .offset = offsetof(http_config, paths),
     .help = "Paths that take log events; others are answered 404. Empty: every path."},
    {.name = "influxdb", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(http_config, influxdb),
     .help = "Serve InfluxDB's write API: line protocol at /write (1.x) and /api/v2/write "
             "becomes metric events; /ping answers 204."},
    {.name = "collectd_path", .type = SLUICE_OPT_STR, .def = "/collectd", .check = check_path,
     .offset = offsetof(http_config, collectd_path),
     .help = "Where collectd's write_http posts its JSON (Format \"JSON\"): each value becomes "
             "a metric event (docs/inputs.md says how they are named)."},
    {.name = "path_key", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, path_key),
     .help = "If set, a field with the request's path on every log event (route or tag by "
             "it)."},
    {.name = "remote_addr_key", .type = SLUICE_OPT_STR,
     .offset = offsetof(http_config, remote_addr_key),
     .help = "If set, a field with the client's address."},
    {.name = "headers", .type = SLUICE_OPT_STR_LIST, .def = "[]",
     .offset = offsetof(http_config, headers),
     .help = "Request headers copied to fields of the same name, when present."},
    SLUICE_HTTP_SERVER_OPTIONS(http_config, server),
    {.name = "tls", .type = SLUICE_OPT_SECTION, .def = "off", .flags = SLUICE_OPT_OFF,
     .offset = offsetof(http_config, server.tls), .sub = tls_options,
     .help = "Serve HTTPS."},
    SLUICE_OPTIONS_END,
};

typedef struct http_ctx {
    sluice_instance *ins;
    const http_config *cfg;
    sluice_emitter *em;
    sluice_http_server *server;
    sluice_http_acks *acks; /* ack: delivered */
    body_stage stage;
    uint64_t requests, events, refused, suppressed;
    sluice_time_t last_refused_log;
} http_ctx;

/* ==== Answers ==== */

static void
answer_json(sluice_http_exchange *x, unsigned status, const char *fmt, ...) SLUICE_PRINTF(3, 4);

static void
answer_json(sluice_http_exchange *x, unsigned status, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof body)
        n = sizeof body - 1;
    sluice_http_respond(x, status, "application/json", body, (size_t)n);
}

/* A JSON string's content: the error texts quote the client's bytes. */
static void
json_escape(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static void
refuse_bad(http_ctx *c, sluice_http_exchange *x, const char *why)
{
    c->refused++;
    if (c->stage.too_large) { /* parses, but would make too many events */
        char esc[400];
        json_escape(why, esc, sizeof esc);
        answer_json(x, 413, "{\"error\":\"%s\",\"accepted\":0}\n", esc);
        return;
    }
    sluice_time_t now = sluice_time_now();
    if (now - c->last_refused_log >= LOG_REFUSED_EVERY_NS) {
        sluice_warn(c->ins, "%s %s from %s refused, nothing of it accepted: %s%s",
                    sluice_http_method(x), sluice_http_path(x), sluice_http_peer(x), why,
                    c->suppressed ? " (and more refused since the last such line)" : "");
        c->last_refused_log = now;
        c->suppressed = 0;
    } else {
        c->suppressed++;
    }
    char esc[400];
    json_escape(why, esc, sizeof esc);
    answer_json(x, 400, "{\"error\":\"%s\",\"accepted\":0}\n", esc);
}

/* Emit what the request staged and answer, now or once acknowledged. */
static void
accept_staged(http_ctx *c, sluice_http_exchange *x, sluice_event_kind kind, int influx)
{
    body_stage *st = &c->stage;
    sluice_emit_batch(c->em, kind, st->events.data, st->events.size, st->count);
    c->events += st->count;
    char body[64] = "";
    int n = influx ? 0 : snprintf(body, sizeof body, "{\"accepted\":%zu}\n", st->count);
    unsigned status = influx ? 204 : 200;
    const char *type = influx ? NULL : "application/json";
    if (c->acks && st->count)
        sluice_http_acks_defer(c->acks, x, c->em, status, type, body, (size_t)n);
    else
        sluice_http_respond(x, status, type, body, (size_t)n);
}

static void
http_ack(void *ctx, uint64_t token)
{
    http_ctx *c = ctx;
    sluice_http_acks_done(c->acks, token);
}

/* ==== Requests ==== */

static int
path_allowed(const http_config *cfg, const char *path)
{
    if (cfg->paths.n == 0)
        return 1;
    for (size_t i = 0; i < cfg->paths.n; i++)
        if (strcmp(cfg->paths.v[i], path) == 0)
            return 1;
    return 0;
}

static void
add_meta(body_meta *m, const char *key, const char *value)
{
    if (key && value && m->n < BODY_MAX_META) {
        m->key[m->n] = key;
        m->value[m->n] = value;
        m->n++;
    }
}

static void
on_request(void *arg, sluice_http_exchange *x)
{
    http_ctx *c = arg;
    const http_config *cfg = c->cfg;
    const char *method = sluice_http_method(x), *path = sluice_http_path(x);
    c->requests++;
    int influx = cfg->influxdb && (!strcmp(path, "/write") || !strcmp(path, "/api/v2/write"));
    if (cfg->influxdb && !strcmp(path, "/ping")) {
        sluice_http_respond(x, 204, NULL, "", 0);
        return;
    }
    int collectd = !strcmp(path, cfg->collectd_path);
    if (!influx && !collectd && !path_allowed(cfg, path)) {
        answer_json(x, 404, "{\"error\":\"no such path: this input takes %s%s\"}\n",
                    cfg->paths.v[0], cfg->paths.n > 1 ? " and others in its `paths`" : "");
        return;
    }
    if (strcmp(method, "POST") && strcmp(method, "PUT")) {
        sluice_http_add_header(x, "Allow", "POST, PUT");
        answer_json(x, 405, "{\"error\":\"send events with POST\"}\n");
        return;
    }
    size_t len;
    const char *body = sluice_http_body(x, &len);
    char err[300];
    sluice_time_t now = sluice_time_now();
    if (influx) {
        const char *precision = sluice_http_query(x, "precision");
        int64_t unit = precision ? body_precision(precision) : 1;
        if (!unit) {
            refuse_bad(c, x, "precision must be ns, us, ms, s, m or h");
            return;
        }
        if (body_line_protocol(&c->stage, body, len, unit, now, err, sizeof err) < 0) {
            refuse_bad(c, x, err);
            return;
        }
        accept_staged(c, x, SLUICE_EVENT_METRIC, 1);
        return;
    }
    if (collectd) {
        if (body_collectd(&c->stage, body, len, now, err, sizeof err) < 0) {
            refuse_bad(c, x, err);
            return;
        }
        accept_staged(c, x, SLUICE_EVENT_METRIC, 0);
        return;
    }
    body_meta meta = {0};
    add_meta(&meta, cfg->path_key, path);
    add_meta(&meta, cfg->remote_addr_key, sluice_http_peer(x));
    for (size_t i = 0; i < cfg->headers.n; i++)
        add_meta(&meta, cfg->headers.v[i], sluice_http_header(x, cfg->headers.v[i]));
    body_format f = body_format_of(sluice_http_content_type(x));
    if (body_logs(&c->stage, f, body, len, now, &meta, err, sizeof err) < 0) {
        refuse_bad(c, x, err);
        return;
    }
    accept_staged(c, x, SLUICE_EVENT_LOG, 0);
}

/* ==== Lifecycle ==== */

static int
http_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const http_config *cfg = config;
    if (cfg->headers.n + 2 > BODY_MAX_META) {
        sluice_option_error(ins, "headers", "at most %d headers", BODY_MAX_META - 2);
        return SLUICE_ERROR;
    }
    sluice_added_field fields[BODY_MAX_META + 1] = {
        {NULL, "message"}, {"path_key", cfg->path_key}, {"remote_addr_key", cfg->remote_addr_key}};
    char options[BODY_MAX_META][32]; /* "headers[" SIZE_MAX "]" */
    for (size_t i = 0; i < cfg->headers.n; i++) {
        snprintf(options[i], sizeof options[i], "headers[%zu]", i);
        fields[3 + i] = (sluice_added_field){options[i], cfg->headers.v[i]};
    }
    if (sluice_check_added_fields(ins, fields, 3 + cfg->headers.n) != SLUICE_OK)
        return SLUICE_ERROR;
    http_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    c->em = sluice_input_emitter(ins);
    body_stage_init(&c->stage);
    /* Tiny lines with metadata stage many times their size: bound it. */
    c->stage.limit = (size_t)cfg->server.max_body_size * 4;
    return sluice_http_server_check(ins, &cfg->server);
}

static int
http_start(void *ctx)
{
    http_ctx *c = ctx;
    c->server = sluice_http_server_start(c->ins, c->cfg->listen, &c->cfg->server, on_request, c);
    if (!c->server)
        return SLUICE_ERROR;
    if (c->cfg->server.ack == SLUICE_HTTP_ACK_DELIVERED)
        c->acks = sluice_http_acks_new(c->ins, &c->cfg->server);
    sluice_info(c->ins, "listening on http%s://%s", c->cfg->server.tls ? "s" : "",
                c->cfg->listen);
    return SLUICE_OK;
}

static void
http_pause(void *ctx)
{
    http_ctx *c = ctx;
    if (c->server)
        sluice_http_server_busy(c->server, c->cfg->server.retry_after);
}

static void
http_resume(void *ctx)
{
    http_ctx *c = ctx;
    if (c->server)
        sluice_http_server_busy(c->server, 0);
}

static void
http_stop(void *ctx)
{
    http_ctx *c = ctx;
    /* Requests still waiting for acknowledgements are answered 503 by the
     * server: their events stay in the pipeline. */
    sluice_http_acks_stop(c->acks);
    c->acks = NULL;
    sluice_http_server_stop(c->server);
    c->server = NULL;
}

static void
http_exit(void *ctx)
{
    http_ctx *c = ctx;
    if (!c)
        return;
    if (c->requests)
        sluice_info(c->ins,
                    "%llu requests, %llu events accepted, %llu requests refused as malformed",
                    (unsigned long long)c->requests, (unsigned long long)c->events,
                    (unsigned long long)c->refused);
    body_stage_destroy(&c->stage);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .name = "http",
    .description = "Log events (JSON, NDJSON, forms, text) and metrics (InfluxDB line protocol) "
                   "POSTed over HTTP",
    .options = http_options,
    .config_size = sizeof(http_config),
    .init = http_init,
    .exit = http_exit,
    .start = http_start,
    .pause = http_pause,
    .resume = http_resume,
    .stop = http_stop,
    .ack = http_ack,
    .emits = SLUICE_ACCEPTS_ALL,
};

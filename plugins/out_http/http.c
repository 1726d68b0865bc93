/* out_http: sends each chunk as one HTTP request (NDJSON, a JSON array or
 * MessagePack; optionally gzipped) through the worker's libcurl multi, so
 * many chunks are in flight on kept-alive connections.
 *
 * Outcomes: 2xx delivered; no response, 408, 429 and 5xx retried (honouring
 * Retry-After); 400, 413 and 422 mean some events in the batch are refused:
 * the batch is split in halves until the refused events are alone, and only
 * those go to the dead letters with the server's answer; any other status
 * fails the whole chunk. The batching is the SDK's (http_batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_batch.h>
#include <sluice/sluice.h>

static const char *const methods[] = {"POST", "PUT", NULL};
#define FORMATS(X) X(FORMAT_NDJSON, "ndjson") X(FORMAT_JSON_ARRAY, "json_array") X(FORMAT_MSGPACK, "msgpack")
SLUICE_OPT_ENUM_VALUES(formats, FORMATS);
#define COMPRESSIONS(X) X(COMPRESS_NONE, "none") X(COMPRESS_GZIP, "gzip")
SLUICE_OPT_ENUM_VALUES(compressions, COMPRESSIONS);
static const char *const content_types[] = {"application/x-ndjson", "application/json",
                                            "application/msgpack"};

typedef struct http_config {
    char *url;
    int method;
    int format;
    int compress;
    sluice_bytes headers;
    char *bearer_token;
    int64_t max_in_flight;
    char *time_key;
    int split;
    sluice_http_client_config client;
} http_config;

static const sluice_option tls_options[] = {
    SLUICE_HTTP_TLS_OPTIONS(http_config, client.tls),
    SLUICE_OPTIONS_END,
};

static const sluice_option http_options[] = {
    {.name = "url", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(http_config, url), .help = "Where to send, e.g. http://127.0.0.1:8080/ingest."},
    {.name = "method", .type = SLUICE_OPT_ENUM, .def = "POST", .values = methods,
     .offset = offsetof(http_config, method), .help = "HTTP method."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "ndjson", .values = formats,
     .offset = offsetof(http_config, format), .help = "Body: one JSON object per line, a JSON array, or MessagePack events."},
    {.name = "compress", .type = SLUICE_OPT_ENUM, .def = "none", .values = compressions,
     .offset = offsetof(http_config, compress), .help = "Content-Encoding of the body."},
    {.name = "headers", .type = SLUICE_OPT_MAP, .def = "{}",
     .offset = offsetof(http_config, headers), .help = "Extra request headers, name: value."},
    SLUICE_HTTP_CLIENT_OPTIONS(http_config, client),
    {.name = "bearer_token", .type = SLUICE_OPT_STR,
     .offset = offsetof(http_config, bearer_token),
     .help = "Sent as Authorization: Bearer; write ${VAR} to take it from the environment."},
    {.name = "max_in_flight", .type = SLUICE_OPT_INT, .def = "4", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 1024, .offset = offsetof(http_config, max_in_flight),
     .help = "Chunks each worker sends at once; the rest wait in the buffer, unrendered."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .def = "time",
     .offset = offsetof(http_config, time_key),
     .help = "JSON formats: key of the event time (RFC 3339, ns); empty to omit."},
    {.name = "split_on_refusal", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(http_config, split),
     .help = "On 400/413/422, split the batch to find the refused events; otherwise the whole "
             "batch goes to the dead letters."},
    {.name = "tls", .type = SLUICE_OPT_SECTION, .sub = tls_options, .help = "TLS settings."},
    SLUICE_OPTIONS_END,
};

typedef struct http_ctx {
    sluice_instance *ins;
    const http_config *cfg;
    char **headers; /* "Name: value", NULL-terminated */
    sluice_batch *batch;
    sluice_format_opts fmt;
} http_ctx;

static int
http_render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out, char *why,
            size_t whylen)
{
    http_ctx *c = ctx;
    (void)kind;
    (void)why;
    (void)whylen;
    sluice_format_event(out, &c->fmt, ev);
    return 0;
}

static void
http_prepare(void *ctx, sluice_http_request *req, sluice_batch_range *rg)
{
    http_ctx *c = ctx;
    const http_config *cfg = c->cfg;
    (void)rg;
    req->url = cfg->url;
    req->method = methods[cfg->method];
    req->headers = (const char *const *)c->headers;
    sluice_http_request_apply(req, &cfg->client);
}

static sluice_batch_verdict
http_response(void *ctx, sluice_flush *fl, const sluice_batch_range *rg,
              const sluice_http_response *r, char *why, size_t whylen)
{
    http_ctx *c = ctx;
    (void)fl;
    (void)rg;
    (void)why;
    (void)whylen;
    switch (sluice_http_classify(r)) {
    case SLUICE_OK:
        return SLUICE_BATCH_DONE;
    case SLUICE_RETRY:
        return SLUICE_BATCH_RETRY;
    default:
        return c->cfg->split && (r->status == 400 || r->status == 413 || r->status == 422)
                   ? SLUICE_BATCH_SPLIT
                   : SLUICE_BATCH_FAIL;
    }
}

static const sluice_batch_ops http_ops = {http_render, http_prepare, http_response};

static void
http_flush(void *ctx, sluice_flush *fl)
{
    sluice_batch_flush(((http_ctx *)ctx)->batch, fl);
}

static int
http_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    return sluice_batch_worker_init(((http_ctx *)ctx)->batch, loop, worker_ctx);
}

static void
add_header(http_ctx *c, size_t *n, const char *name, size_t nlen, const char *val, size_t vlen)
{
    c->headers = sluice_realloc(c->headers, (*n + 2) * sizeof *c->headers);
    int len = snprintf(NULL, 0, "%.*s: %.*s", (int)nlen, name, (int)vlen, val);
    c->headers[*n] = sluice_malloc((size_t)len + 1);
    snprintf(c->headers[*n], (size_t)len + 1, "%.*s: %.*s", (int)nlen, name, (int)vlen, val);
    c->headers[++*n] = NULL;
}

static int
http_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const http_config *cfg = config;
    char err[512];
    if (sluice_http_url_check(cfg->url, err, sizeof err) < 0) {
        sluice_option_error(ins, "url", "%s", err);
        return SLUICE_ERROR;
    }
    http_ctx *c = sluice_calloc(1, sizeof *c);
    c->ins = ins;
    c->cfg = cfg;
    size_t n = 0;
    const char *ct = content_types[cfg->format];
    add_header(c, &n, "Content-Type", 12, ct, strlen(ct));
    if (cfg->compress == COMPRESS_GZIP)
        add_header(c, &n, "Content-Encoding", 16, "gzip", 4);
    if (cfg->bearer_token) {
        char tok[4096];
        int len = snprintf(tok, sizeof tok, "Bearer %s", cfg->bearer_token);
        add_header(c, &n, "Authorization", 13, tok, (size_t)len);
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int bad = 0;
    if (msgpack_unpack_next(&up, cfg->headers.data, cfg->headers.len, &off) ==
        MSGPACK_UNPACK_SUCCESS) {
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key, *v = &up.data.via.map.ptr[i].val;
            if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR) {
                sluice_option_error(ins, "headers", "every header name and value must be a string");
                bad = 1;
                break;
            }
            add_header(c, &n, k->via.str.ptr, k->via.str.size, v->via.str.ptr, v->via.str.size);
        }
    }
    msgpack_unpacked_destroy(&up);
    c->fmt = (sluice_format_opts){cfg->format == FORMAT_MSGPACK ? SLUICE_FORMAT_MSGPACK
                                                                : SLUICE_FORMAT_JSON,
                                  cfg->time_key && *cfg->time_key ? cfg->time_key : NULL, NULL};
    sluice_batch_config bc = {.ops = &http_ops,
                              .ctx = c,
                              .max_in_flight = (size_t)cfg->max_in_flight,
                              .gzip = cfg->compress == COMPRESS_GZIP,
                              .json_array = cfg->format == FORMAT_JSON_ARRAY};
    c->batch = sluice_batch_new(&bc);
    *ctxp = c;
    return bad ? SLUICE_ERROR : SLUICE_OK;
}

static void
http_exit(void *ctx)
{
    http_ctx *c = ctx;
    for (size_t i = 0; c->headers && c->headers[i]; i++)
        free(c->headers[i]);
    free(c->headers);
    sluice_batch_free(c->batch);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "http",
    .description = "Send each chunk as one HTTP request; many in flight per worker.",
    .options = http_options,
    .config_size = sizeof(http_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = http_init,
    .flush = http_flush,
    .exit = http_exit,
    .worker_init = http_worker_init,
    .worker_exit = sluice_batch_worker_exit,
};

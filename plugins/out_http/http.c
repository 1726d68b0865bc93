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
static const char *const content_types[] = {"application/x-ndjson", "application/json",
                                            "application/msgpack"};

typedef struct http_config {
    char *url;
    int method;
    int format;
    char *bearer_token;
    char *time_key;
    int split;
    sluice_http_output_config http;
} http_config;

static const sluice_option http_options[] = {
    {.name = "url", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(http_config, url),
     .help = "Where to send, e.g. http://127.0.0.1:8080/ingest."},
    {.name = "method", .type = SLUICE_OPT_ENUM, .def = "POST", .values = methods,
     .offset = offsetof(http_config, method), .help = "HTTP method."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "ndjson", .values = formats,
     .offset = offsetof(http_config, format), .help = "Body: one JSON object per line, a JSON array, or MessagePack events."},
    {.name = "bearer_token", .type = SLUICE_OPT_STR,
     .offset = offsetof(http_config, bearer_token),
     .help = "Sent as Authorization: Bearer; write ${VAR} to take it from the environment."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .def = "time",
     .offset = offsetof(http_config, time_key),
     .help = "JSON formats: key of the event time (RFC 3339, ns); empty to omit."},
    {.name = "split_on_refusal", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(http_config, split),
     .help = "On 400/413/422, split the batch to find the refused events; otherwise the whole "
             "batch goes to the dead letters."},
    SLUICE_HTTP_OUTPUT_OPTIONS(http_config, http, "4"),
    SLUICE_OPTIONS_END,
};

typedef struct http_ctx {
    sluice_http_batch *batch; /* first: SLUICE_HTTP_BATCH_CALLBACKS */
    const http_config *cfg;
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
http_prepare(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg)
{
    const http_config *cfg = ((http_ctx *)ctx)->cfg;
    (void)rg;
    req->url = cfg->url;
    req->method = methods[cfg->method];
}

static sluice_http_batch_verdict
http_response(void *ctx, sluice_flush *fl, const sluice_http_batch_range *rg,
              const sluice_http_response *r, char *why, size_t whylen)
{
    http_ctx *c = ctx;
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
        return c->cfg->split && (r->status == 400 || r->status == 413 || r->status == 422)
                   ? SLUICE_HTTP_BATCH_SPLIT
                   : SLUICE_HTTP_BATCH_FAIL;
    }
}

static const sluice_http_batch_ops http_ops = {http_render, http_prepare, http_response};

static int
http_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const http_config *cfg = config;
    (void)ins;
    http_ctx *c = sluice_calloc(1, sizeof *c);
    c->cfg = cfg;
    c->fmt = (sluice_format_opts){cfg->format == FORMAT_MSGPACK ? SLUICE_FORMAT_MSGPACK
                                                                : SLUICE_FORMAT_JSON,
                                  cfg->time_key && *cfg->time_key ? cfg->time_key : NULL, NULL};
    c->batch = sluice_http_batch_new(&(sluice_http_batch_config){
        .ops = &http_ops,
        .ctx = c,
        .http = &cfg->http,
        .content_type = content_types[cfg->format],
        .auth_scheme = "Bearer",
        .auth_token = cfg->bearer_token,
        .json_array = cfg->format == FORMAT_JSON_ARRAY});
    *ctxp = c;
    return SLUICE_OK;
}

static void
http_exit(void *ctx)
{
    http_ctx *c = ctx;
    sluice_http_batch_free(c->batch);
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
    .exit = http_exit,
    SLUICE_HTTP_BATCH_CALLBACKS,
};

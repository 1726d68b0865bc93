/* out_prometheus_remote_write: metric events to a Prometheus remote write
 * 1.0 receiver (Prometheus with --web.enable-remote-write-receiver,
 * VictoriaMetrics, Mimir, Thanos...): a protobuf WriteRequest, snappy block
 * compressed, with the spec's headers.
 *
 * Each numeric field of a metric event is a sample of the series
 * Prometheus would name (lib/promql/promql_metric.h: histograms as their
 * _bucket{le}, _sum and _count series), its labels sorted, none empty,
 * __name__ set, stamped with the event's time. An event's samples are one
 * WriteRequest of their own; requests are their concatenation, which is
 * one WriteRequest on the wire.
 *
 * Order: a receiver refuses a series' sample older than its newest, so the
 * output is SLUICE_PLUGIN_ORDERED (one chunk at a time, a retried chunk
 * holding back the later ones), and within a chunk each of `shards`
 * shares of the series (by a hash of name and tags) has its requests sent
 * one after another, the shares concurrently: every series' samples
 * arrive in order.
 *
 * Answers: 2xx delivered; 5xx, 429 and no answer retried (Retry-After
 * kept); a 400 refuses the whole request for one bad sample, so the range
 * is split until only the bad events fail, with the receiver's message;
 * other 4xx fail. After an answer that never came, the retried request may
 * have been stored already: its "out of order" or "duplicate sample" 400
 * then means delivered, and is counted as such instead of looping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_batch.h>
#include <sluice/sluice.h>
#include <sluice/version.h>

#include "remote_write_encode.h"

typedef struct rw_config {
    char *url;
    char *bearer_token;
    int64_t max_events, shards;
    sluice_http_output_config http;
} rw_config;

static const sluice_option rw_options[] = {
    {.name = "url", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(rw_config, url),
     .help = "The receiver, e.g. http://127.0.0.1:9090/api/v1/write."},
    {.name = "bearer_token", .type = SLUICE_OPT_STR, .offset = offsetof(rw_config, bearer_token),
     .help = "Authorization: Bearer <token>; write ${VAR} to take it from the environment."},
    {.name = "max_events", .type = SLUICE_OPT_INT, .def = "500", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 1000000, .offset = offsetof(rw_config, max_events),
     .help = "Metric events per request (each one sample per numeric field)."},
    {.name = "shards", .type = SLUICE_OPT_INT, .def = "4", .flags = SLUICE_OPT_RANGE, .min = 1,
     .max = 64, .offset = offsetof(rw_config, shards),
     .help = "Requests in flight at once, each for its own share of the series (by a hash of "
             "their labels), so that every series stays in order."},
    SLUICE_HTTP_OUTPUT_OPTIONS(rw_config, http, "1"),
    SLUICE_OPTIONS_END,
};

typedef struct rw_ctx {
    sluice_http_batch *batch; /* first: SLUICE_HTTP_BATCH_CALLBACKS */
    sluice_instance *ins;
    const rw_config *cfg;
    const char *headers[3];
    char *user_agent;
    /* The flush whose last attempt got no answer: it may be stored. */
    const sluice_flush *ambiguous;
    uint64_t probably_delivered;
} rw_ctx;

static uint64_t
rw_hash(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h | 1;
}

static int
rw_render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out, char *why,
          size_t whylen)
{
    (void)ctx;
    int n = kind == SLUICE_EVENT_METRIC ? rw_encode(ev, out) : -1;
    if (n > 0)
        return 0;
    snprintf(why, whylen, n < 0 ? "not a metric event: no `name` and `fields`"
                                : "a metric event without a numeric field: no sample");
    return -1;
}

static void
rw_prepare(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg)
{
    (void)rg;
    req->url = ((rw_ctx *)ctx)->cfg->url;
}

static int
body_says(const sluice_http_response *r, const char *what)
{
    return r->body && memmem(r->body, r->body_len, what, strlen(what)) != NULL;
}

static sluice_http_batch_verdict
rw_response(void *ctx, sluice_flush *fl, const sluice_http_batch_range *rg,
            const sluice_http_response *r, char *why, size_t whylen)
{
    rw_ctx *c = ctx;
    (void)why;
    (void)whylen;
    switch (sluice_http_classify(r)) {
    case SLUICE_OK:
        return SLUICE_HTTP_BATCH_DONE;
    case SLUICE_RETRY:
        if (r->status == 0)
            c->ambiguous = fl;
        return SLUICE_HTTP_BATCH_RETRY;
    default:
        break;
    }
    if (r->status == 400 && c->ambiguous == fl && sluice_flush_attempt(fl) > 0 &&
        (body_says(r, "out of order sample") || body_says(r, "duplicate sample for timestamp"))) {
        c->probably_delivered += rg->last - rg->first;
        sluice_info(c->ins, "a request resent after no answer came back \"%.*s\": it was stored "
                            "the first time; %llu events counted as delivered so far",
                    (int)(r->body_len < 120 ? r->body_len : 120), r->body,
                    (unsigned long long)c->probably_delivered);
        return SLUICE_HTTP_BATCH_DONE;
    }
    /* One bad sample refuses the request: find it, store the rest. */
    if (r->status == 400 || r->status == 413)
        return SLUICE_HTTP_BATCH_SPLIT;
    return SLUICE_HTTP_BATCH_FAIL;
}

static const sluice_http_batch_ops rw_ops = {rw_render, rw_prepare, rw_response};

/* The shard of an event: a hash of its name and tags, whatever their
 * order, so that a series always goes to the same one. */
static unsigned
rw_shard(void *ctx, const sluice_event *ev)
{
    (void)ctx;
    uint64_t h = 0;
    for (uint32_t i = 0; ev->body.type == MSGPACK_OBJECT_MAP && i < ev->body.via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->body.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        if (kv->key.via.str.size == 4 && memcmp(kv->key.via.str.ptr, "name", 4) == 0 &&
            kv->val.type == MSGPACK_OBJECT_STR)
            h += rw_hash(kv->val.via.str.ptr, kv->val.via.str.size, 1);
        if (kv->key.via.str.size == 4 && memcmp(kv->key.via.str.ptr, "tags", 4) == 0 &&
            kv->val.type == MSGPACK_OBJECT_MAP)
            for (uint32_t t = 0; t < kv->val.via.map.size; t++) {
                const msgpack_object_kv *tag = &kv->val.via.map.ptr[t];
                if (tag->key.type == MSGPACK_OBJECT_STR && tag->val.type == MSGPACK_OBJECT_STR)
                    h += rw_hash(tag->key.via.str.ptr, tag->key.via.str.size, 2) *
                         rw_hash(tag->val.via.str.ptr, tag->val.via.str.size, 3);
            }
    }
    return (unsigned)(h ^ (h >> 32));
}

static void
snappy_encode(void *ctx, const char *data, size_t len, sluice_buf *out)
{
    (void)ctx;
    rw_snappy(data, len, out);
}

static int
rw_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const rw_config *cfg = config;
    rw_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    if (cfg->http.compress != SLUICE_HTTP_COMPRESS_NONE) {
        sluice_option_error(ins, "compress", "remote write bodies are snappy-compressed, as the "
                                             "specification requires: leave compress unset");
        return SLUICE_ERROR;
    }
    c->user_agent = sluice_asprintf("User-Agent: sluice/%s", SLUICE_VERSION);
    c->headers[0] = "X-Prometheus-Remote-Write-Version: 0.1.0";
    c->headers[1] = c->user_agent;
    c->batch = sluice_http_batch_new(&(sluice_http_batch_config){
        .ops = &rw_ops,
        .ctx = c,
        .http = &cfg->http,
        .content_type = "application/x-protobuf",
        .auth_scheme = "Bearer",
        .auth_token = cfg->bearer_token,
        .max_events = (size_t)cfg->max_events,
        .headers = c->headers,
        .content_encoding = "snappy",
        .encode = snappy_encode,
        .sequential = 1,
        .shards = (unsigned)cfg->shards,
        .shard = rw_shard});
    return SLUICE_OK;
}

static void
rw_exit(void *ctx)
{
    rw_ctx *c = ctx;
    sluice_http_batch_free(c->batch);
    free(c->user_agent);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "prometheus_remote_write",
    .description = "Send metric events to a Prometheus remote write 1.0 receiver (protobuf, "
                   "snappy), in order per series.",
    .options = rw_options,
    .config_size = sizeof(rw_config),
    .accepts = SLUICE_ACCEPTS_METRICS,
    .init = rw_init,
    .exit = rw_exit,
    SLUICE_HTTP_BATCH_CALLBACKS,
    .flags = SLUICE_PLUGIN_ORDERED,
};

/* out_influxdb: points in line protocol to InfluxDB's write API, v1
 * (/write?db=..&rp=..&precision=..; basic auth) or v2 (/api/v2/write?org=
 * ..&bucket=..&precision=..; Authorization: Token), in batches of at most
 * batch_max_points and batch_max_bytes.
 *
 * Metric events are points as they are (name, tags, fields). Log events
 * are points of `measurement` with tag_keys as tags and field_keys as
 * fields; without field_keys, every numeric and boolean top-level field and
 * `message` (a string field).
 *
 * Answers: 2xx written. 400 (a partial write: InfluxDB stores the good
 * points and names the bad one) splits the batch until each refused point
 * is alone; it then goes to the dead letters with InfluxDB's message (points
 * are idempotent: the good ones written twice stay one point). 413 splits
 * too. 401, 403 and 404 (no such database) fail for good with a log line
 * saying so; 429, 5xx and no answer are retried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_batch.h>
#include <sluice/sluice.h>

#include "line_protocol.h"

#define APIS(X) X(API_V1, "v1") X(API_V2, "v2")
SLUICE_OPT_ENUM_VALUES(apis, APIS);
static const char *const precisions[] = {"ns", "us", "ms", "s", NULL};
static const char *const v1_precisions[] = {"n", "u", "ms", "s"};

typedef struct influx_config {
    char *url;
    int api;
    char *database, *retention_policy;
    char *org, *bucket, *token;
    int precision;
    int64_t batch_max_points, batch_max_bytes;
    char *measurement;
    sluice_strlist tag_keys, field_keys;
    sluice_http_output_config http;
} influx_config;

static const sluice_option influx_options[] = {
    {.name = "url", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(influx_config, url), .help = "Base URL, e.g. http://127.0.0.1:8086."},
    {.name = "api", .type = SLUICE_OPT_ENUM, .def = "v1", .values = apis,
     .offset = offsetof(influx_config, api),
     .help = "v1: /write with database (InfluxDB 1.x); v2: /api/v2/write with org and bucket "
             "(InfluxDB 2.x, VictoriaMetrics)."},
    {.name = "database", .type = SLUICE_OPT_STR, .offset = offsetof(influx_config, database),
     .help = "v1: the database (required)."},
    {.name = "retention_policy", .type = SLUICE_OPT_STR,
     .offset = offsetof(influx_config, retention_policy), .help = "v1: retention policy."},
    {.name = "org", .type = SLUICE_OPT_STR, .offset = offsetof(influx_config, org),
     .help = "v2: the organization."},
    {.name = "bucket", .type = SLUICE_OPT_STR, .offset = offsetof(influx_config, bucket),
     .help = "v2: the bucket (required)."},
    {.name = "token", .type = SLUICE_OPT_STR, .offset = offsetof(influx_config, token),
     .help = "v2: sent as Authorization: Token; write ${VAR}."},
    {.name = "precision", .type = SLUICE_OPT_ENUM, .def = "ns", .values = precisions,
     .offset = offsetof(influx_config, precision), .help = "Unit of the timestamps written."},
    {.name = "batch_max_points", .type = SLUICE_OPT_INT, .def = "5000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 10000000, .offset = offsetof(influx_config, batch_max_points),
     .help = "Most points in one write."},
    {.name = "batch_max_bytes", .type = SLUICE_OPT_SIZE, .def = "4MiB", .flags = SLUICE_OPT_RANGE,
     .min = 1024, .max = 1 << 30, .offset = offsetof(influx_config, batch_max_bytes),
     .help = "Largest write body (before gzip)."},
    {.name = "measurement", .type = SLUICE_OPT_STR, .def = "logs",
     .offset = offsetof(influx_config, measurement), .help = "Log events: the measurement."},
    {.name = "tag_keys", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(influx_config, tag_keys),
     .help = "Log events: fields written as tags (default: none)."},
    {.name = "field_keys", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(influx_config, field_keys),
     .help = "Log events: fields written as fields (strings as string fields); default: every "
             "numeric and boolean top-level field, and message."},
    SLUICE_HTTP_OUTPUT_OPTIONS(influx_config, http, "2"),
    SLUICE_OPTIONS_END,
};

typedef struct influx_ctx {
    sluice_http_batch *batch; /* first: SLUICE_HTTP_BATCH_CALLBACKS */
    sluice_instance *ins;
    const influx_config *cfg;
    char *url;
    lp_options lp;
    uint64_t written, refused;
} influx_ctx;

static int
influx_render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out,
              char *why, size_t whylen)
{
    influx_ctx *c = ctx;
    return lp_point(out, &c->lp, ev, kind == SLUICE_EVENT_LOG, why, whylen);
}

static void
influx_prepare(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg)
{
    influx_ctx *c = ctx;
    (void)rg;
    req->url = c->url;
}

/* InfluxDB's {"error":"..."} (or {"message":...} from v2), else the body. */
static void
influx_message(char *out, size_t size, const sluice_http_response *r)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    const msgpack_object *e = NULL;
    if (r->body_len && sluice_json_to_msgpack(r->body, r->body_len, &pk, NULL, 0) == 0 &&
        msgpack_unpack_next(&up, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS) {
        e = sluice_record_get(&up.data, "error");
        if (!e)
            e = sluice_record_get(&up.data, "message");
    }
    if (e && e->type == MSGPACK_OBJECT_STR)
        snprintf(out, size, "HTTP %ld: %.*s", r->status, (int)e->via.str.size, e->via.str.ptr);
    else
        sluice_http_describe(out, size, r);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static sluice_http_batch_verdict
influx_response(void *ctx, sluice_flush *fl, const sluice_http_batch_range *rg,
                const sluice_http_response *r, char *why, size_t whylen)
{
    influx_ctx *c = ctx;
    size_t n = rg->last - rg->first;
    (void)fl;
    if (r->status >= 200 && r->status < 300) {
        __atomic_fetch_add(&c->written, n, __ATOMIC_RELAXED);
        return SLUICE_HTTP_BATCH_DONE;
    }
    influx_message(why, whylen, r);
    switch (r->status) {
    case 400:
    case 413:
    case 422:
        if (n == 1)
            __atomic_fetch_add(&c->refused, 1, __ATOMIC_RELAXED);
        return SLUICE_HTTP_BATCH_SPLIT;
    case 401:
    case 403:
        sluice_error(c->ins, "%s refused the credentials (%s): %zu points go to the dead letters",
                     c->cfg->url, why, n);
        return SLUICE_HTTP_BATCH_FAIL;
    case 404:
        sluice_error(c->ins, "%s: %s (create the %s first): %zu points go to the dead letters",
                     c->cfg->url, why, c->cfg->api == API_V1 ? "database" : "bucket", n);
        return SLUICE_HTTP_BATCH_FAIL;
    default:
        break;
    }
    if (sluice_http_classify(r) == SLUICE_RETRY)
        return SLUICE_HTTP_BATCH_RETRY;
    sluice_error(c->ins, "%s answered %s: %zu points go to the dead letters", c->cfg->url, why, n);
    return SLUICE_HTTP_BATCH_FAIL;
}

static const sluice_http_batch_ops influx_ops = {influx_render, influx_prepare, influx_response};

/* ==== Life cycle ==== */

static void
query_param(sluice_buf *u, char sep, const char *name, const char *value)
{
    sluice_buf_printf(u, "%c%s=", sep, name);
    sluice_buf_url_escape(u, value);
}

static void
influx_exit(void *ctx)
{
    influx_ctx *c = ctx;
    if (c->written || c->refused)
        sluice_info(c->ins, "%llu points written, %llu refused", (unsigned long long)c->written,
                    (unsigned long long)c->refused);
    free(c->url);
    sluice_http_batch_free(c->batch);
    free(c);
}

static int
influx_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const influx_config *cfg = config;
    influx_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    int bad = 0;
    if (cfg->api == API_V1 && !cfg->database) {
        sluice_option_error(ins, NULL, "api v1 needs a `database` (the InfluxDB 1.x database to "
                                       "write to)");
        bad = 1;
    }
    if (cfg->api == API_V2 && !cfg->bucket) {
        sluice_option_error(ins, NULL, "api v2 needs a `bucket` (and usually an `org` and a "
                                       "`token`)");
        bad = 1;
    }
    if (bad)
        return SLUICE_ERROR;
    sluice_buf u = SLUICE_BUF_INIT;
    sluice_buf_url_base(&u, cfg->url);
    if (cfg->api == API_V1) {
        sluice_buf_append(&u, "/write", 6);
        query_param(&u, '?', "db", cfg->database);
        if (cfg->retention_policy)
            query_param(&u, '&', "rp", cfg->retention_policy);
        query_param(&u, '&', "precision", v1_precisions[cfg->precision]);
    } else {
        sluice_buf_append(&u, "/api/v2/write", 13);
        query_param(&u, '?', "bucket", cfg->bucket);
        if (cfg->org)
            query_param(&u, '&', "org", cfg->org);
        query_param(&u, '&', "precision", precisions[cfg->precision]);
    }
    sluice_buf_putc(&u, '\0');
    c->url = u.data;
    c->lp = (lp_options){(lp_precision)cfg->precision, cfg->api == API_V2, cfg->measurement,
                         &cfg->tag_keys, &cfg->field_keys};
    c->batch = sluice_http_batch_new(&(sluice_http_batch_config){
        .ops = &influx_ops,
        .ctx = c,
        .http = &cfg->http,
        .content_type = "text/plain; charset=utf-8",
        .auth_scheme = "Token",
        .auth_token = cfg->token,
        .max_events = (size_t)cfg->batch_max_points,
        .max_bytes = (size_t)cfg->batch_max_bytes});
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "influxdb",
    .description = "Write metric events (and log events as points) to InfluxDB v1 or v2 in line "
                   "protocol.",
    .options = influx_options,
    .config_size = sizeof(influx_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = influx_init,
    .exit = influx_exit,
    SLUICE_HTTP_BATCH_CALLBACKS,
};

/* out_http: sends each chunk as one HTTP request (NDJSON, a JSON array or
 * MessagePack; optionally gzipped) through the worker's libcurl multi, so
 * many chunks are in flight on kept-alive connections.
 *
 * Outcomes: 2xx delivered; no response, 408, 429 and 5xx retried (honouring
 * Retry-After); 400, 413 and 422 mean some events in the batch are refused:
 * the batch is split in halves until the refused events are alone, and only
 * those go to the dead letters with the server's answer; any other status
 * fails the whole chunk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_body.h"

static const char *const methods[] = {"POST", "PUT", NULL};
static const char *const formats[] = {"ndjson", "json_array", "msgpack", NULL};
static const char *const compressions[] = {"none", "gzip", NULL};
static const char *const content_types[] = {"application/x-ndjson", "application/json",
                                            "application/msgpack"};

/* Requests one chunk may use to isolate refused events. */
#define SPLIT_BUDGET 1024

typedef struct http_config {
    char *url;
    int method;
    int format;
    int compress;
    sluice_bytes headers;
    char *user, *password, *bearer_token;
    int64_t timeout, connect_timeout;
    int64_t max_in_flight;
    char *time_key;
    int split;
    char *ca_file, *cert_file, *key_file;
    int verify;
} http_config;

static const sluice_option tls_options[] = {
    {.name = "verify", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(http_config, verify), .help = "Verify the server's certificate and name."},
    {.name = "ca_file", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, ca_file),
     .help = "CA bundle to verify with; default: the system's."},
    {.name = "cert_file", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, cert_file),
     .help = "Client certificate (PEM)."},
    {.name = "key_file", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, key_file),
     .help = "Client key (PEM)."},
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
    {.name = "user", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, user),
     .help = "Basic auth user."},
    {.name = "password", .type = SLUICE_OPT_STR, .offset = offsetof(http_config, password),
     .help = "Basic auth password; write ${VAR} to take it from the environment."},
    {.name = "bearer_token", .type = SLUICE_OPT_STR,
     .offset = offsetof(http_config, bearer_token),
     .help = "Sent as Authorization: Bearer; write ${VAR} to take it from the environment."},
    {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "30s", .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_MSEC, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(http_config, timeout), .help = "Time limit of one request."},
    {.name = "connect_timeout", .type = SLUICE_OPT_DURATION, .def = "10s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC, .max = 600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(http_config, connect_timeout), .help = "Time limit to connect."},
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
    sluice_http_tls tls;
} http_ctx;

/* A worker's client, and the chunks waiting for a free slot. */
typedef struct http_worker {
    sluice_http *client;
    size_t in_flight;
    sluice_flush **waiting;
    size_t n_waiting, cap_waiting, first_waiting;
} http_worker;

/* One chunk being sent, possibly as several requests. */
typedef struct http_job {
    http_ctx *c;
    http_worker *w;
    sluice_flush *fl;
    http_body body;
    size_t pending;      /* requests in flight */
    size_t retry_events; /* events marked for retry */
    size_t splits_left;
    char reason[512];
    int failed_start;    /* a request could not even start */
} http_job;

typedef struct http_req {
    http_job *job;
    size_t first, last;
    sluice_buf scratch;
} http_req;

static void send_range(http_job *job, size_t first, size_t last);
static void start_job(http_ctx *c, http_worker *w, sluice_flush *fl);

static void
job_finish(http_job *job)
{
    sluice_flush *fl = job->fl;
    http_worker *w = job->w;
    http_ctx *c = job->c;
    if (job->retry_events == job->body.n && job->body.n)
        sluice_flush_done(fl, SLUICE_RETRY, job->reason);
    else
        sluice_flush_done(fl, SLUICE_OK, NULL);
    http_body_free(&job->body);
    free(job);
    w->in_flight--;
    if (w->first_waiting < w->n_waiting) {
        sluice_flush *next = w->waiting[w->first_waiting++];
        if (w->first_waiting == w->n_waiting)
            w->first_waiting = w->n_waiting = 0;
        start_job(c, w, next);
    }
}

/* "HTTP 400: first part of the body", on one line. */
static void
describe(char *out, size_t size, const sluice_http_response *r)
{
    if (r->error) {
        snprintf(out, size, "%s", r->error);
        return;
    }
    int n = snprintf(out, size, "HTTP %ld", r->status);
    if (r->body_len && (size_t)n + 3 < size) {
        size_t room = size - (size_t)n - 3, len = r->body_len < room ? r->body_len : room;
        out[n++] = ':';
        out[n++] = ' ';
        for (size_t i = 0; i < len; i++)
            out[n++] = (r->body[i] == '\n' || r->body[i] == '\r') ? ' ' : r->body[i];
        out[n] = '\0';
        while (n > 0 && out[n - 1] == ' ')
            out[--n] = '\0';
    }
}

static int
refusal_splits(long status)
{
    return status == 400 || status == 413 || status == 422;
}

static void
on_response(void *arg, const sluice_http_response *r)
{
    http_req *req = arg;
    http_job *job = req->job;
    sluice_flush *fl = job->fl;
    size_t first = req->first, last = req->last;
    sluice_buf_free(&req->scratch);
    free(req);

    int result = sluice_http_classify(r);
    if (result == SLUICE_RETRY) {
        describe(job->reason, sizeof job->reason, r);
        for (size_t i = first; i < last; i++)
            sluice_flush_event_retry(fl, i);
        job->retry_events += last - first;
        if (r->retry_after)
            sluice_flush_retry_after(fl, r->retry_after);
    } else if (result == SLUICE_ERROR) {
        char why[512];
        describe(why, sizeof why, r);
        if (last - first > 1 && job->c->cfg->split && refusal_splits(r->status) &&
            job->splits_left >= 2) {
            job->splits_left -= 2;
            size_t mid = first + (last - first) / 2;
            send_range(job, first, mid);
            send_range(job, mid, last);
        } else {
            for (size_t i = first; i < last; i++)
                sluice_flush_event_failed(fl, i, why);
        }
    }
    if (--job->pending == 0)
        job_finish(job);
}

static void
send_range(http_job *job, size_t first, size_t last)
{
    http_ctx *c = job->c;
    const http_config *cfg = c->cfg;
    http_req *req = calloc(1, sizeof *req);
    req->job = job;
    req->first = first;
    req->last = last;
    sluice_bytes payload = http_body_range(&job->body, (http_format)cfg->format,
                                           cfg->compress == 1, first, last, &req->scratch);
    sluice_http_request hr = {
        .url = cfg->url,
        .method = methods[cfg->method],
        .headers = (const char *const *)c->headers,
        .body = payload.data,
        .body_len = payload.len,
        .user = cfg->user,
        .password = cfg->password,
        .timeout = cfg->timeout,
        .connect_timeout = cfg->connect_timeout,
        .tls = &c->tls,
    };
    job->pending++;
    if (sluice_http_send(job->w->client, &hr, on_response, req) != 0) {
        /* Treated like no response: retried. */
        sluice_http_response none = {.error = "cannot start the request"};
        on_response(req, &none);
    }
}

/* Render the chunk and send it: the body exists only while in flight. */
static void
start_job(http_ctx *c, http_worker *w, sluice_flush *fl)
{
    w->in_flight++;
    http_job *job = calloc(1, sizeof *job);
    job->c = c;
    job->w = w;
    job->fl = fl;
    job->splits_left = SPLIT_BUDGET;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    http_body_build(&job->body, (http_format)c->cfg->format,
                    c->cfg->time_key && *c->cfg->time_key ? c->cfg->time_key : NULL, data, len);
    if (job->body.n == 0) {
        job->pending = 1;
        job_finish(job);
        return;
    }
    send_range(job, 0, job->body.n);
}

static void
http_flush(void *ctx, sluice_flush *fl)
{
    http_ctx *c = ctx;
    http_worker *w = sluice_flush_worker(fl);
    if (w->in_flight < (size_t)c->cfg->max_in_flight) {
        start_job(c, w, fl);
        return;
    }
    if (w->n_waiting == w->cap_waiting) {
        w->cap_waiting = w->cap_waiting ? w->cap_waiting * 2 : 16;
        w->waiting = realloc(w->waiting, w->cap_waiting * sizeof *w->waiting);
    }
    w->waiting[w->n_waiting++] = fl;
}

static int
http_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    http_worker *w = calloc(1, sizeof *w);
    if (!w)
        return SLUICE_ERROR;
    w->client = sluice_http_new(loop);
    *worker_ctx = w;
    return SLUICE_OK;
}

static void
http_worker_exit(void *worker_ctx)
{
    http_worker *w = worker_ctx;
    /* Waiting flushes are left to the engine, which counts them at exit. */
    w->first_waiting = w->n_waiting = 0;
    sluice_http_free(w->client);
    free(w->waiting);
    free(w);
}

static void
add_header(http_ctx *c, size_t *n, const char *name, size_t nlen, const char *val, size_t vlen)
{
    c->headers = realloc(c->headers, (*n + 2) * sizeof *c->headers);
    int len = snprintf(NULL, 0, "%.*s: %.*s", (int)nlen, name, (int)vlen, val);
    c->headers[*n] = malloc((size_t)len + 1);
    snprintf(c->headers[*n], (size_t)len + 1, "%.*s: %.*s", (int)nlen, name, (int)vlen, val);
    c->headers[++*n] = NULL;
}

static int
http_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const http_config *cfg = config;
    if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0) {
        sluice_error(ins, "url: expected http:// or https://, found '%s'", cfg->url);
        return SLUICE_ERROR;
    }
    http_ctx *c = calloc(1, sizeof *c);
    c->ins = ins;
    c->cfg = cfg;
    c->tls = (sluice_http_tls){cfg->ca_file, cfg->cert_file, cfg->key_file, cfg->verify};
    size_t n = 0;
    const char *ct = content_types[cfg->format];
    add_header(c, &n, "Content-Type", 12, ct, strlen(ct));
    if (cfg->compress == 1)
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
                sluice_error(ins, "headers: every header name and value must be a string");
                bad = 1;
                break;
            }
            add_header(c, &n, k->via.str.ptr, k->via.str.size, v->via.str.ptr, v->via.str.size);
        }
    }
    msgpack_unpacked_destroy(&up);
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
    .worker_exit = http_worker_exit,
};

/* Batched HTTP outputs (see include/sluice/http_batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <msgpack.h>

#include "http_body.h"
#include "sluice/alloc.h"
#include "sluice/http_batch.h"
#include "sluice/log.h"

/* Requests one chunk may spend on halving ranges to isolate refusals. */
#define SPLIT_BUDGET 1024

struct sluice_http_batch {
    sluice_http_batch_config cfg;
    size_t max_in_flight;
    char **headers; /* "Name: value", NULL-terminated */
    size_t n_headers;
};

typedef struct worker {
    sluice_http_batch *b;
    sluice_http *client;
    size_t in_flight;
    sluice_flush **waiting;
    size_t n_waiting, cap_waiting, first_waiting;
} worker;

typedef struct queued {
    size_t first, last;
    unsigned resends;
} queued;

/* Sequential: a shard's ranges still to send, in order. */
typedef struct shard_queue {
    queued *v;
    size_t head, len, cap;
} shard_queue;

typedef struct job {
    worker *w;
    sluice_flush *fl;
    body body;
    shard_queue *queues; /* sequential: one per shard */
    unsigned n_queues;
    size_t pending;      /* requests in flight */
    size_t retry_pieces; /* pieces marked for retry */
    size_t splits_left;
    char reason[512];
} job;

typedef struct request {
    job *job;
    unsigned shard;
    sluice_http_batch_range rg;
    sluice_buf scratch;
} request;

static void send_range(job *j, unsigned shard, size_t first, size_t last, unsigned resends);
static void send_next(job *j, unsigned shard);
static void start_job(worker *w, sluice_flush *fl);

/* ==== Jobs: one chunk, one or more requests ==== */

static void
job_finish(job *j)
{
    worker *w = j->w;
    if (j->body.n && j->retry_pieces == j->body.n)
        sluice_flush_done(j->fl, SLUICE_RETRY, j->reason);
    else
        sluice_flush_done(j->fl, SLUICE_OK, NULL);
    body_free(&j->body);
    for (unsigned q = 0; j->queues && q < j->n_queues; q++)
        free(j->queues[q].v);
    free(j->queues);
    free(j);
    w->in_flight--;
    if (w->first_waiting < w->n_waiting) {
        sluice_flush *next = w->waiting[w->first_waiting++];
        if (w->first_waiting == w->n_waiting)
            w->first_waiting = w->n_waiting = 0;
        start_job(w, next);
    }
}

static void
mark_range(job *j, const sluice_http_batch_range *rg, int retry, const char *why)
{
    for (size_t p = rg->first; p < rg->last; p++) {
        if (retry)
            sluice_flush_event_retry(j->fl, rg->index[p]);
        else
            sluice_flush_event_failed(j->fl, rg->index[p], why);
    }
    if (retry)
        j->retry_pieces += rg->last - rg->first;
}

/* A range to send: now, or (sequential) in its turn in its shard's queue,
 * at the front when it replaces the range just answered (its halves, a
 * resend). */
static void
queue_range(job *j, unsigned shard, size_t first, size_t last, unsigned resends, int front)
{
    if (!j->w->b->cfg.sequential) {
        send_range(j, shard, first, last, resends);
        return;
    }
    shard_queue *q = &j->queues[shard];
    if (q->head + q->len == q->cap || (front && q->head == 0)) {
        size_t cap = 2 * (q->len + 1) + 8, head = cap / 4;
        queued *v = sluice_malloc(cap * sizeof *v);
        if (q->len)
            memcpy(v + head, q->v + q->head, q->len * sizeof *v);
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = head;
    }
    if (front)
        q->v[--q->head] = (queued){first, last, resends};
    else
        q->v[q->head + q->len] = (queued){first, last, resends};
    q->len++;
}

static void
send_next(job *j, unsigned shard)
{
    if (!j->queues || shard >= j->n_queues || !j->queues[shard].len)
        return;
    shard_queue *q = &j->queues[shard];
    queued next = q->v[q->head++];
    q->len--;
    send_range(j, shard, next.first, next.last, next.resends);
}

static void
on_response(void *arg, const sluice_http_response *r)
{
    request *req = arg;
    job *j = req->job;
    const sluice_http_batch_config *cfg = &j->w->b->cfg;
    sluice_http_batch_range rg = req->rg;
    unsigned shard = req->shard;
    sluice_buf_free(&req->scratch);
    free(req);

    char why[512] = "";
    sluice_http_batch_verdict v = cfg->ops->response(cfg->ctx, j->fl, &rg, r, why, sizeof why);
    if (!*why)
        sluice_http_describe(why, sizeof why, r);
    if (v == SLUICE_HTTP_BATCH_RESEND && rg.resends >= cfg->max_resends)
        v = SLUICE_HTTP_BATCH_RETRY;
    switch (v) {
    case SLUICE_HTTP_BATCH_DONE:
        break;
    case SLUICE_HTTP_BATCH_SPLIT:
        if (rg.last - rg.first > 1 && j->splits_left >= 2) {
            j->splits_left -= 2;
            size_t mid = rg.first + (rg.last - rg.first) / 2;
            if (cfg->sequential) { /* both at the front, the first half first */
                queue_range(j, shard, mid, rg.last, 0, 1);
                queue_range(j, shard, rg.first, mid, 0, 1);
            } else {
                send_range(j, shard, rg.first, mid, 0);
                send_range(j, shard, mid, rg.last, 0);
            }
        } else {
            mark_range(j, &rg, 0, why);
        }
        break;
    case SLUICE_HTTP_BATCH_RESEND:
        queue_range(j, shard, rg.first, rg.last, rg.resends + 1, 1);
        break;
    case SLUICE_HTTP_BATCH_RETRY:
        snprintf(j->reason, sizeof j->reason, "%s", why);
        mark_range(j, &rg, 1, NULL);
        /* Sequential: what comes after it in its shard waits for it, in
         * the retry. */
        for (shard_queue *q = j->queues ? &j->queues[shard] : NULL; q && q->len;
             q->len--, q->head++) {
            sluice_http_batch_range later = {q->v[q->head].first, q->v[q->head].last,
                                             j->body.index, 0, 0};
            mark_range(j, &later, 1, NULL);
        }
        if (r->retry_after)
            sluice_flush_retry_after(j->fl, r->retry_after);
        break;
    case SLUICE_HTTP_BATCH_FAIL:
        mark_range(j, &rg, 0, why);
        break;
    }
    send_next(j, shard);
    if (--j->pending == 0)
        job_finish(j);
}

static void
send_range(job *j, unsigned shard, size_t first, size_t last, unsigned resends)
{
    const sluice_http_batch_config *cfg = &j->w->b->cfg;
    request *req = calloc(1, sizeof *req);
    if (!req)
        abort();
    req->job = j;
    req->shard = shard;
    req->rg = (sluice_http_batch_range){first, last, j->body.index, resends, 0};
    sluice_bytes payload = body_range(&j->body, cfg, first, last, &req->scratch);
    sluice_http_request hr = {.method = "POST",
                              .headers = (const char *const *)j->w->b->headers};
    if (cfg->http)
        sluice_http_request_apply(&hr, &cfg->http->client);
    cfg->ops->prepare(cfg->ctx, &hr, &req->rg);
    hr.body = payload.data;
    hr.body_len = payload.len;
    j->pending++;
    if (sluice_http_send(j->w->client, &hr, on_response, req) != 0) {
        sluice_http_response none = {.error = "cannot start the request"};
        on_response(req, &none);
    }
}

/* Render the chunk and send it in ranges within max_events and max_bytes:
 * the body exists only while the chunk is in flight. */
static void
start_job(worker *w, sluice_flush *fl)
{
    const sluice_http_batch_config *cfg = &w->b->cfg;
    w->in_flight++;
    job *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->w = w;
    j->fl = fl;
    j->splits_left = SPLIT_BUDGET;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    body_build(&j->body, cfg, sluice_flush_kind(fl), data, len, fl);
    /* Held so that a range answered at once does not finish the job early. */
    j->pending = 1;
    j->n_queues = j->body.shard_start ? cfg->shards : 1;
    if (cfg->sequential)
        j->queues = sluice_calloc(j->n_queues, sizeof *j->queues);
    for (unsigned s = 0; s < j->n_queues; s++) {
        size_t first = j->body.shard_start ? j->body.shard_start[s] : 0;
        size_t end = j->body.shard_start ? j->body.shard_start[s + 1] : j->body.n;
        while (first < end) {
            size_t last = first + 1;
            while (last < end && (!cfg->max_events || last - first < cfg->max_events) &&
                   (!cfg->max_bytes ||
                    j->body.offs[last + 1] - j->body.offs[first] <= cfg->max_bytes))
                last++;
            queue_range(j, s, first, last, 0, 0);
            first = last;
        }
    }
    for (unsigned s = 0; s < j->n_queues; s++)
        send_next(j, s);
    if (--j->pending == 0)
        job_finish(j);
}

/* ==== The plugin's entry points ==== */

static void
add_header(sluice_http_batch *b, const char *name, size_t nlen, const char *val, size_t vlen)
{
    b->headers = realloc(b->headers, (b->n_headers + 2) * sizeof *b->headers);
    char *h = malloc(nlen + vlen + 3);
    if (!b->headers || !h)
        abort();
    memcpy(h, name, nlen);
    memcpy(h + nlen, ": ", 2);
    memcpy(h + nlen + 2, val, vlen);
    h[nlen + 2 + vlen] = '\0';
    b->headers[b->n_headers++] = h;
    b->headers[b->n_headers] = NULL;
}

static int
has_header(const sluice_http_batch *b, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < b->n_headers; i++)
        if (strncasecmp(b->headers[i], name, n) == 0 && b->headers[i][n] == ':')
            return 1;
    return 0;
}

/* The `headers` option's map, already checked to hold only strings. */
static void
add_header_map(sluice_http_batch *b, const sluice_bytes *map)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (map->len &&
        msgpack_unpack_next(&up, map->data, map->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key, *v = &up.data.via.map.ptr[i].val;
            if (k->type == MSGPACK_OBJECT_STR && v->type == MSGPACK_OBJECT_STR)
                add_header(b, k->via.str.ptr, k->via.str.size, v->via.str.ptr, v->via.str.size);
        }
    msgpack_unpacked_destroy(&up);
}

int
sluice_http_check_headers(const void *value, char *err, size_t errlen)
{
    const sluice_bytes *map = value;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int bad = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < up.data.via.map.size && !bad; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key, *v = &up.data.via.map.ptr[i].val;
            if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR) {
                snprintf(err, errlen, "every header name and value must be a string");
                bad = 1;
            } else if (memchr(k->via.str.ptr, ':', k->via.str.size) ||
                       memchr(v->via.str.ptr, '\n', v->via.str.size) ||
                       memchr(v->via.str.ptr, '\r', v->via.str.size)) {
                snprintf(err, errlen, "header '%.*s': no ':' in a name, no line break in a value",
                         (int)k->via.str.size, k->via.str.ptr);
                bad = 1;
            }
        }
    msgpack_unpacked_destroy(&up);
    return bad ? -1 : 0;
}

sluice_http_batch *
sluice_http_batch_new(const sluice_http_batch_config *cfg)
{
    sluice_http_batch *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    b->cfg = *cfg;
    b->max_in_flight = cfg->http && cfg->http->max_in_flight > 0 ? (size_t)cfg->http->max_in_flight : 1;
    /* The operator's headers first: they win over the plugin's. */
    if (cfg->http)
        add_header_map(b, &cfg->http->headers);
    if (cfg->content_type && !has_header(b, "Content-Type"))
        add_header(b, "Content-Type", 12, cfg->content_type, strlen(cfg->content_type));
    if (cfg->content_encoding)
        add_header(b, "Content-Encoding", 16, cfg->content_encoding,
                   strlen(cfg->content_encoding));
    else if (cfg->http && cfg->http->compress == SLUICE_HTTP_COMPRESS_GZIP)
        add_header(b, "Content-Encoding", 16, "gzip", 4);
    for (const char *const *h = cfg->headers; h && *h; h++) {
        const char *colon = strchr(*h, ':');
        if (!colon)
            continue;
        size_t n = (size_t)(colon - *h);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        char *name = sluice_strndup(*h, n);
        if (!has_header(b, name))
            add_header(b, *h, n, v, strlen(v));
        free(name);
    }
    if (cfg->auth_token && !has_header(b, "Authorization")) {
        char *value = sluice_asprintf("%s %s", cfg->auth_scheme, cfg->auth_token);
        add_header(b, "Authorization", 13, value, strlen(value));
        free(value);
    }
    return b;
}

void
sluice_http_batch_free(sluice_http_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_headers; i++)
        free(b->headers[i]);
    free(b->headers);
    free(b);
}

int
sluice_http_batch_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    sluice_http_batch *b = *(sluice_http_batch **)ctx;
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return SLUICE_ERROR;
    w->b = b;
    w->client = sluice_http_new(loop);
    *worker_ctx = w;
    return SLUICE_OK;
}

void
sluice_http_batch_worker_exit(void *worker_ctx)
{
    worker *w = worker_ctx;
    /* Waiting flushes are left to the engine, which counts them at exit. */
    w->first_waiting = w->n_waiting = 0;
    sluice_http_free(w->client);
    free(w->waiting);
    free(w);
}

void
sluice_http_batch_flush(void *ctx, sluice_flush *fl)
{
    const sluice_http_batch *b = *(sluice_http_batch **)ctx;
    worker *w = sluice_flush_worker(fl);
    if (w->in_flight < b->max_in_flight) {
        start_job(w, fl);
        return;
    }
    if (w->n_waiting == w->cap_waiting) {
        w->cap_waiting = w->cap_waiting ? w->cap_waiting * 2 : 16;
        w->waiting = realloc(w->waiting, w->cap_waiting * sizeof *w->waiting);
        if (!w->waiting)
            abort();
    }
    w->waiting[w->n_waiting++] = fl;
}

void
sluice_http_describe(char *out, size_t size, const sluice_http_response *r)
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

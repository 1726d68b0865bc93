/* Batched HTTP outputs (see include/sluice/http_batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_body.h"
#include "sluice/http_batch.h"
#include "sluice/log.h"

/* Requests one chunk may spend on halving ranges to isolate refusals. */
#define SPLIT_BUDGET 1024

struct sluice_batch {
    sluice_batch_config cfg;
};

typedef struct worker {
    sluice_batch *b;
    sluice_http *client;
    size_t in_flight;
    sluice_flush **waiting;
    size_t n_waiting, cap_waiting, first_waiting;
} worker;

typedef struct job {
    worker *w;
    sluice_flush *fl;
    body body;
    size_t pending;      /* requests in flight */
    size_t retry_pieces; /* pieces marked for retry */
    size_t splits_left;
    char reason[512];
} job;

typedef struct request {
    job *job;
    sluice_batch_range rg;
    sluice_buf scratch;
} request;

static void send_range(job *j, size_t first, size_t last, unsigned resends);
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
mark_range(job *j, const sluice_batch_range *rg, int retry, const char *why)
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

static void
on_response(void *arg, const sluice_http_response *r)
{
    request *req = arg;
    job *j = req->job;
    const sluice_batch_config *cfg = &j->w->b->cfg;
    sluice_batch_range rg = req->rg;
    sluice_buf_free(&req->scratch);
    free(req);

    char why[512] = "";
    sluice_batch_verdict v = cfg->ops->response(cfg->ctx, j->fl, &rg, r, why, sizeof why);
    if (!*why)
        sluice_http_describe(why, sizeof why, r);
    if (v == SLUICE_BATCH_RESEND && rg.resends >= cfg->max_resends)
        v = SLUICE_BATCH_RETRY;
    switch (v) {
    case SLUICE_BATCH_DONE:
        break;
    case SLUICE_BATCH_SPLIT:
        if (rg.last - rg.first > 1 && j->splits_left >= 2) {
            j->splits_left -= 2;
            size_t mid = rg.first + (rg.last - rg.first) / 2;
            send_range(j, rg.first, mid, 0);
            send_range(j, mid, rg.last, 0);
        } else {
            mark_range(j, &rg, 0, why);
        }
        break;
    case SLUICE_BATCH_RESEND:
        send_range(j, rg.first, rg.last, rg.resends + 1);
        break;
    case SLUICE_BATCH_RETRY:
        snprintf(j->reason, sizeof j->reason, "%s", why);
        mark_range(j, &rg, 1, NULL);
        if (r->retry_after)
            sluice_flush_retry_after(j->fl, r->retry_after);
        break;
    case SLUICE_BATCH_FAIL:
        mark_range(j, &rg, 0, why);
        break;
    }
    if (--j->pending == 0)
        job_finish(j);
}

static void
send_range(job *j, size_t first, size_t last, unsigned resends)
{
    const sluice_batch_config *cfg = &j->w->b->cfg;
    request *req = calloc(1, sizeof *req);
    if (!req)
        abort();
    req->job = j;
    req->rg = (sluice_batch_range){first, last, j->body.index, resends, 0};
    sluice_bytes payload = body_range(&j->body, cfg, first, last, &req->scratch);
    sluice_http_request hr = {.method = "POST"};
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
    const sluice_batch_config *cfg = &w->b->cfg;
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
    size_t first = 0;
    while (first < j->body.n) {
        size_t last = first + 1;
        while (last < j->body.n && (!cfg->max_events || last - first < cfg->max_events) &&
               (!cfg->max_bytes || j->body.offs[last + 1] - j->body.offs[first] <= cfg->max_bytes))
            last++;
        send_range(j, first, last, 0);
        first = last;
    }
    if (--j->pending == 0)
        job_finish(j);
}

/* ==== The plugin's entry points ==== */

sluice_batch *
sluice_batch_new(const sluice_batch_config *cfg)
{
    sluice_batch *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    b->cfg = *cfg;
    if (!b->cfg.max_in_flight)
        b->cfg.max_in_flight = 1;
    return b;
}

void
sluice_batch_free(sluice_batch *b)
{
    free(b);
}

int
sluice_batch_worker_init(sluice_batch *b, uv_loop_t *loop, void **worker_ctx)
{
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return SLUICE_ERROR;
    w->b = b;
    w->client = sluice_http_new(loop);
    *worker_ctx = w;
    return SLUICE_OK;
}

void
sluice_batch_worker_exit(void *worker_ctx)
{
    worker *w = worker_ctx;
    /* Waiting flushes are left to the engine, which counts them at exit. */
    w->first_waiting = w->n_waiting = 0;
    sluice_http_free(w->client);
    free(w->waiting);
    free(w);
}

void
sluice_batch_flush(sluice_batch *b, sluice_flush *fl)
{
    worker *w = sluice_flush_worker(fl);
    if (w->in_flight < b->cfg.max_in_flight) {
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

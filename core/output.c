/* Output workers, dispatch, completion and retry (see output.h). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "output.h"
#include "pipeline.h"
#include "xalloc.h"

void
output_init(output *o, sluice_instance *ins, const output_settings *settings, struct engine *e)
{
    memset(o, 0, sizeof *o);
    o->ins = ins;
    o->engine = e;
    o->settings = settings;
    o->n_workers = (size_t)settings->workers;
    o->workers = xcalloc(o->n_workers, sizeof *o->workers);
    ins->output = o;
}

/* ==== Worker threads ==== */

static void
on_wake(uv_async_t *a)
{
    worker *w = a->data;
    uv_mutex_lock(&w->lock);
    struct sluice_flush *list = w->head;
    int stopping = w->stopping;
    w->head = w->tail = NULL;
    uv_mutex_unlock(&w->lock);
    if (stopping) {
        /* Leave queued flushes to output_abandon. */
        uv_mutex_lock(&w->lock);
        w->head = list;
        uv_mutex_unlock(&w->lock);
        uv_stop(&w->loop);
        return;
    }
    const sluice_instance *ins = w->o->ins;
    while (list) {
        struct sluice_flush *fl = list;
        list = list->next;
        fl->next = NULL;
        ins->plugin->flush(ins->ctx, fl);
    }
}

static void
close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void
worker_main(void *arg)
{
    worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_walk(&w->loop, close_any, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

int
output_start_workers(output *o)
{
    for (size_t i = 0; i < o->n_workers; i++) {
        worker *w = &o->workers[i];
        w->o = o;
        uv_loop_init(&w->loop);
        uv_mutex_init(&w->lock);
        uv_async_init(&w->loop, &w->wake, on_wake);
        w->wake.data = w;
        int r = uv_thread_create(&w->thread, worker_main, w);
        if (r != 0) {
            sluice_error(o->ins, "cannot start worker thread: %s", uv_strerror(r));
            return -1;
        }
    }
    return 0;
}

void
output_stop_workers(output *o)
{
    for (size_t i = 0; i < o->n_workers; i++) {
        worker *w = &o->workers[i];
        if (!w->o)
            continue;
        uv_mutex_lock(&w->lock);
        w->stopping = 1;
        uv_mutex_unlock(&w->lock);
        uv_async_send(&w->wake);
        uv_thread_join(&w->thread);
        uv_loop_close(&w->loop);
        uv_mutex_destroy(&w->lock);
        w->o = NULL;
    }
}

static void
worker_push(worker *w, struct sluice_flush *fl)
{
    fl->w = w;
    fl->next = NULL;
    uv_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = fl;
    else
        w->head = fl;
    w->tail = fl;
    uv_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

static void
submit(struct sluice_flush *fl)
{
    output *o = fl->o;
    worker *w = &o->workers[o->next_worker++ % o->n_workers];
    worker_push(w, fl);
}

/* ==== Dispatch ==== */

void
output_dispatch(struct pipeline *p, chunk *c)
{
    engine *e = p->engine;
    struct sluice_flush *fresh = NULL;
    for (size_t i = 0; i < p->n_outputs; i++) {
        output *o = p->outputs[i].output;
        if (!(o->ins->plugin->accepts & (1u << c->kind)))
            continue;
        struct sluice_flush *fl = xcalloc(1, sizeof *fl);
        fl->c = c;
        fl->o = o;
        uv_timer_init(&e->loop, &fl->retry_timer);
        fl->retry_timer.data = fl;
        fl->live_next = o->live;
        if (o->live)
            o->live->live_prev = fl;
        o->live = fl;
        fl->next = fresh;
        fresh = fl;
        c->refs++;
        o->held_bytes += c->buf.size;
        o->pending++;
        e->pending++;
    }
    if (c->refs == 0) {
        if (p->dropped_no_output == 0)
            sluice_warn(NULL, "pipeline %s: no output accepts %s events; they are dropped and "
                              "counted",
                        p->name, c->kind == SLUICE_EVENT_LOG ? "log" : "metric");
        p->dropped_no_output += c->count;
        chunk_free(c);
        return;
    }
    while (fresh) {
        struct sluice_flush *fl = fresh;
        fresh = fl->next;
        submit(fl);
    }
    pipeline_update_backpressure(p);
}

/* ==== Completion ==== */

static void
free_flush(uv_handle_t *h)
{
    free(h->data);
}

/* Release one output's hold on a chunk; the flush is finished. */
static void
finish(struct sluice_flush *fl)
{
    output *o = fl->o;
    engine *e = o->engine;
    chunk *c = fl->c;
    if (fl->live_prev)
        fl->live_prev->live_next = fl->live_next;
    else
        o->live = fl->live_next;
    if (fl->live_next)
        fl->live_next->live_prev = fl->live_prev;
    o->held_bytes -= c->buf.size;
    o->pending--;
    e->pending--;
    pipeline *p = c->pipeline;
    if (--c->refs == 0)
        chunk_free(c);
    free(fl->reason);
    fl->reason = NULL;
    uv_close((uv_handle_t *)&fl->retry_timer, free_flush);
    pipeline_update_backpressure(p);
    engine_check_drained(e);
}

static void
on_retry(uv_timer_t *t)
{
    struct sluice_flush *fl = t->data;
    fl->w = NULL;
    submit(fl);
}

/* Full jitter: a uniform delay in [0, min(max, initial * 2^attempt)). */
static uint64_t
backoff_ms(engine *e, const output_settings *s, unsigned attempt)
{
    uint64_t cap = (uint64_t)s->initial_backoff;
    for (unsigned i = 1; i < attempt && cap < (uint64_t)s->max_backoff; i++)
        cap *= 2;
    if (cap > (uint64_t)s->max_backoff)
        cap = (uint64_t)s->max_backoff;
    uint64_t ms = cap / (uint64_t)SLUICE_NSEC_PER_MSEC;
    return ms ? engine_random(e) % ms + 1 : 1;
}

void
output_handle_done(struct sluice_flush *fl)
{
    output *o = fl->o;
    engine *e = o->engine;
    const char *why = fl->reason ? fl->reason : "no reason given";
    if (fl->result == SLUICE_OK) {
        o->delivered_events += fl->c->count;
        o->delivered_chunks++;
        finish(fl);
        return;
    }
    if (fl->result == SLUICE_RETRY && e->state == ENGINE_DONE)
        return; /* shutting down: output_abandon counts it */
    if (fl->result == SLUICE_RETRY) {
        fl->attempt++;
        o->retries++;
        if (o->settings->max_attempts && fl->attempt >= (unsigned)o->settings->max_attempts) {
            sluice_error(o->ins, "giving up on a chunk of %u events after %u attempts: %s",
                         fl->c->count, fl->attempt, why);
        } else {
            uint64_t ms = backoff_ms(e, o->settings, fl->attempt);
            sluice_warn(o->ins, "flush of %u events failed (%s); retry %u in %llu ms",
                        fl->c->count, why, fl->attempt, (unsigned long long)ms);
            free(fl->reason);
            fl->reason = NULL;
            uv_timer_start(&fl->retry_timer, on_retry, ms, 0);
            return;
        }
    } else {
        sluice_error(o->ins, "flush of %u events failed permanently: %s", fl->c->count, why);
    }
    o->failed_events += fl->c->count;
    o->failed_chunks++;
    finish(fl);
}

void
sluice_flush_done(sluice_flush *fl, int result, const char *reason)
{
    fl->result = result;
    fl->reason = reason ? xstrdup(reason) : NULL;
    engine_post_done(fl->o->engine, fl);
}

uint64_t
output_abandon(output *o)
{
    uint64_t lost = 0;
    while (o->live) {
        lost += o->live->c->count;
        o->failed_events += o->live->c->count;
        o->failed_chunks++;
        finish(o->live);
    }
    return lost;
}

void
output_free(output *o)
{
    free(o->workers);
}

/* ==== The SDK's view of a flush ==== */

sluice_event_kind
sluice_flush_kind(const sluice_flush *fl)
{
    return fl->c->kind;
}

const char *
sluice_flush_data(const sluice_flush *fl, size_t *len)
{
    *len = fl->c->buf.size;
    return fl->c->buf.data;
}

size_t
sluice_flush_count(const sluice_flush *fl)
{
    return fl->c->count;
}

unsigned
sluice_flush_attempt(const sluice_flush *fl)
{
    return fl->attempt;
}

uv_loop_t *
sluice_flush_loop(sluice_flush *fl)
{
    return &fl->w->loop;
}

/* Output workers, dispatch, completion and retry (see output.h). */
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "engine.h"
#include "output.h"
#include "pipeline.h"
#include "storage.h"
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
    dead_letter_init(&o->dead, ins, settings->dead_letter_path);
    buffer_init(&o->buf, ins, settings);
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
        if (w->broken)
            sluice_flush_done(fl, SLUICE_RETRY, "the output's worker failed to initialise");
        else
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
    const sluice_instance *ins = w->o->ins;
    if (ins->plugin->worker_init &&
        ins->plugin->worker_init(ins->ctx, &w->loop, &w->ctx) != SLUICE_OK) {
        sluice_error(ins, "worker failed to initialise; its flushes will be retried");
        w->broken = 1;
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (ins->plugin->worker_exit && !w->broken)
        ins->plugin->worker_exit(w->ctx);
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
    fl->in_worker = 1;
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
    if (o->ins->plugin->flags & SLUICE_PLUGIN_ORDERED) {
        if (o->current && o->current != fl) {
            fl->next = NULL;
            if (o->held_tail)
                o->held_tail->next = fl;
            else
                o->held = fl;
            o->held_tail = fl;
            return;
        }
        o->current = fl;
    }
    worker *w = &o->workers[o->next_worker++ % o->n_workers];
    sluice_debug(o->ins, "sending a chunk of %u %s events (%zu bytes), attempt %u", fl->c->count,
                 fl->c->kind == SLUICE_EVENT_LOG ? "log" : "metric", fl->c->buf.size,
                 fl->attempt + 1);
    fl->sent_at = uv_now(&o->engine->loop);
    worker_push(w, fl);
}

/* ==== Dispatch ==== */

/* A new unfinished flush of `c` to `o`, holding a reference to it. */
static struct sluice_flush *
flush_new(output *o, chunk *c)
{
    engine *e = o->engine;
    struct sluice_flush *fl = xcalloc(1, sizeof *fl);
    fl->c = c;
    fl->o = o;
    uv_timer_init(&e->loop, &fl->retry_timer);
    fl->retry_timer.data = fl;
    fl->live_next = o->live;
    if (o->live)
        o->live->live_prev = fl;
    o->live = fl;
    c->refs++;
    buffer_hold(&o->buf, c->buf.size);
    o->pending++;
    e->pending++;
    return fl;
}

void
output_dispatch(struct pipeline *p, chunk *c)
{
    struct sluice_flush *fresh = NULL;
    for (size_t i = 0; i < c->n_takers; i++) {
        output *o = c->takers[i];
        chunk_file *f = c->files && c->files[i].buf ? &c->files[i] : NULL;
        char *path = f ? f->path : NULL;
        uint64_t bytes = f ? CHUNK_HEADER_SIZE + f->written : 0;
        if (f)
            f->path = NULL;
        /* A chunk file that was fsynced at close is already safe. */
        int durable = path && o->settings->fsync != FSYNC_NEVER;
        chunk_mark *hold = !durable && c->mark ? c->mark : NULL;
        if (hold)
            ack_mark_hold(hold);
        /* Filesystem buffer over its memory: the chunk waits on disk only,
         * and so does everything after it, to keep the order. */
        if (path && buffer_must_spill(&o->buf, c->buf.size)) {
            buffer_spill(&o->buf, path, bytes, hold);
            continue;
        }
        struct sluice_flush *fl = flush_new(o, c);
        fl->path = path;
        fl->file_bytes = bytes;
        fl->mark = hold;
        fl->next = fresh;
        fresh = fl;
    }
    free(c->files);
    c->files = NULL;
    /* The open chunk's own hold: from now on only the outputs hold it. */
    if (c->mark) {
        chunk_mark *m = c->mark;
        c->mark = NULL;
        ack_mark_release(m);
    }
    if (c->refs == 0 && c->n_takers) {
        /* Every taker keeps it on disk for now. */
        chunk_free(c);
        pipeline_update_backpressure(p);
        return;
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

/* SLUICE_PLUGIN_ORDERED: `fl` is finished; the oldest held flush goes
 * next (none at shutdown, where every flush is finished in turn). */
static void
release_order(output *o, struct sluice_flush *fl)
{
    struct sluice_flush **link = &o->held;
    while (*link && *link != fl)
        link = &(*link)->next;
    if (*link) { /* finished while held: shutdown */
        *link = fl->next;
        if (o->held_tail == fl)
            o->held_tail = NULL;
        for (struct sluice_flush *h = o->held; h; h = h->next)
            o->held_tail = h;
    }
    if (o->current != fl)
        return;
    o->current = NULL;
    struct sluice_flush *next = o->held;
    if (!next || o->engine->state == ENGINE_DONE || o->closing)
        return;
    o->held = next->next;
    if (!o->held)
        o->held_tail = NULL;
    submit(next);
}

/* Take `fl` off its output's list of unfinished flushes. */
static void
live_unlink(struct sluice_flush *fl)
{
    output *o = fl->o;
    if (fl->live_prev)
        fl->live_prev->live_next = fl->live_next;
    else
        o->live = fl->live_next;
    if (fl->live_next)
        fl->live_next->live_prev = fl->live_prev;
    fl->live_prev = fl->live_next = NULL;
}

/* Release one output's hold on a chunk; the flush is finished. */
static void
finish(struct sluice_flush *fl)
{
    output *o = fl->o;
    engine *e = o->engine;
    chunk *c = fl->c;
    live_unlink(fl);
    buffer_release(&o->buf, c->buf.size);
    o->pending--;
    e->pending--;
    pipeline *p = c->pipeline;
    if (--c->refs == 0)
        chunk_free(c);
    if (fl->path && !fl->keep_file)
        storage_remove(&o->buf, fl->path, fl->file_bytes);
    if (fl->mark && !fl->abandoned)
        ack_mark_release(fl->mark);
    free(fl->path);
    free(fl->reason);
    fl->reason = NULL;
    free(fl->retry_events);
    for (size_t i = 0; i < fl->n_failed; i++)
        free(fl->failed_events[i].reason);
    free(fl->failed_events);
    uv_close((uv_handle_t *)&fl->retry_timer, free_flush);
    release_order(o, fl);
    output_pump(o);
    pipeline_update_backpressure(p);
    engine_check_drained(e);
}

static void
on_retry(uv_timer_t *t)
{
    struct sluice_flush *fl = t->data;
    /* A whole-chunk RETRY wipes any per-event marks the output had made. */
    for (size_t i = 0; i < fl->n_failed; i++)
        free(fl->failed_events[i].reason);
    fl->n_failed = fl->n_retry = 0;
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

/* At most one retry warning per output in this long (the counters in
 * /metrics have every one). */
#define RETRY_WARN_WINDOW (5 * SLUICE_NSEC_PER_SEC)

/* A Retry-After longer than this is taken as this. */
#define RETRY_AFTER_MAX (3600 * SLUICE_NSEC_PER_SEC)

/* Schedule the next attempt of `fl`, or give up after max_attempts.
 * Returns 0 when scheduled, -1 when given up (the caller dead-letters). */
static int
schedule_retry(struct sluice_flush *fl, size_t events, const char *why)
{
    output *o = fl->o;
    fl->attempt++;
    o->retries++;
    o->retried_events += events;
    if (o->settings->max_attempts && fl->attempt >= (unsigned)o->settings->max_attempts)
        return -1;
    uint64_t ms;
    if (fl->retry_after > 0) {
        sluice_time_t ra = fl->retry_after < RETRY_AFTER_MAX ? fl->retry_after : RETRY_AFTER_MAX;
        ms = (uint64_t)((ra + SLUICE_NSEC_PER_MSEC - 1) / SLUICE_NSEC_PER_MSEC);
    } else {
        ms = backoff_ms(o->engine, o->settings, fl->attempt);
    }
    sluice_time_t now = sluice_time_now();
    if (now - o->warn_window >= RETRY_WARN_WINDOW) {
        sluice_warn(o->ins, "flush of %zu events failed (%s); retry %u in %llu ms%s%s", events,
                    why, fl->attempt, (unsigned long long)ms,
                    fl->retry_after > 0 ? " (Retry-After)" : "",
                    o->warn_suppressed ? "; more failures since the last line were not logged"
                                       : "");
        o->warn_window = now;
        o->warn_suppressed = 0;
    } else {
        o->warn_suppressed++;
    }
    fl->retry_after = 0;
    uv_timer_start(&fl->retry_timer, on_retry, ms, 0);
    return 0;
}

/* Dead-letter every event of `c` whose mark is `which`, or all of them when
 * `marks` is NULL. */
static void
dead_letter_events(output *o, const chunk *c, const unsigned char *marks, unsigned char which,
                   const struct sluice_flush *fl, const char *reason)
{
    sluice_event_iter it;
    sluice_event ev;
    size_t i = 0, f = 0;
    sluice_event_iter_init(&it, c->buf.data, c->buf.size);
    for (; sluice_event_next(&it, &ev) == 1; i++) {
        if (marks && marks[i] != which)
            continue;
        const char *why = reason;
        if (!why && fl) {
            while (f < fl->n_failed && fl->failed_events[f].index < i)
                f++;
            why = f < fl->n_failed && fl->failed_events[f].index == i
                      ? fl->failed_events[f].reason
                      : "failed";
        }
        dead_letter_write(&o->dead, &ev, why ? why : "failed");
        __atomic_fetch_add(&o->failed_events, 1, __ATOMIC_RELAXED);
    }
    sluice_event_iter_destroy(&it);
}

static int
compare_failed(const void *a, const void *b)
{
    const failed_event *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

enum { MARK_OK = 0, MARK_RETRY = 1, MARK_FAILED = 2 };

/* OK with per-event results: dead-letter the failed events, and put the
 * ones to retry into a chunk of their own, for this output only. */
static void
handle_partial(struct sluice_flush *fl)
{
    output *o = fl->o;
    chunk *c = fl->c;
    unsigned char *marks = xcalloc(c->count ? c->count : 1, 1);
    size_t n_retry = 0, n_failed = 0;
    for (size_t i = 0; i < fl->n_retry; i++)
        if (fl->retry_events[i] < c->count && marks[fl->retry_events[i]] == MARK_OK) {
            marks[fl->retry_events[i]] = MARK_RETRY;
            n_retry++;
        }
    if (fl->n_failed)
        qsort(fl->failed_events, fl->n_failed, sizeof *fl->failed_events, compare_failed);
    for (size_t i = 0; i < fl->n_failed; i++)
        if (fl->failed_events[i].index < c->count) {
            n_retry -= marks[fl->failed_events[i].index] == MARK_RETRY;
            n_failed += marks[fl->failed_events[i].index] != MARK_FAILED;
            marks[fl->failed_events[i].index] = MARK_FAILED;
        }
    if (n_failed)
        dead_letter_events(o, c, marks, MARK_FAILED, fl, NULL);

    if (n_retry) {
        chunk *sub = chunk_new(c->pipeline, c->kind, c->buf.size);
        sub->created = c->created;
        sluice_event_iter it;
        sluice_event ev;
        sluice_event_iter_init(&it, c->buf.data, c->buf.size);
        for (size_t i = 0; sluice_event_next(&it, &ev) == 1; i++)
            if (marks[i] == MARK_RETRY) {
                msgpack_sbuffer_write(&sub->buf, ev.raw, ev.raw_len);
                sub->count++;
            }
        sluice_event_iter_destroy(&it);
        struct sluice_flush *again = flush_new(o, sub);
        if (o->buf.fs)
            again->path = storage_write(&o->buf, sub, &again->file_bytes);
        if (fl->mark && !(again->path && o->settings->fsync != FSYNC_NEVER)) {
            again->mark = fl->mark;
            ack_mark_hold(fl->mark);
        }
        again->attempt = fl->attempt;
        again->retry_after = fl->retry_after;
        if (o->current == fl)
            o->current = again; /* its retry goes before the held ones */
        if (schedule_retry(again, sub->count, "some events were refused for now") < 0) {
            sluice_error(o->ins, "giving up on %u events after %u attempts", sub->count,
                         again->attempt);
            dead_letter_events(o, sub, NULL, 0, NULL, "gave up after max_attempts");
            o->failed_chunks++;
            free(marks);
            o->delivered_events += c->count - n_retry - n_failed;
            finish(again);
            return;
        }
    }
    free(marks);
    o->delivered_events += c->count - n_retry - n_failed;
}

/* A chunk that failed for good: said at once when the cause is new, else
 * at most once a minute with how many more failed the same way (a closed
 * stdout fails every chunk). */
static void
log_permanent(output *o, uint32_t events, const char *why)
{
    sluice_time_t now = sluice_time_now();
    int same = strcmp(o->last_permanent, why) == 0;
    if (same && now - o->permanent_window < 60 * SLUICE_NSEC_PER_SEC) {
        o->permanent_suppressed += events;
        return;
    }
    if (same && o->permanent_suppressed)
        sluice_error(o->ins, "%llu more events failed permanently in the last minute: %s",
                     (unsigned long long)(o->permanent_suppressed + events), why);
    else
        sluice_error(o->ins, "flush of %u events failed permanently: %s", events, why);
    snprintf(o->last_permanent, sizeof o->last_permanent, "%s", why);
    o->permanent_window = now;
    o->permanent_suppressed = 0;
}

static void handle_done(struct sluice_flush *fl);

void
output_handle_done(struct sluice_flush *fl)
{
    output *o = fl->o;
    fl->in_worker = 0;
    handle_done(fl);
    /* A retry (of the chunk or of some of its events) waits at the
     * successor, with the new settings. */
    if (o->successor && !o->closing)
        output_hand_over(o, o->successor);
}

static void
handle_done(struct sluice_flush *fl)
{
    output *o = fl->o;
    engine *e = o->engine;
    const char *why = fl->reason ? fl->reason : "no reason given";
    if (fl->result != SLUICE_OK)
        snprintf(o->last_error, sizeof o->last_error, "%s", why);
    sluice_debug(o->ins, "chunk of %u events: %s after %llu ms%s%s%s", fl->c->count,
                 fl->result == SLUICE_OK      ? "delivered"
                 : fl->result == SLUICE_RETRY ? "failed for now"
                                              : "failed for good",
                 (unsigned long long)(uv_now(&e->loop) - fl->sent_at),
                 fl->n_failed || fl->n_retry ? " (some events refused)" : "",
                 fl->result != SLUICE_OK ? ": " : "", fl->result != SLUICE_OK ? why : "");
    if (fl->result == SLUICE_OK) {
        if (fl->n_failed || fl->n_retry)
            handle_partial(fl);
        else
            o->delivered_events += fl->c->count;
        o->delivered_chunks++;
        o->delivered_bytes += fl->c->buf.size;
        o->last_ok = sluice_time_now();
        finish(fl);
        return;
    }
    if (fl->result == SLUICE_RETRY && e->state == ENGINE_DONE)
        return; /* shutting down: output_abandon counts it */
    if (fl->result == SLUICE_RETRY) {
        if (schedule_retry(fl, fl->c->count, why) == 0) {
            free(fl->reason);
            fl->reason = NULL;
            return;
        }
        sluice_error(o->ins, "giving up on a chunk of %u events after %u attempts: %s",
                     fl->c->count, fl->attempt, why);
        char *gave_up = xasprintf("gave up after %u attempts: %s", fl->attempt, why);
        dead_letter_events(o, fl->c, NULL, 0, NULL, gave_up);
        free(gave_up);
    } else {
        log_permanent(o, fl->c->count, why);
        dead_letter_events(o, fl->c, NULL, 0, NULL, why);
    }
    o->failed_chunks++;
    o->last_gave_up = sluice_time_now();
    finish(fl);
}

void
sluice_flush_done(sluice_flush *fl, int result, const char *reason)
{
    fl->result = result;
    fl->reason = reason ? xstrdup(reason) : NULL;
    engine_post_done(fl->o->engine, fl);
}

void
sluice_flush_event_failed(sluice_flush *fl, size_t index, const char *reason)
{
    if (fl->n_failed == fl->cap_failed) {
        fl->cap_failed = fl->cap_failed ? fl->cap_failed * 2 : 8;
        fl->failed_events = xrealloc(fl->failed_events, fl->cap_failed * sizeof *fl->failed_events);
    }
    fl->failed_events[fl->n_failed].index = (uint32_t)index;
    fl->failed_events[fl->n_failed].reason = xstrdup(reason ? reason : "failed");
    fl->n_failed++;
}

void
sluice_flush_event_retry(sluice_flush *fl, size_t index)
{
    if (fl->n_retry == fl->cap_retry) {
        fl->cap_retry = fl->cap_retry ? fl->cap_retry * 2 : 8;
        fl->retry_events = xrealloc(fl->retry_events, fl->cap_retry * sizeof *fl->retry_events);
    }
    fl->retry_events[fl->n_retry++] = (uint32_t)index;
}

void
sluice_flush_retry_after(sluice_flush *fl, sluice_time_t delay)
{
    if (delay > fl->retry_after)
        fl->retry_after = delay;
}

void *
sluice_flush_worker(sluice_flush *fl)
{
    return fl->w ? fl->w->ctx : NULL;
}

/* Stop trying `fl`: a chunk file stays for the next start (or the output's
 * return); a chunk in memory is lost, counted. Returns the events lost. */
static uint64_t
give_up(struct sluice_flush *fl)
{
    output *o = fl->o;
    uint64_t lost = 0;
    if (fl->path) {
        o->buf.left_on_disk += fl->c->count;
        fl->keep_file = 1;
    } else {
        lost = fl->c->count;
        __atomic_fetch_add(&o->failed_events, fl->c->count, __ATOMIC_RELAXED);
        o->failed_chunks++;
    }
    finish(fl);
    return lost;
}

uint64_t
output_abandon(output *o)
{
    uint64_t lost = 0;
    while (o->live) {
        struct sluice_flush *fl = o->live;
        fl->abandoned = 1;
        lost += give_up(fl);
    }
    buffer_abandon(&o->buf);
    if (o->buf.left_on_disk)
        sluice_info(o->ins, "%llu events stay in the filesystem buffer for the next start",
                    (unsigned long long)o->buf.left_on_disk);
    return lost;
}

void
output_pump(output *o)
{
    spill_entry *s;
    while (o->engine->state != ENGINE_DONE && !o->closing && (s = buffer_unspill(&o->buf))) {
        chunk *c = storage_read(&o->buf, s->path);
        if (c) {
            struct sluice_flush *fl = flush_new(o, c);
            fl->path = s->path;
            fl->file_bytes = s->bytes;
            fl->mark = s->mark;
            submit(fl);
        } else {
            if (s->mark)
                ack_mark_release(s->mark);
            /* Moved aside or empty: no longer ours. */
            buffer_disk(&o->buf, -(int64_t)s->bytes);
            free(s->path);
        }
        free(s);
    }
}

/* ==== Reloads ==== */

/* `fl` (not in a worker) becomes `to`'s, with its bytes, and is sent. */
static void
move_flush(struct sluice_flush *fl, output *to)
{
    output *from = fl->o;
    uv_timer_stop(&fl->retry_timer);
    live_unlink(fl);
    if (from->current == fl)
        from->current = NULL;
    buffer_release(&from->buf, fl->c->buf.size);
    buffer_hold(&to->buf, fl->c->buf.size);
    if (fl->path) {
        buffer_disk(&from->buf, -(int64_t)fl->file_bytes);
        buffer_disk(&to->buf, (int64_t)fl->file_bytes);
    }
    from->pending--;
    to->pending++;
    fl->o = to;
    fl->w = NULL;
    fl->live_next = to->live;
    if (to->live)
        to->live->live_prev = fl;
    to->live = fl;
    submit(fl);
}

void
output_hand_over(output *from, output *to)
{
    /* Oldest first: an ordered output's current chunk, then the held ones;
     * otherwise the live list, which is newest first. */
    if (from->current && !from->current->in_worker)
        move_flush(from->current, to);
    struct sluice_flush *held = from->held;
    from->held = from->held_tail = NULL;
    while (held) {
        struct sluice_flush *fl = held;
        held = fl->next;
        fl->next = NULL;
        move_flush(fl, to);
    }
    struct sluice_flush *last = from->live;
    while (last && last->live_next)
        last = last->live_next;
    while (last) {
        struct sluice_flush *fl = last;
        last = last->live_prev;
        if (!fl->in_worker && fl != from->current)
            move_flush(fl, to);
    }
    buffer_take_spill(&to->buf, &from->buf);
    output_pump(to);
    pipeline_update_backpressure(to->ins->pipeline);
}

void
output_retire(output *o, output *successor)
{
    o->retiring = 1;
    o->successor = successor;
    if (successor)
        output_hand_over(o, successor);
}

int
output_retired_empty(const output *o)
{
    return o->pending == 0 && o->buf.spilled == 0;
}

uint64_t
output_retire_close(output *o)
{
    o->closing = 1;
    uint64_t lost = 0;
    while (o->live) {
        struct sluice_flush *fl = o->live;
        fl->in_worker = 0;
        if (o->successor) {
            move_flush(fl, o->successor);
            continue;
        }
        /* Not abandoned: its events, kept on disk or lost and counted, must
         * not hold back the inputs' acknowledgements. */
        lost += give_up(fl);
    }
    if (o->successor)
        buffer_take_spill(&o->successor->buf, &o->buf);
    for (spill_entry *s = o->buf.spill_head; s; s = s->next)
        if (s->mark) {
            ack_mark_release(s->mark);
            s->mark = NULL;
        }
    buffer_abandon(&o->buf);
    return lost;
}

void
output_free(output *o)
{
    buffer_free(&o->buf);
    dead_letter_close(&o->dead);
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

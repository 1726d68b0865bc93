/* The emit path and the filter chain (see pipeline.h).
 *
 * Inputs write events straight into MessagePack buffers through an emitter:
 * with no filters, into the open chunk itself; with filters, into stage 0,
 * which runs through the chain when it grows past STAGE_FLUSH_BYTES or once
 * per loop iteration. A filter that returns NOTOUCH costs no copy when the
 * next stage is empty (the buffers are swapped). */
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "engine.h"
#include "output.h"
#include "pipeline.h"
#include "storage.h"
#include "xalloc.h"

#define STAGE_FLUSH_BYTES (64 * 1024)
/* Room past chunk_size, so the event that crosses the size rarely reallocs. */
#define CHUNK_SLACK (64 * 1024)

static void on_age(uv_timer_t *t);

static void
apply_service(pipeline *p)
{
    const struct engine *e = p->engine;
    p->chunk_size = (size_t)e->cfg->service.chunk_size;
    p->flush_interval_ms = (uint64_t)(e->cfg->service.flush_interval / SLUICE_NSEC_PER_MSEC);
    if (p->flush_interval_ms == 0)
        p->flush_interval_ms = 1;
}

void
pipeline_init(pipeline *p, struct engine *e)
{
    p->engine = e;
    apply_service(p);
    if (p->n_filters)
        p->stages = xcalloc(p->n_filters, sizeof *p->stages);
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
        uv_timer_init(&e->loop, &p->age_timer[k]);
        p->age_timer[k].data = p;
    }
}

sluice_instance *
pipeline_instance(const pipeline *p, size_t i)
{
    if (i < p->n_inputs)
        return p->inputs[i];
    i -= p->n_inputs;
    if (i < p->n_filters)
        return p->filters[i];
    i -= p->n_filters;
    return i < p->n_outputs ? p->outputs[i] : NULL;
}

void
pipeline_relayout(pipeline *p, size_t old_filters)
{
    for (size_t i = 0; i < old_filters; i++)
        for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
            msgpack_sbuffer_destroy(&p->stages[i][k].sb);
    free(p->stages);
    p->stages = p->n_filters ? xcalloc(p->n_filters, sizeof *p->stages) : NULL;
    for (size_t j = 0; j < p->n_filters; j++)
        p->filters[j]->emitter->stage = j + 1;
    p->has_fs = 0;
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
        free(p->takers[k]);
        free(p->taker_bufs[k]);
        p->n_takers[k] = 0;
        p->fs_takers[k] = 0;
    }
    apply_service(p);
    pipeline_set_takers(p);
}

/* ==== Chunks ==== */

void
pipeline_set_takers(pipeline *p)
{
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
        p->takers[k] = xcalloc(p->n_outputs ? p->n_outputs : 1, sizeof *p->takers[k]);
        p->taker_bufs[k] = xcalloc(p->n_outputs ? p->n_outputs : 1, sizeof *p->taker_bufs[k]);
        for (size_t i = 0; i < p->n_outputs; i++) {
            output *o = p->outputs[i]->output;
            if (!(o->ins->plugin->accepts & (1u << k)))
                continue;
            p->taker_bufs[k][p->n_takers[k]] = o->buf.fs ? &o->buf : NULL;
            p->fs_takers[k] += o->buf.fs;
            p->has_fs |= o->buf.fs;
            p->takers[k][p->n_takers[k]++] = o;
        }
    }
}

static chunk *
open_chunk(pipeline *p, sluice_event_kind kind)
{
    if (!p->open[kind]) {
        chunk *c = p->open[kind] = chunk_new(p, kind, p->chunk_size + CHUNK_SLACK);
        c->mark = ack_mark_new(p);
        c->takers = p->takers[kind];
        c->n_takers = p->n_takers[kind];
        if (p->fs_takers[kind])
            storage_chunk_open(c, p->taker_bufs[kind]);
        uv_timer_start(&p->age_timer[kind], on_age, p->flush_interval_ms, 0);
    }
    return p->open[kind];
}

static void
close_chunk(pipeline *p, sluice_event_kind kind)
{
    chunk *c = p->open[kind];
    if (!c)
        return;
    p->open[kind] = NULL;
    c->mark->open = 0;
    uv_timer_stop(&p->age_timer[kind]);
    if (c->count == 0) {
        storage_chunk_discard(c);
        ack_mark_release(c->mark);
        chunk_free(c);
        return;
    }
    if (c->files)
        storage_chunk_close(c);
    output_dispatch(p, c);
}

static void
on_age(uv_timer_t *t)
{
    pipeline *p = t->data;
    sluice_event_kind kind = (sluice_event_kind)(t - p->age_timer);
    pipeline_run_filters(p);
    close_chunk(p, kind);
}

static void
append_to_chunk(pipeline *p, sluice_event_kind kind, const char *data, size_t len, size_t count)
{
    chunk *c = open_chunk(p, kind);
    msgpack_sbuffer_write(&c->buf, data, len);
    c->count += (uint32_t)count;
    if (c->buf.size >= p->chunk_size)
        close_chunk(p, kind);
}

/* ==== Emitters ==== */

static void
bind_target(sluice_emitter *em, sluice_event_kind kind)
{
    pipeline *p = em->p;
    em->kind = kind;
    if (em->stage == p->n_filters) {
        chunk *c = open_chunk(p, kind);
        em->target = &c->buf;
        em->target_count = NULL;
    } else {
        batch *b = &p->stages[em->stage][kind];
        em->target = &b->sb;
        em->target_count = &b->count;
    }
}

msgpack_packer *
sluice_emit_begin(sluice_emitter *em, sluice_event_kind kind, sluice_time_t time)
{
    bind_target(em, kind);
    em->start = em->target->size;
    char head[11] = {(char)0x92, (char)0xd7, SLUICE_EVENT_TIME_EXT};
    sluice_time_encode(time, head + 3);
    msgpack_sbuffer_write(em->target, head, sizeof head);
    msgpack_packer_init(&em->pk, em->target, msgpack_sbuffer_write);
    return &em->pk;
}

static void
event_written(sluice_emitter *em)
{
    pipeline *p = em->p;
    if (em->owner && em->stage == 0) {
        em->owner->events_in++;
        em->owner->bytes_in += em->target->size - em->start;
    } else if (em->owner) {
        em->owner->events_out++; /* a filter's emitter: what it passes on */
    }
    if (em->target_count) {
        (*em->target_count)++;
        if (em->stage == 0 && em->target->size >= STAGE_FLUSH_BYTES && em->owner &&
            em->owner->plugin->kind == SLUICE_PLUGIN_INPUT)
            pipeline_run_filters(p);
    } else {
        chunk *c = p->open[em->kind];
        c->count++;
        if (c->buf.size >= p->chunk_size)
            close_chunk(p, em->kind);
    }
}

void
sluice_emit_end(sluice_emitter *em)
{
    event_written(em);
}

void
sluice_emit_token(sluice_emitter *em, uint64_t token)
{
    pipeline *p = em->p;
    /* Staged events must be in a chunk before the token can point at it. */
    if (em->stage == 0 && p->n_filters)
        pipeline_run_filters(p);
    ack_token_add(p, em->owner, token);
}

void
sluice_emit_raw(sluice_emitter *em, sluice_event_kind kind, const char *raw, size_t len)
{
    bind_target(em, kind);
    em->start = em->target->size;
    msgpack_sbuffer_write(em->target, raw, len);
    event_written(em);
}

void
sluice_emit_batch(sluice_emitter *em, sluice_event_kind kind, const char *data, size_t len,
                  size_t count)
{
    if (count == 0)
        return;
    pipeline *p = em->p;
    /* A batch is not split: it starts a chunk of its own rather than
     * overfill the open one. */
    if (em->stage == p->n_filters && p->open[kind] && p->open[kind]->count &&
        p->open[kind]->buf.size + len > p->chunk_size)
        close_chunk(p, kind);
    bind_target(em, kind);
    msgpack_sbuffer_write(em->target, data, len);
    if (em->owner && em->stage == 0) {
        em->owner->events_in += count;
        em->owner->bytes_in += len;
    } else if (em->owner) {
        em->owner->events_out += count;
    }
    if (em->target_count) {
        *em->target_count += count;
        if (em->stage == 0 && em->target->size >= STAGE_FLUSH_BYTES && em->owner &&
            em->owner->plugin->kind == SLUICE_PLUGIN_INPUT)
            pipeline_run_filters(p);
    } else {
        chunk *c = p->open[kind];
        c->count += (uint32_t)count;
        if (c->buf.size >= p->chunk_size)
            close_chunk(p, kind);
    }
}

/* ==== The filter chain ==== */

/* Move a batch to the next stage: a swap when that stage is empty. */
static void
pass_on(pipeline *p, size_t stage, sluice_event_kind kind)
{
    batch *in = &p->stages[stage][kind];
    if (stage + 1 == p->n_filters) {
        append_to_chunk(p, kind, in->sb.data, in->sb.size, in->count);
    } else {
        batch *next = &p->stages[stage + 1][kind];
        if (next->count == 0) {
            batch tmp = *next;
            *next = *in;
            *in = tmp;
        } else {
            msgpack_sbuffer_write(&next->sb, in->sb.data, in->sb.size);
            next->count += in->count;
        }
    }
    in->sb.size = 0;
    in->count = 0;
}

void
pipeline_run_filters(pipeline *p)
{
    for (size_t i = 0; i < p->n_filters; i++) {
        sluice_instance *f = p->filters[i];
        for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
            batch *in = &p->stages[i][k];
            if (in->count == 0)
                continue;
            if (f->plugin->accepts & (1u << k)) {
                sluice_events evs = {(sluice_event_kind)k, in->sb.data, in->sb.size, in->count};
                f->events_in += in->count;
                int r = f->plugin->filter(f->ctx, &evs, f->emitter);
                if (r == SLUICE_FILTER_MODIFIED) {
                    in->sb.size = 0;
                    in->count = 0;
                    continue;
                }
                if (r < 0 && f->filter_errors++ % 10000 == 0)
                    sluice_warn(f, "filter failed on a batch of %zu events; passing them on "
                                   "unchanged (%llu failures so far)",
                                evs.count, (unsigned long long)f->filter_errors);
            }
            f->events_out += in->count;
            pass_on(p, i, (sluice_event_kind)k);
        }
    }
}

void
pipeline_flush(pipeline *p)
{
    pipeline_run_filters(p);
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
        close_chunk(p, (sluice_event_kind)k);
}

/* ==== Backpressure ==== */

void
pipeline_update_backpressure(pipeline *p)
{
    int over = 0, under_low = 1;
    for (size_t i = 0; i < p->n_outputs; i++) {
        buffer_level level = buffer_level_of(&p->outputs[i]->output->buf);
        over |= level == BUFFER_FULL;
        under_low &= level == BUFFER_LOW;
    }
    if (!p->paused && over) {
        p->paused = 1;
        p->pauses++;
        for (size_t i = 0; i < p->n_inputs; i++) {
            sluice_instance *in = p->inputs[i];
            if (in->started && !in->paused && (in->plugin->pause || in->collectors)) {
                in->paused = 1;
                if (in->plugin->pause)
                    in->plugin->pause(in->ctx);
                collectors_pause(in);
            }
        }
        sluice_debug(NULL, "pipeline %s: outputs full, inputs paused", p->name);
    } else if (p->paused && under_low && p->engine->state == ENGINE_RUNNING) {
        p->paused = 0;
        for (size_t i = 0; i < p->n_inputs; i++) {
            sluice_instance *in = p->inputs[i];
            if (in->paused) {
                in->paused = 0;
                if (in->plugin->resume)
                    in->plugin->resume(in->ctx);
                collectors_resume(in);
            }
        }
        sluice_debug(NULL, "pipeline %s: outputs drained, inputs resumed", p->name);
    }
}

void
pipeline_sync_storage(pipeline *p, int fsync_now)
{
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
        chunk *c = p->open[k];
        if (!c || !c->files)
            continue;
        storage_chunk_sync(c);
        if (fsync_now)
            storage_chunk_fsync(c);
    }
}

void
pipeline_input_done(pipeline *p, sluice_instance *in)
{
    (void)in;
    p->inputs_done++;
    engine_check_inputs_done(p->engine);
}

void
pipeline_close_handles(pipeline *p)
{
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
        uv_close((uv_handle_t *)&p->age_timer[k], NULL);
}

void
pipeline_free(pipeline *p)
{
    for (size_t i = 0; i < p->n_filters; i++)
        for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
            msgpack_sbuffer_destroy(&p->stages[i][k].sb);
    free(p->stages);
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++) {
        chunk_free(p->open[k]);
        free(p->takers[k]);
        free(p->taker_bufs[k]);
    }
    ack_free(p);
}

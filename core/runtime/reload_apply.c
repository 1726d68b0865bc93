/* Applying a staged reload: close the open chunks, stop what goes, lay
 * the pipelines out anew, hand a changed output's chunks to its
 * successor, start what is new; and the outputs that go, finishing their
 * chunks within the grace period. */
#include <string.h>

#include "collector.h"
#include "reload_impl.h"

/* An input whose events are all acknowledged (or lost) can go. */
static int
tokens_pending(const sluice_instance *ins)
{
    for (const ack_token *t = ins->pipeline->tokens_head; t; t = t->next)
        if (t->ins == ins)
            return 1;
    return 0;
}

/* Stopped inputs and filters go once nothing can call them any more: their
 * handles closed (a loop turn after stop), no hold, no token waiting. */
static void
reap_instances(reload_state *rs)
{
    size_t k = 0;
    for (size_t i = 0; i < rs->n_retired; i++) {
        sluice_instance *ins = rs->retired[i];
        if (ins->holds > 0 || tokens_pending(ins)) {
            rs->retired[k++] = ins;
            continue;
        }
        engine_drop_routes(rs->e, ins);
        engine_exit_instance(ins);
    }
    rs->n_retired = k;
}

static void
on_reap(uv_timer_t *t)
{
    reload_state *rs = t->data;
    engine *e = rs->e;
    if (e->state != ENGINE_RUNNING)
        return; /* the shutdown deals with them */
    reap_instances(rs);
    sluice_time_t now = sluice_time_now();
    size_t k = 0;
    for (size_t i = 0; i < rs->n_draining; i++) {
        output *o = rs->draining[i];
        int over = now >= rs->draining_until[i];
        if (!output_retired_empty(o) && !over) {
            rs->draining_until[k] = rs->draining_until[i];
            rs->draining[k++] = o;
            continue;
        }
        output_stop_workers(o);
        engine_drain_done(e);
        uint64_t lost = output_retire_close(o);
        if (o->buf.left_on_disk || lost)
            sluice_warn(o->ins, "removed by a reload, and not done within the grace period: "
                                "%llu events stay in its filesystem buffer (sent if it comes "
                                "back), %llu events in memory are lost",
                        (unsigned long long)o->buf.left_on_disk, (unsigned long long)lost);
        else
            sluice_info(o->ins, "%s: delivered %llu events in all; stopped",
                        o->successor ? "replaced by a reload" : "removed by a reload",
                        (unsigned long long)o->delivered_events);
        e->undelivered += lost;
        engine_exit_instance(o->ins);
    }
    rs->n_draining = k;
    if (!k && !rs->n_retired)
        uv_timer_stop(&rs->reap);
}

static void
reap_soon(reload_state *rs)
{
    if (!uv_is_active((uv_handle_t *)&rs->reap))
        uv_timer_start(&rs->reap, on_reap, REAP_MS, REAP_MS);
}

/* What a retiring instance borrows from the configuration in force
 * becomes its own, so that the configuration can be freed now. */
static void
take_ownership(sluice_instance *ins)
{
    instance_config *ic = ins->source;
    retired_own *own = xcalloc(1, sizeof *own);
    own->plugin = ic->plugin->desc;
    own->config = ic->config;
    own->id = ic->id;
    own->where = ic->where;
    own->out = ic->out;
    ic->config = NULL;
    ic->id = ic->where = NULL;
    memset(&ic->out, 0, sizeof ic->out);
    ins->own = own;
    /* A worker may read it at the same time: the same plugin either way. */
    __atomic_store_n(&ins->plugin, &own->plugin, __ATOMIC_RELEASE);
    ins->id = own->id;
    ins->where = own->where;
    ins->node = NULL;
    ins->source = NULL;
    ins->cfg = NULL;
    if (ins->output) {
        ins->output->settings = &own->out;
        ins->output->buf.settings = &own->out;
    }
}

size_t
reload_draining(engine *e, output ***v)
{
    reload_state *rs = e->reload;
    *v = rs ? rs->draining : NULL;
    return rs ? rs->n_draining : 0;
}

#define SWAP(a, b)                                                                                 \
    do {                                                                                           \
        __typeof__(a) swap_tmp_ = (a);                                                             \
        (a) = (b);                                                                                 \
        (b) = swap_tmp_;                                                                           \
    } while (0)

/* A kept instance borrows from the new configuration from now on. */
static void
adopt(sluice_instance *ins, instance_config *ic, sluice_config *nc, int reconfigured)
{
    instance_config *old = ins->source;
    if (!reconfigured)
        SWAP(old->config, ic->config);
    SWAP(old->id, ic->id);
    SWAP(old->where, ic->where);
    SWAP(old->out, ic->out);
    ins->source = ic;
    ins->config = ic->config;
    ins->id = ic->id;
    ins->where = ic->where;
    ins->node = ic->node;
    ins->cfg = nc;
    ins->plugin = &ic->plugin->desc;
    ins->fingerprint = cfg_node_hash(ic->node);
    if (ins->output) {
        ins->output->settings = &ic->out;
        ins->output->buf.settings = &ic->out;
    }
}

static void
flush_all(engine *e)
{
    /* Twice: a filter's last events may be routed into a pipeline flushed
     * before it. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < e->n_pipelines; i++)
            pipeline_flush(e->pipelines[i]);
}

static void
retire_output(reload_state *rs, output *o, output *successor)
{
    engine *e = rs->e;
    output_retire(o, successor);
    PUSH(rs->draining, rs->n_draining, o);
    rs->draining_until = xrealloc(rs->draining_until, rs->n_draining * sizeof *rs->draining_until);
    rs->draining_until[rs->n_draining - 1] = sluice_time_now() + e->cfg->service.grace;
    reap_soon(rs);
}

static output *
successor_of(const staging *st, const sluice_instance *old)
{
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].old == old && st->si[i].how == PLAN_NEW)
            return st->si[i].ins->output;
    return NULL;
}

static void
name_in(sluice_buf *b, const sluice_instance *ins)
{
    sluice_buf_printf(b, "%s%s", b->len ? ", " : "", ins->id);
}

static void
retire_instances(reload_state *rs, pipeline *p, tally *t)
{
    sluice_instance **v[2] = {p->inputs, p->filters};
    size_t n[2] = {p->n_inputs, p->n_filters};
    for (int l = 0; l < 2; l++)
        for (size_t j = 0; j < n[l]; j++)
            if (!v[l][j]->staged) {
                engine_stop_instance(v[l][j]);
                take_ownership(v[l][j]);
                PUSH(rs->retired, rs->n_retired, v[l][j]);
                reap_soon(rs);
            }
    (void)t;
}

void
reload_apply(reload_state *rs, sluice_config *nc, staging *st, tally *t)
{
    engine *e = rs->e;
    sluice_config *old_cfg = e->cfg;

    /* Everything emitted so far goes to the takers it was meant for. */
    flush_all(e);
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].how == PLAN_RECONFIGURE)
            st->si[i].ins->plugin->reconfigure(st->si[i].ins->ctx, st->si[i].ic->config, 1);
    for (size_t i = 0; i < e->n_pipelines; i++)
        retire_instances(rs, e->pipelines[i], t);
    flush_all(e);

    /* Counted before the lists change. */
    sluice_instance *ins;
    for (size_t i = 0; i < e->n_pipelines; i++)
        for (size_t k = 0; (ins = pipeline_instance(e->pipelines[i], k)); k++)
            if (!ins->staged && !successor_of(st, ins)) {
                t->removed++;
                name_in(&t->names[3], ins);
            }
    for (size_t i = 0; i < st->n_si; i++) {
        staged_instance *s = &st->si[i];
        if (s->how == PLAN_KEEP)
            t->kept++;
        else if (s->how == PLAN_RECONFIGURE)
            t->reconfigured++, name_in(&t->names[0], s->ins);
        else if (s->old)
            t->replaced++, name_in(&t->names[1], s->ins);
        else
            t->added++, name_in(&t->names[2], s->ins);
        if (s->how != PLAN_NEW)
            adopt(s->ins, s->ic, nc, s->how == PLAN_RECONFIGURE);
    }

    /* Outputs that go: replaced ones once their successor runs. */
    output **gone = NULL;
    size_t n_gone = 0;
    for (size_t i = 0; i < e->n_outputs; i++)
        if (!e->outputs[i]->ins->staged)
            PUSH(gone, n_gone, e->outputs[i]);

    /* Pipelines no longer configured stay until exit: chunks point at them. */
    for (size_t i = 0; i < e->n_pipelines; i++) {
        int kept = 0;
        for (size_t k = 0; k < st->n_sp && !kept; k++)
            kept = st->sp[k].p == e->pipelines[i];
        if (!kept) {
            /* What a stopped instance might still emit into it is counted
             * as having no output: its outputs are going. */
            pipeline *p = e->pipelines[i];
            p->n_outputs = 0;
            pipeline_relayout(p, p->n_filters);
            for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
                uv_timer_stop(&p->age_timer[k]);
            p->own_name = xstrdup(p->name);
            p->name = p->own_name;
            PUSH(rs->old_pipelines, rs->n_old_pipelines, p);
        }
    }

    /* The new layout. */
    size_t n_out = 0;
    for (size_t i = 0; i < st->n_sp; i++)
        n_out += st->sp[i].counts[2];
    free(e->pipelines);
    free(e->outputs);
    e->pipelines = xcalloc(st->n_sp + 1, sizeof *e->pipelines);
    e->outputs = xcalloc(n_out + 1, sizeof *e->outputs);
    e->n_pipelines = st->n_sp;
    e->n_outputs = 0;
    e->cfg = nc;
    for (size_t i = 0; i < st->n_sp; i++) {
        staged_pipeline *sp = &st->sp[i];
        pipeline *p = sp->p;
        size_t old_filters = p->n_filters;
        if (!sp->is_new) {
            free(p->inputs);
            free(p->filters);
            free(p->outputs);
        }
        p->inputs = sp->lists[0];
        p->filters = sp->lists[1];
        p->outputs = sp->lists[2];
        p->n_inputs = sp->counts[0];
        p->n_filters = sp->counts[1];
        p->n_outputs = sp->counts[2];
        p->name = sp->pc->name;
        if (sp->is_new) {
            pipeline_init(p, e);
            pipeline_set_takers(p);
        } else {
            pipeline_relayout(p, old_filters);
        }
        engine_choose_memory(p);
        engine_pipeline_done_building(p);
        e->pipelines[i] = p;
        for (size_t j = 0; j < p->n_outputs; j++)
            e->outputs[e->n_outputs++] = p->outputs[j]->output;
    }

    /* A stopped filter that emits all the same goes straight to a chunk. */
    for (size_t i = 0; i < rs->n_retired; i++) {
        sluice_emitter *em = rs->retired[i]->emitter;
        if (em && em->stage)
            em->stage = em->p->n_filters;
    }

    /* Start what is new: outputs (taking over their predecessors' chunks),
     * then filters, then inputs. */
    for (size_t i = 0; i < st->n_si; i++) {
        staged_instance *s = &st->si[i];
        if (s->how != PLAN_NEW || !s->ins->output)
            continue;
        output *o = s->ins->output;
        if (output_start_workers(o) < 0 ||
            engine_start_output_storage(e, o, s->old == NULL) < 0)
            t->failed_start++;
    }
    for (size_t i = 0; i < n_gone; i++) {
        take_ownership(gone[i]->ins);
        retire_output(rs, gone[i], successor_of(st, gone[i]->ins));
    }
    free(gone);
    for (int kind = SLUICE_PLUGIN_FILTER; kind >= SLUICE_PLUGIN_INPUT; kind--)
        for (size_t i = 0; i < st->n_si; i++) {
            staged_instance *s = &st->si[i];
            if (s->how == PLAN_NEW && (int)s->ins->plugin->kind == kind)
                t->failed_start += (unsigned)engine_start_instance(s->ins);
        }

    /* Backpressure as the new outputs say: resume, then pause if full. */
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        for (size_t j = 0; j < p->n_inputs; j++) {
            sluice_instance *in = p->inputs[j];
            if (in->paused) {
                in->paused = 0;
                if (in->plugin->resume)
                    in->plugin->resume(in->ctx);
                collectors_resume(in);
            }
        }
        p->paused = 0;
        pipeline_update_backpressure(p);
    }

    /* Nothing borrows from the old configuration any more. */
    if (rs->owned_cfg == old_cfg) {
        config_free_keep_plugins(old_cfg);
        free(old_cfg);
    }
    rs->owned_cfg = nc;
}

/* Reloading the configuration while running (see reload.h).
 *
 * A reload has two halves. Staging changes nothing that runs: the new file
 * is loaded and checked; each instance of it is matched with the running
 * one of the same pipeline, list and id, and is kept when its settings
 * hash the same, reconfigured in place when its plugin can take the new
 * settings (a listener keeps its socket), and otherwise made and
 * initialised anew. Any error, and the new instances are freed and the
 * running configuration stays, with the errors in GET /api/v1/reload.
 *
 * Applying cannot fail. Open chunks are closed, so that every event so far
 * is in a chunk of the old takers; inputs and filters that go are stopped
 * (they keep their state until exit, since acknowledgements may still
 * come for them), and the filters' last events flushed. The pipelines then
 * get their new lists, stages and takers. An output that changed hands
 * its chunks (memory and filesystem) to its successor; one that was
 * removed finishes its chunks within `grace`, after which they stay on
 * disk or are counted lost. Then the new outputs, filters and inputs
 * start. A listener that is replaced closes before the new one binds.
 *
 * Kept instances borrow their settings from the new configuration: the
 * plugin's struct, id and place are swapped between the old and the new
 * configuration (their contents are equal), so that the old one can be
 * freed unless something it built is still around. Shared objects are
 * never unloaded while sluice runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector.h"
#include "sluice/json.h"
#include "sluice/timefmt.h"
#include "engine_build.h"
#include "reload.h"
#include "xalloc.h"

/* How often retiring outputs are looked at (ms). */
#define REAP_MS 100
/* Changes to the watched files within this long make one reload (ms). */
#define WATCH_SETTLE_MS 300

typedef enum plan { PLAN_NEW, PLAN_KEEP, PLAN_RECONFIGURE } plan;

typedef struct staged_instance {
    sluice_instance *ins;
    sluice_instance *old; /* the running one it replaces or is, or NULL */
    instance_config *ic;
    plan how;
} staged_instance;

typedef struct staged_pipeline {
    pipeline *p; /* running with this name, or new */
    int is_new;
    pipeline_config *pc;
    sluice_instance **lists[3];
    size_t counts[3];
} staged_pipeline;

typedef struct watched_dir {
    uv_fs_event_t h;
    char *dir;
    struct reload_state *rs;
} watched_dir;

typedef struct reload_state {
    engine *e;
    reload_adjust_fn adjust;
    void *adjust_arg;
    int watch;
    int started;
    uv_timer_t kick, reap, settle;
    int requested, running;
    char trigger[64];

    /* The last result, for GET /api/v1/reload. */
    uint64_t reloads, failures;
    int have_result, last_ok;
    sluice_time_t last_time;
    char last_trigger[64];
    char **errors;
    size_t n_errors;
    char summary[160];
    uint64_t config_hash;

    /* Left behind. */
    sluice_instance **retired;
    size_t n_retired;
    output **draining;
    sluice_time_t *draining_until;
    size_t n_draining;
    pipeline **old_pipelines;
    size_t n_old_pipelines;
    sluice_config **cfgs; /* loaded by reloads, the one in force included */
    size_t n_cfgs;
    watched_dir **watches;
    size_t n_watches;
} reload_state;

#define PUSH(v, n, x)                                                                              \
    do {                                                                                           \
        (v) = xrealloc((v), ((n) + 1) * sizeof *(v));                                              \
        (v)[(n)++] = (x);                                                                          \
    } while (0)

static reload_state *
state(engine *e)
{
    if (!e->reload) {
        e->reload = xcalloc(1, sizeof *e->reload);
        e->reload->e = e;
    }
    return e->reload;
}

void
reload_setup(engine *e, reload_adjust_fn adjust, void *arg, int watch)
{
    reload_state *rs = state(e);
    rs->adjust = adjust;
    rs->adjust_arg = arg;
    rs->watch = watch;
}

/* ==== Staging ==== */

static sluice_instance *
find_running(engine *e, const char *pipeline_name, int list, const char *id)
{
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        if (strcmp(p->name, pipeline_name) != 0)
            continue;
        sluice_instance **v[3] = {p->inputs, p->filters, p->outputs};
        size_t n[3] = {p->n_inputs, p->n_filters, p->n_outputs};
        for (size_t j = 0; j < n[list]; j++)
            if (strcmp(v[list][j]->id, id) == 0)
                return v[list][j];
    }
    return NULL;
}

static int
is_staged(engine *e, const sluice_instance *ins)
{
    (void)e;
    return ins->staged;
}

/* Settings the running process cannot take without a restart. */
static void
check_service(engine *e, const sluice_config *nc, cfg_errors *errs)
{
    const service_config *a = &e->cfg->service, *b = &nc->service;
    const char *what = NULL, *key = NULL;
    if (strcmp(a->storage_path, b->storage_path) != 0)
        what = "the storage path", key = "service.storage.path";
    else if (a->http_enabled != b->http_enabled ||
             (a->http_enabled && strcmp(a->http_listen, b->http_listen) != 0))
        what = "the self-monitoring address", key = "service.http";
    if (!what && a->plugins_path.n != b->plugins_path.n)
        what = "the plugin directories", key = "service.plugins_path";
    for (size_t i = 0; !what && i < a->plugins_path.n; i++)
        if (strcmp(a->plugins_path.v[i], b->plugins_path.v[i]) != 0)
            what = "the plugin directories", key = "service.plugins_path";
    if (!what)
        return;
    const cfg_node *at = cfg_node_at(nc->root, key);
    cfg_error_node(errs, at ? at : nc->root,
                   "%s: %s cannot change while sluice runs; restart sluice to apply it", key,
                   what);
}

typedef struct staging {
    staged_pipeline *sp;
    size_t n_sp;
    staged_instance *si;
    size_t n_si;
} staging;

static int
same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* An output's plugin may take new settings in place only when the core's
 * part of it (workers, buffer, retries) stays as it is. */
static int
same_output_settings(const output_settings *a, const output_settings *b)
{
    return a->workers == b->workers && a->buffer_type == b->buffer_type &&
           a->max_memory == b->max_memory && a->max_disk == b->max_disk &&
           a->when_full == b->when_full && a->fsync == b->fsync &&
           a->max_attempts == b->max_attempts && a->initial_backoff == b->initial_backoff &&
           a->max_backoff == b->max_backoff && same_str(a->dead_letter_path, b->dead_letter_path);
}

/* A filter routing into another pipeline is kept only if the new
 * configuration still has that pipeline (else its init says so). */
static int
routes_resolve(engine *e, const sluice_instance *ins, const sluice_config *nc)
{
    for (size_t i = 0; i < e->n_extra_emitters; i++) {
        const sluice_emitter *em = e->extra_emitters[i];
        if (em->routed_by != ins)
            continue;
        int found = 0;
        for (size_t k = 0; k < nc->n_pipelines && !found; k++)
            found = strcmp(nc->pipelines[k].name, em->p->name) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

static void
stage_instance(engine *e, staging *st, staged_pipeline *sp, int list, size_t j,
               const sluice_config *nc)
{
    instance_config *ic = &(list == 0   ? sp->pc->inputs
                            : list == 1 ? sp->pc->filters
                                        : sp->pc->outputs)[j];
    sluice_instance *old = sp->is_new ? NULL : find_running(e, sp->pc->name, list, ic->id);
    int same_plugin = old && strcmp(old->plugin->name, ic->plugin->desc.name) == 0 &&
                      (!old->routes || routes_resolve(e, old, nc));
    staged_instance s = {NULL, old, ic, PLAN_NEW};
    if (same_plugin && !old->staged && !ic->rejected &&
        old->fingerprint == cfg_node_hash(ic->node)) {
        s.how = PLAN_KEEP;
        s.ins = old;
    } else if (same_plugin && !old->staged && !ic->rejected &&
               (list != 2 || same_output_settings(&old->source->out, &ic->out)) &&
               old->plugin->reconfigure && old->inited &&
               old->plugin->reconfigure(old->ctx, ic->config, 0) == SLUICE_OK) {
        s.how = PLAN_RECONFIGURE;
        s.ins = old;
    } else {
        s.ins = engine_instance_new(e, sp->p, ic);
        engine_wire_instance(e, s.ins, ic, j);
    }
    s.ins->staged = 1;
    sp->lists[list][j] = s.ins;
    PUSH(st->si, st->n_si, s);
}

/* Forget the emitters into other pipelines of an instance being freed. */
static void
drop_routes(engine *e, const sluice_instance *ins)
{
    size_t k = 0;
    for (size_t i = 0; i < e->n_extra_emitters; i++) {
        if (e->extra_emitters[i]->routed_by == ins)
            free(e->extra_emitters[i]);
        else
            e->extra_emitters[k++] = e->extra_emitters[i];
    }
    e->n_extra_emitters = k;
}

static void
staging_free(engine *e, staging *st, int failed)
{
    for (size_t i = 0; i < st->n_si; i++) {
        staged_instance *s = &st->si[i];
        s->ins->staged = 0;
        if (failed && s->how == PLAN_NEW) {
            drop_routes(e, s->ins);
            engine_exit_instance(s->ins);
        }
    }
    /* Applied: the pipelines own the lists now. */
    for (size_t i = 0; failed && i < st->n_sp; i++) {
        for (int l = 0; l < 3; l++)
            free(st->sp[i].lists[l]);
        if (st->sp[i].is_new)
            free(st->sp[i].p);
    }
    free(st->sp);
    free(st->si);
}

/* Build and check everything of `nc` next to what runs; 0 when it can be
 * applied. Instances created here have their errors added to `errs`. */
static int
stage(engine *e, sluice_config *nc, staging *st, cfg_errors *errs)
{
    st->n_sp = nc->n_pipelines;
    st->sp = xcalloc(st->n_sp + 1, sizeof *st->sp);
    pipeline **objects = xcalloc(st->n_sp + 1, sizeof *objects);
    for (size_t i = 0; i < st->n_sp; i++) {
        staged_pipeline *sp = &st->sp[i];
        sp->pc = &nc->pipelines[i];
        for (size_t k = 0; k < e->n_pipelines && !sp->p; k++)
            if (strcmp(e->pipelines[k]->name, sp->pc->name) == 0)
                sp->p = e->pipelines[k];
        if (!sp->p) {
            sp->p = xcalloc(1, sizeof *sp->p);
            sp->p->engine = e;
            sp->p->name = sp->pc->name;
            sp->is_new = 1;
        }
        size_t n[3] = {sp->pc->n_inputs, sp->pc->n_filters, sp->pc->n_outputs};
        for (int l = 0; l < 3; l++) {
            sp->counts[l] = n[l];
            sp->lists[l] = xcalloc(n[l] + 1, sizeof *sp->lists[l]);
        }
        objects[i] = sp->p;
    }
    for (size_t i = 0; i < st->n_sp; i++)
        for (int l = 0; l < 3; l++)
            for (size_t j = 0; j < st->sp[i].counts[l]; j++)
                stage_instance(e, st, &st->sp[i], l, j, nc);

    /* New instances initialise as if the new configuration ran: routes
     * between pipelines find the staged ones by their new names. */
    sluice_config *cfg = e->cfg;
    pipeline **pipelines = e->pipelines;
    size_t n_pipelines = e->n_pipelines;
    cfg_errors *saved_errs = e->errs;
    e->cfg = nc;
    e->pipelines = objects;
    e->n_pipelines = st->n_sp;
    e->errs = errs;
    int failed = 0;
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].how == PLAN_NEW) {
            st->si[i].ins->errs = errs;
            st->si[i].ins->cfg = nc;
            failed |= engine_init_instance(st->si[i].ins);
        }
    for (size_t i = 0; i < st->n_sp; i++)
        failed |= engine_check_paths(e, st->sp[i].pc);
    for (size_t i = 0; i < st->n_sp; i++) {
        staged_pipeline *sp = &st->sp[i];
        pipeline layout = {.name = sp->pc->name,
                           .inputs = sp->lists[0],
                           .filters = sp->lists[1],
                           .outputs = sp->lists[2],
                           .n_inputs = sp->counts[0],
                           .n_filters = sp->counts[1],
                           .n_outputs = sp->counts[2]};
        failed |= engine_check_kinds(e, &layout, sp->p, is_staged);
    }
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].how == PLAN_NEW)
            st->si[i].ins->errs = NULL;
    e->cfg = cfg;
    e->pipelines = pipelines;
    e->n_pipelines = n_pipelines;
    e->errs = saved_errs;
    free(objects);
    return failed || errs->n ? -1 : 0;
}

/* ==== Applying ==== */

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

static void on_reap(uv_timer_t *t);

static void
retire_output(reload_state *rs, output *o, output *successor)
{
    engine *e = rs->e;
    output_retire(o, successor);
    PUSH(rs->draining, rs->n_draining, o);
    rs->draining_until = xrealloc(rs->draining_until, rs->n_draining * sizeof *rs->draining_until);
    rs->draining_until[rs->n_draining - 1] = sluice_time_now() + e->cfg->service.grace;
    if (!uv_is_active((uv_handle_t *)&rs->reap))
        uv_timer_start(&rs->reap, on_reap, REAP_MS, REAP_MS);
}

static output *
successor_of(const staging *st, const sluice_instance *old)
{
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].old == old && st->si[i].how == PLAN_NEW)
            return st->si[i].ins->output;
    return NULL;
}

/* What a reload did, counted and named. */
typedef struct tally {
    unsigned kept, reconfigured, added, replaced, removed, failed_start;
    sluice_buf names[4]; /* reconfigured, replaced, added, removed */
} tally;

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
                PUSH(rs->retired, rs->n_retired, v[l][j]);
            }
    (void)t;
}

static void
apply(reload_state *rs, sluice_config *nc, staging *st, tally *t)
{
    engine *e = rs->e;
    sluice_config *old_cfg = e->cfg;
    size_t retired_before = rs->n_retired + rs->n_draining + rs->n_old_pipelines;

    /* Everything emitted so far goes to the takers it was meant for. */
    flush_all(e);
    for (size_t i = 0; i < st->n_si; i++)
        if (st->si[i].how == PLAN_RECONFIGURE)
            st->si[i].ins->plugin->reconfigure(st->si[i].ins->ctx, st->si[i].ic->config, 1);
    for (size_t i = 0; i < e->n_pipelines; i++)
        retire_instances(rs, e->pipelines[i], t);
    flush_all(e);

    /* Counted before the lists change. */
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        sluice_instance **v[3] = {p->inputs, p->filters, p->outputs};
        size_t n[3] = {p->n_inputs, p->n_filters, p->n_outputs};
        for (int l = 0; l < 3; l++)
            for (size_t j = 0; j < n[l]; j++)
                if (!v[l][j]->staged && !successor_of(st, v[l][j])) {
                    t->removed++;
                    name_in(&t->names[3], v[l][j]);
                }
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
    for (size_t i = 0; i < n_gone; i++)
        retire_output(rs, gone[i], successor_of(st, gone[i]->ins));
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

    /* The old configuration goes unless something it owns is still here. */
    if (rs->n_retired + rs->n_draining + rs->n_old_pipelines == retired_before) {
        for (size_t i = 0; i < rs->n_cfgs; i++)
            if (rs->cfgs[i] == old_cfg) {
                config_free_keep_plugins(old_cfg);
                free(old_cfg);
                rs->cfgs[i] = rs->cfgs[--rs->n_cfgs];
                break;
            }
    }
    PUSH(rs->cfgs, rs->n_cfgs, nc);
}

/* ==== Results ==== */

static void
clear_errors(reload_state *rs)
{
    for (size_t i = 0; i < rs->n_errors; i++)
        free(rs->errors[i]);
    free(rs->errors);
    rs->errors = NULL;
    rs->n_errors = 0;
}

static void
record(reload_state *rs, const char *trigger, int ok, const cfg_errors *errs)
{
    rs->reloads++;
    rs->failures += !ok;
    rs->have_result = 1;
    rs->last_ok = ok;
    rs->last_time = sluice_time_now();
    snprintf(rs->last_trigger, sizeof rs->last_trigger, "%s", trigger);
    clear_errors(rs);
    for (size_t i = 0; errs && i < errs->n; i++)
        PUSH(rs->errors, rs->n_errors, cfg_error_str(&errs->v[i]));
}

int
reload_now(engine *e, const char *trigger)
{
    reload_state *rs = state(e);
    if (e->state != ENGINE_RUNNING) {
        sluice_warn(NULL, "%s: shutting down; not reloading", trigger);
        return -1;
    }
    rs->running = 1;
    sluice_info(NULL, "%s: reloading %s", trigger, e->cfg->path);
    cfg_errors errs = {0};
    sluice_config *nc = xcalloc(1, sizeof *nc);
    staging st = {0};
    int rc = config_load(nc, e->cfg->path, NULL, &errs);
    if (rc == 0 && rs->adjust)
        rs->adjust(nc, rs->adjust_arg);
    if (rc == 0)
        check_service(e, nc, &errs);
    if (rc == 0 && errs.n == 0)
        rc = stage(e, nc, &st, &errs);
    else
        rc = -1;
    if (rc < 0) {
        staging_free(e, &st, 1);
        record(rs, trigger, 0, &errs);
        for (size_t i = 0; i < rs->n_errors; i++)
            sluice_error(NULL, "reload refused: %s", rs->errors[i]);
        sluice_error(NULL, "%s: the new configuration has %zu error%s; the running one stays "
                           "in force",
                     trigger, errs.n, errs.n == 1 ? "" : "s");
        config_free_keep_plugins(nc);
        free(nc);
    } else {
        tally t = {0};
        apply(rs, nc, &st, &t);
        staging_free(e, &st, 0);
        record(rs, trigger, 1, NULL);
        rs->config_hash = cfg_node_hash(nc->root);
        snprintf(rs->summary, sizeof rs->summary,
                 "%u kept, %u reconfigured in place, %u replaced, %u added, %u removed",
                 t.kept, t.reconfigured, t.replaced, t.added, t.removed);
        if (t.failed_start)
            sluice_error(NULL, "%s: reloaded, but %u new instances failed to start (logged "
                               "above)",
                         trigger, t.failed_start);
        static const char *const what[4] = {"reconfigured", "replaced", "added", "removed"};
        sluice_buf line = SLUICE_BUF_INIT;
        for (int k = 0; k < 4; k++) {
            if (t.names[k].len)
                sluice_buf_printf(&line, "; %s: %.*s", what[k], (int)t.names[k].len,
                                  t.names[k].data);
            sluice_buf_free(&t.names[k]);
        }
        sluice_info(NULL, "%s: reloaded: %s%.*s", trigger, rs->summary, (int)line.len,
                    line.data ? line.data : "");
        sluice_buf_free(&line);
    }
    cfg_errors_free(&errs);
    rs->running = 0;
    return rc;
}

static void
on_kick(uv_timer_t *t)
{
    reload_state *rs = t->data;
    while (rs->requested && rs->e->state == ENGINE_RUNNING) {
        rs->requested = 0;
        char trigger[sizeof rs->trigger];
        memcpy(trigger, rs->trigger, sizeof trigger);
        reload_now(rs->e, trigger);
    }
}

void
reload_request(engine *e, const char *trigger)
{
    reload_state *rs = state(e);
    rs->requested = 1;
    snprintf(rs->trigger, sizeof rs->trigger, "%s", trigger);
    if (rs->started)
        uv_timer_start(&rs->kick, on_kick, 0, 0);
}

/* ==== Retired outputs ==== */

static void
on_reap(uv_timer_t *t)
{
    reload_state *rs = t->data;
    engine *e = rs->e;
    if (e->state != ENGINE_RUNNING)
        return; /* the shutdown deals with them */
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
    if (!k)
        uv_timer_stop(&rs->reap);
}

size_t
reload_draining(engine *e, output ***v)
{
    reload_state *rs = state(e);
    *v = rs->draining;
    return rs->n_draining;
}

/* ==== Watching the files ==== */

static void
on_settle(uv_timer_t *t)
{
    reload_request(((reload_state *)t->data)->e, "configuration file changed");
}

static void
on_file_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    watched_dir *w = h->data;
    if (status == 0)
        uv_timer_start(&w->rs->settle, on_settle, WATCH_SETTLE_MS, 0);
}

static void
watch_dir_of(reload_state *rs, const char *file)
{
    char *dir = xstrdup(file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        strcpy(dir, ".");
    for (size_t i = 0; i < rs->n_watches; i++)
        if (strcmp(rs->watches[i]->dir, dir) == 0) {
            free(dir);
            return;
        }
    watched_dir *w = xcalloc(1, sizeof *w);
    w->dir = dir;
    w->rs = rs;
    uv_fs_event_init(&rs->e->loop, &w->h);
    w->h.data = w;
    int r = uv_fs_event_start(&w->h, on_file_event, dir, 0);
    if (r < 0)
        sluice_warn(NULL, "--watch-config: cannot watch %s: %s", dir, uv_strerror(r));
    PUSH(rs->watches, rs->n_watches, w);
}

static void
watch_tree(reload_state *rs, const cfg_node *n)
{
    if (!n)
        return;
    if (n->file)
        watch_dir_of(rs, n->file);
    if (n->kind == CFG_MAP) /* every file's nodes start with a key */
        for (size_t i = 0; i < n->n; i += 2)
            watch_tree(rs, n->items[i + 1]);
}

void
reload_start(engine *e)
{
    reload_state *rs = state(e);
    uv_timer_init(&e->loop, &rs->kick);
    uv_timer_init(&e->loop, &rs->reap);
    uv_timer_init(&e->loop, &rs->settle);
    rs->kick.data = rs->reap.data = rs->settle.data = rs;
    rs->started = 1;
    rs->config_hash = cfg_node_hash(e->cfg->root);
    if (rs->requested)
        uv_timer_start(&rs->kick, on_kick, 0, 0);
    if (rs->watch) {
        watch_tree(rs, e->cfg->root);
        sluice_info(NULL, "--watch-config: reloading when %s or the files it includes change",
                    e->cfg->path);
    }
}

void
reload_close_handles(engine *e)
{
    reload_state *rs = state(e);
    if (!rs->started)
        return;
    uv_close((uv_handle_t *)&rs->kick, NULL);
    uv_close((uv_handle_t *)&rs->reap, NULL);
    uv_close((uv_handle_t *)&rs->settle, NULL);
    for (size_t i = 0; i < rs->n_watches; i++)
        uv_close((uv_handle_t *)&rs->watches[i]->h, NULL);
    for (size_t i = 0; i < rs->n_old_pipelines; i++)
        pipeline_close_handles(rs->old_pipelines[i]);
    rs->started = 0;
}

void
reload_free(engine *e)
{
    reload_state *rs = e->reload;
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_draining; i++)
        engine_exit_instance(rs->draining[i]->ins);
    for (size_t i = 0; i < rs->n_retired; i++)
        engine_exit_instance(rs->retired[i]);
    for (size_t i = 0; i < rs->n_old_pipelines; i++) {
        pipeline *p = rs->old_pipelines[i];
        pipeline_free(p);
        free(p->inputs);
        free(p->filters);
        free(p->outputs);
        free(p);
    }
    for (size_t i = 0; i < rs->n_cfgs; i++) {
        config_free_keep_plugins(rs->cfgs[i]);
        free(rs->cfgs[i]);
    }
    for (size_t i = 0; i < rs->n_watches; i++) {
        free(rs->watches[i]->dir);
        free(rs->watches[i]);
    }
    clear_errors(rs);
    free(rs->watches);
    free(rs->cfgs);
    free(rs->old_pipelines);
    free(rs->retired);
    free(rs->draining);
    free(rs->draining_until);
    free(rs);
    e->reload = NULL;
}

/* ==== GET /api/v1/reload ==== */

static void
json_string(sluice_buf *b, const char *s)
{
    sluice_json_string(b, s, strlen(s));
}

void
reload_status_json(engine *e, sluice_buf *out)
{
    reload_state *rs = state(e);
    sluice_buf_printf(out, "{\"config\":");
    json_string(out, e->cfg->path);
    sluice_buf_printf(out, ",\"config_hash\":\"%016llx\",\"reloads\":%llu,\"failures\":%llu,"
                           "\"watching\":%s,\"last\":",
                      (unsigned long long)rs->config_hash, (unsigned long long)rs->reloads,
                      (unsigned long long)rs->failures, rs->watch ? "true" : "false");
    if (!rs->have_result) {
        sluice_buf_printf(out, "null}\n");
        return;
    }
    sluice_buf_printf(out, "{\"result\":\"%s\",\"time\":\"", rs->last_ok ? "ok" : "refused");
    sluice_format_rfc3339(out, rs->last_time);
    sluice_buf_printf(out, "\",\"trigger\":");
    json_string(out, rs->last_trigger);
    if (rs->last_ok) {
        sluice_buf_printf(out, ",\"changes\":");
        json_string(out, rs->summary);
    }
    sluice_buf_printf(out, ",\"errors\":[");
    for (size_t i = 0; i < rs->n_errors; i++) {
        if (i)
            sluice_buf_putc(out, ',');
        json_string(out, rs->errors[i]);
    }
    sluice_buf_printf(out, "]},\"draining_outputs\":%zu,\"stopped_instances\":%zu}\n",
                      rs->n_draining, rs->n_retired);
}

/* Staging a reload: the new configuration's instances matched with the
 * running ones (kept, reconfigured in place, or made anew and
 * initialised) and checked, with nothing that runs touched. */
#include <string.h>

#include "reload_impl.h"

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
        old->fingerprint == cfg_node_hash(ic->node) && !instance_deps_changed(old)) {
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

void
reload_staging_free(engine *e, staging *st, int failed)
{
    for (size_t i = 0; i < st->n_si; i++) {
        staged_instance *s = &st->si[i];
        s->ins->staged = 0;
        if (failed && s->how == PLAN_NEW) {
            engine_drop_routes(e, s->ins);
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
int
reload_stage(engine *e, sluice_config *nc, staging *st, cfg_errors *errs)
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

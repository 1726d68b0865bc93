/* Engine life cycle: create (plugin init), run (workers, inputs, loop),
 * stop (drain within the grace period), destroy (plugin exit). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "engine.h"
#include "engine_build.h"
#include "log.h"
#include "monitor.h"
#include "reload.h"
#include "option.h"
#include "sluice/buf.h"
#include "sluice/version.h"
#include "storage.h"
#include "sluice/fs.h"
#include "xalloc.h"

/* ==== Building ==== */

sluice_instance *
engine_instance_new(engine *e, pipeline *p, instance_config *ic)
{
    sluice_instance *ins = xcalloc(1, sizeof *ins);
    ins->source = ic;
    ins->plugin = &ic->plugin->desc;
    ins->id = ic->id;
    ins->where = ic->where;
    ins->node = ic->node;
    ins->config = ic->config;
    ins->option_errors = ic->rejected;
    ins->fingerprint = cfg_node_hash(ic->node);
    ins->pipeline = p;
    ins->loop = &e->loop;
    ins->cfg = e->cfg;
    ins->dry_run = e->dry_run;
    ins->errs = e->errs;
    return ins;
}

sluice_emitter *
engine_emitter_new(pipeline *p, size_t stage, sluice_instance *owner)
{
    sluice_emitter *em = xcalloc(1, sizeof *em);
    em->p = p;
    em->stage = stage;
    em->owner = owner;
    return em;
}

int
engine_init_instance(sluice_instance *ins)
{
    if (ins->option_errors) /* its options were refused: already reported */
        return -1;
    if (!ins->plugin->init || ins->plugin->init(ins, ins->config, &ins->ctx) == SLUICE_OK) {
        ins->inited = 1;
        return 0;
    }
    /* What it built before failing is still its to free. */
    if (ins->ctx && ins->plugin->exit)
        ins->plugin->exit(ins->ctx);
    ins->ctx = NULL;
    if (!ins->option_errors)
        cfg_error_node(ins->errs, ins->node, "%s: %s '%s' failed to initialise (its log line "
                       "above says why)",
                       ins->where, instance_kind_name(ins), ins->plugin->name);
    return -1;
}

/* What other pipelines' filters route into `p` (their emits), among the
 * routers `live` says are part of the configuration being checked. */
static void
routed_into(engine *e, const pipeline *p, int (*live)(engine *, const sluice_instance *),
            unsigned *kinds, int *unknown)
{
    for (size_t i = 0; i < e->n_extra_emitters; i++) {
        const sluice_emitter *em = e->extra_emitters[i];
        if (em->p != p || !em->routed_by || (live && !live(e, em->routed_by)))
            continue;
        *kinds |= em->routed_by->plugin->emits;
        *unknown |= em->routed_by->plugin->emits == 0;
    }
}

int
engine_check_kinds(engine *e, const pipeline *p, const pipeline *target,
                   int (*live)(engine *, const sluice_instance *))
{
    unsigned carried = 0;
    int unknown = 0;
    routed_into(e, target, live, &carried, &unknown);
    char from[256] = "";
    size_t used = 0;
    for (size_t j = 0; j < p->n_inputs; j++) {
        carried |= p->inputs[j]->plugin->emits;
        unknown |= p->inputs[j]->plugin->emits == 0;
        used += (size_t)snprintf(from + used, used < sizeof from ? sizeof from - used : 0,
                                 "%s%s", used ? ", " : "", p->inputs[j]->plugin->name);
    }
    for (size_t j = 0; j < p->n_filters; j++)
        if (!p->filters[j]->routes) /* what it makes goes elsewhere */
            carried |= p->filters[j]->plugin->emits;
    if (unknown || (p->n_inputs == 0 && carried == 0))
        return 0;
    int bad = 0;
    for (size_t j = 0; j < p->n_outputs; j++) {
        const sluice_instance *o = p->outputs[j];
        if (o->plugin->accepts & carried)
            continue;
        const int takes_logs = (o->plugin->accepts & SLUICE_ACCEPTS_LOGS) != 0;
        cfg_error_node(e->errs, cfg_node_at(o->node, "type"),
                       "%s: %s takes %s events only, and pipeline '%s' carries %s events only "
                       "(from %s); %s",
                       o->where, o->plugin->name, takes_logs ? "log" : "metric", p->name,
                       takes_logs ? "metric" : "log", used ? from : "other pipelines",
                       takes_logs ? "send them to an output that takes metrics"
                                  : "make metrics from the logs with a log_to_metrics filter, "
                                    "or route metrics here with its emit_to");
        bad = 1;
    }
    return bad;
}

/* Directories the core itself will need at run time: filesystem buffers
 * and dead letters. `validate` checks them without creating anything. */
int
engine_check_paths(engine *e, const pipeline_config *pc)
{
    int bad = 0;
    const char *root = e->cfg->service.storage_path;
    for (size_t j = 0; j < pc->n_outputs; j++) {
        const instance_config *ic = &pc->outputs[j];
        if (ic->out.buffer_type == BUFFER_FILESYSTEM && sluice_dir_creatable(root) < 0) {
            const cfg_node *at = cfg_node_at(e->cfg->root, "service.storage.path");
            cfg_error_node(e->errs, at ? at : cfg_node_at(ic->node, "buffer.type"),
                           "service.storage.path: %s's filesystem buffer needs '%s', which "
                           "cannot be created: %s%s",
                           ic->where, root, strerror(errno),
                           geteuid() != 0 ? "; running as a user other than root, set "
                                            "service.storage.path to a directory you can write"
                                          : "");
            bad = 1;
        }
    }
    const instance_config *lists[2] = {pc->filters, pc->outputs};
    size_t counts[2] = {pc->n_filters, pc->n_outputs};
    for (int l = 0; l < 2; l++)
        for (size_t j = 0; j < counts[l]; j++) {
            const char *dl = lists[l][j].out.dead_letter_path;
            char *dir = dl ? xstrdup(dl) : NULL;
            char *slash = dir ? strrchr(dir, '/') : NULL;
            if (slash && slash != dir)
                *slash = '\0';
            if (slash && sluice_dir_creatable(slash == dir ? "/" : dir) < 0) {
                cfg_error_node(e->errs, cfg_node_at(lists[l][j].node, "dead_letter.path"),
                               "%s.dead_letter.path: cannot create the directory of '%s': %s",
                               lists[l][j].where, dl, strerror(errno));
                bad = 1;
            }
            free(dir);
        }
    return bad;
}

void
engine_wire_instance(engine *e, sluice_instance *ins, const instance_config *ic, size_t stage)
{
    switch (ins->plugin->kind) {
    case SLUICE_PLUGIN_INPUT:
        ins->emitter = engine_emitter_new(ins->pipeline, 0, ins);
        break;
    case SLUICE_PLUGIN_FILTER:
        ins->emitter = engine_emitter_new(ins->pipeline, stage + 1, ins);
        ins->dead = xcalloc(1, sizeof *ins->dead);
        dead_letter_init(ins->dead, ins, ic->out.dead_letter_path);
        break;
    case SLUICE_PLUGIN_OUTPUT:
        output_init(xmalloc(sizeof(output)), ins, &ic->out, e);
        break;
    }
}

void
engine_choose_memory(pipeline *p)
{
    int lossy = 0;
    for (size_t j = 0; j < p->n_inputs; j++)
        lossy |= p->inputs[j]->loses_when_paused;
    for (size_t j = 0; j < p->n_outputs; j++)
        buffer_choose_memory(&p->outputs[j]->output->buf, lossy, p->chunk_size);
}

void
engine_set_pipeline(pipeline *p, engine *e, const pipeline_config *pc)
{
    p->engine = e;
    p->name = pc->name;
    p->n_inputs = pc->n_inputs;
    p->n_filters = pc->n_filters;
    p->n_outputs = pc->n_outputs;
    p->inputs = xcalloc(pc->n_inputs + 1, sizeof *p->inputs);
    p->filters = xcalloc(pc->n_filters + 1, sizeof *p->filters);
    p->outputs = xcalloc(pc->n_outputs + 1, sizeof *p->outputs);
}

int
engine_create(engine *e, sluice_config *cfg, cfg_errors *errs, int dry_run)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->errs = errs;
    e->dry_run = dry_run;
    e->rng = (uint64_t)sluice_time_now() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
    uv_loop_init(&e->loop);
    e->loop_ready = 1;

    e->n_pipelines = cfg->n_pipelines;
    e->pipelines = xcalloc(e->n_pipelines + 1, sizeof *e->pipelines);
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        e->n_outputs += cfg->pipelines[i].n_outputs;
    e->outputs = xcalloc(e->n_outputs + 1, sizeof *e->outputs);

    size_t next_out = 0;
    int failed = 0;
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        e->pipelines[i] = xcalloc(1, sizeof(pipeline));
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const pipeline_config *pc = &cfg->pipelines[i];
        pipeline *p = e->pipelines[i];
        engine_set_pipeline(p, e, pc);
        instance_config *ics[3] = {pc->inputs, pc->filters, pc->outputs};
        sluice_instance **lists[3] = {p->inputs, p->filters, p->outputs};
        size_t counts[3] = {pc->n_inputs, pc->n_filters, pc->n_outputs};
        for (int l = 0; l < 3; l++)
            for (size_t j = 0; j < counts[l]; j++) {
                lists[l][j] = engine_instance_new(e, p, &ics[l][j]);
                engine_wire_instance(e, lists[l][j], &ics[l][j], j);
            }
        for (size_t j = 0; j < p->n_outputs; j++)
            e->outputs[next_out++] = p->outputs[j]->output;
        pipeline_init(p, e);
        pipeline_set_takers(p);

        /* Every instance, so that validate lists every refusal. */
        for (int l = 0; l < 3; l++)
            for (size_t j = 0; j < counts[l]; j++)
                failed |= engine_init_instance(lists[l][j]);
        failed |= engine_check_paths(e, pc);
        engine_choose_memory(p);
    }
    char why[256];
    if (cfg->service.http_enabled &&
        monitor_check_listen(cfg->service.http_listen, why, sizeof why) < 0) {
        cfg_error_node(errs, cfg_node_at(cfg->root, "service.http.listen"),
                       "service.http.listen: %s", why);
        failed = 1;
    }
    /* After every init: routes between pipelines are known by now. */
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        failed |= engine_check_kinds(e, e->pipelines[i], e->pipelines[i], NULL);
    /* From here on, problems are logged with their place, not collected. */
    for (size_t i = 0; i < e->n_pipelines; i++)
        engine_pipeline_done_building(e->pipelines[i]);
    return failed ? -1 : 0;
}

void
engine_pipeline_done_building(pipeline *p)
{
    sluice_instance *ins;
    for (size_t k = 0; (ins = pipeline_instance(p, k)); k++)
        ins->errs = NULL;
}

/* ==== Running ==== */

void
engine_drain_done(engine *e)
{
    uv_mutex_lock(&e->done_lock);
    struct sluice_flush *list = e->done_head;
    e->done_head = e->done_tail = NULL;
    uv_mutex_unlock(&e->done_lock);
    while (list) {
        struct sluice_flush *fl = list;
        list = list->next;
        fl->next = NULL;
        output_handle_done(fl);
    }
}

static void
on_done_async(uv_async_t *a)
{
    engine_drain_done(a->data);
}

void
engine_post_done(engine *e, struct sluice_flush *fl)
{
    fl->next = NULL;
    uv_mutex_lock(&e->done_lock);
    if (e->done_tail)
        e->done_tail->next = fl;
    else
        e->done_head = fl;
    e->done_tail = fl;
    uv_mutex_unlock(&e->done_lock);
    uv_async_send(&e->done_async);
}

void
engine_check_inputs_done(engine *e)
{
    if (!e->cfg->service.exit_when_done || e->state != ENGINE_RUNNING)
        return;
    size_t inputs = 0, done = 0;
    for (size_t i = 0; i < e->n_pipelines; i++) {
        inputs += e->pipelines[i]->n_inputs;
        done += e->pipelines[i]->inputs_done;
    }
    if (inputs && done == inputs)
        e->all_inputs_done = 1; /* stopped from the loop, not from an input's callback */
}

static void
on_prepare(uv_prepare_t *h)
{
    engine *e = h->data;
    if (e->all_inputs_done && e->state == ENGINE_RUNNING) {
        sluice_info(NULL, "every input is done (service.exit_when_done): delivering what is "
                          "left, then exiting");
        engine_stop(e);
    }
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        if (p->n_filters)
            pipeline_run_filters(p);
        if (p->has_fs)
            pipeline_sync_storage(p, 0);
    }
}

static void
on_fsync_tick(uv_timer_t *t)
{
    engine *e = t->data;
    for (size_t i = 0; i < e->n_pipelines; i++)
        if (e->pipelines[i]->has_fs)
            pipeline_sync_storage(e->pipelines[i], 1);
}

int
engine_start_output_storage(engine *e, output *o, int recover)
{
    if (!o->buf.fs)
        return 0;
    if (storage_init(&o->buf, e->cfg->service.storage_path) < 0)
        return -1;
    if (recover) {
        size_t n;
        stored_chunk *found = storage_recover(&o->buf, &n);
        for (size_t k = 0; k < n; k++) {
            buffer_spill(&o->buf, found[k].path, found[k].bytes, NULL);
            o->buf.recovered_chunks++;
        }
        free(found);
        output_pump(o);
    }
    if (o->settings->fsync == FSYNC_INTERVAL && !uv_is_active((uv_handle_t *)&e->fsync_timer))
        uv_timer_start(&e->fsync_timer, on_fsync_tick, 1000, 1000);
    return 0;
}

/* Filesystem buffers: directories, and what an earlier run left behind. */
static int
start_storage(engine *e)
{
    for (size_t i = 0; i < e->n_outputs; i++)
        if (engine_start_output_storage(e, e->outputs[i], 1) < 0)
            return -1;
    return 0;
}

static void
on_signal(uv_signal_t *s, int signum)
{
    engine *e = s->data;
    if (signum == SIGUSR1) {
        sluice_info(NULL, "SIGUSR1: reopening output files");
        for (size_t i = 0; i < e->n_outputs; i++) {
            sluice_instance *ins = e->outputs[i]->ins;
            if (ins->plugin->reopen)
                ins->plugin->reopen(ins->ctx);
        }
        return;
    }
    if (signum == SIGHUP) {
        if (e->state == ENGINE_RUNNING)
            reload_request(e, "SIGHUP");
        return;
    }
    if (signum == SIGUSR2) {
        sluice_warn(NULL, "SIGUSR2 means nothing to sluice; ignoring it");
        return;
    }
    if (e->state == ENGINE_RUNNING) {
        sluice_info(NULL, "%s: stopping inputs and flushing (grace %llds; send it again to stop "
                          "at once)",
                    strsignal(signum),
                    (long long)(e->cfg->service.grace / SLUICE_NSEC_PER_SEC));
        engine_stop(e);
    } else if (e->state == ENGINE_DRAINING) {
        sluice_warn(NULL, "%s again: stopping without waiting for the outputs",
                    strsignal(signum));
        e->state = ENGINE_DONE;
        engine_check_drained(e);
    }
}

static void
on_grace(uv_timer_t *t)
{
    engine *e = t->data;
    sluice_warn(NULL, "grace period over with %zu chunk deliveries unfinished", e->pending);
    e->state = ENGINE_DONE;
    engine_check_drained(e);
}

void
engine_stop_instance(sluice_instance *ins)
{
    collectors_stop(ins);
    if (ins->started && ins->plugin->stop)
        ins->plugin->stop(ins->ctx);
    ins->started = 0;
}

static void
stop_instances(sluice_instance **v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        engine_stop_instance(v[j]);
}

void
engine_stop(engine *e)
{
    if (e->state != ENGINE_RUNNING)
        return;
    e->state = ENGINE_DRAINING;
    for (size_t i = 0; i < e->n_pipelines; i++)
        stop_instances(e->pipelines[i]->inputs, e->pipelines[i]->n_inputs);
    /* Filters see every staged event before they stop; what they emit
     * when stopping (last aggregates), even into other pipelines, is
     * flushed below. */
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline_run_filters(e->pipelines[i]);
        stop_instances(e->pipelines[i]->filters, e->pipelines[i]->n_filters);
    }
    for (size_t i = 0; i < e->n_pipelines; i++)
        pipeline_flush(e->pipelines[i]);
    uv_timer_start(&e->grace_timer, on_grace,
                   (uint64_t)(e->cfg->service.grace / SLUICE_NSEC_PER_MSEC), 0);
    engine_check_drained(e);
}

static void
close_engine_handles(engine *e)
{
    monitor_stop(e->monitor);
    e->monitor = NULL;
    uv_close((uv_handle_t *)&e->sig_term, NULL);
    uv_close((uv_handle_t *)&e->sig_int, NULL);
    uv_close((uv_handle_t *)&e->sig_quit, NULL);
    uv_close((uv_handle_t *)&e->sig_usr1, NULL);
    uv_close((uv_handle_t *)&e->sig_hup, NULL);
    uv_close((uv_handle_t *)&e->sig_usr2, NULL);
    uv_close((uv_handle_t *)&e->prepare, NULL);
    uv_close((uv_handle_t *)&e->grace_timer, NULL);
    uv_close((uv_handle_t *)&e->fsync_timer, NULL);
    uv_close((uv_handle_t *)&e->done_async, NULL);
    for (size_t i = 0; i < e->n_pipelines; i++)
        pipeline_close_handles(e->pipelines[i]);
    reload_close_handles(e);
}

void
engine_check_drained(engine *e)
{
    if (e->state == ENGINE_RUNNING || e->finishing)
        return;
    if (e->state == ENGINE_DRAINING && e->pending > 0)
        return;
    e->state = ENGINE_DONE;
    e->finishing = 1;
    output **retiring;
    size_t n_retiring = reload_draining(e, &retiring);
    for (size_t i = 0; i < e->n_outputs; i++)
        output_stop_workers(e->outputs[i]);
    for (size_t i = 0; i < n_retiring; i++)
        output_stop_workers(retiring[i]);
    /* Completions that raced the stop still count as delivered. */
    engine_drain_done(e);
    for (size_t i = 0; i < e->n_outputs + n_retiring; i++) {
        output *o = i < e->n_outputs ? e->outputs[i] : retiring[i - e->n_outputs];
        uint64_t lost = output_abandon(o);
        if (lost)
            sluice_error(o->ins, "%llu events were not delivered before shutdown",
                         (unsigned long long)lost);
        e->undelivered += lost;
    }
    close_engine_handles(e);
}

/* Start the instances in order. One that fails gets its stop anyway, to
 * close what it had opened, and the engine stops; the plugin has said why
 * (with its option's place, through sluice_option_error). */
int
engine_start_instance(sluice_instance *ins)
{
    if (ins->plugin->start && ins->plugin->start(ins->ctx) != SLUICE_OK) {
        if (!ins->option_errors)
            sluice_error(ins, "%s: %s '%s' failed to start", ins->where, instance_kind_name(ins),
                         ins->plugin->name);
        if (ins->plugin->stop)
            ins->plugin->stop(ins->ctx);
        return 1;
    }
    ins->started = 1;
    collectors_start(ins);
    return 0;
}

static int
start_instances(sluice_instance **v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (engine_start_instance(v[j]))
            return 1;
    return 0;
}

static void
append_names(sluice_buf *b, const char *what, sluice_instance *const *v, size_t n)
{
    if (!n)
        return;
    sluice_buf_printf(b, "%s%s ", b->len ? "; " : "", what);
    for (size_t j = 0; j < n; j++)
        sluice_buf_printf(b, "%s%s (%s)", j ? ", " : "", v[j]->plugin->name, v[j]->id);
}

/* What an operator wants to see first: what runs, from which file. */
static void
log_startup(const engine *e)
{
    sluice_info(NULL, "sluice %s (plugin ABI %d.%d), configuration %s, storage %s",
                SLUICE_VERSION, SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR, e->cfg->path,
                e->cfg->service.storage_path);
    for (size_t i = 0; i < e->n_pipelines; i++) {
        const pipeline *p = e->pipelines[i];
        sluice_buf b = SLUICE_BUF_INIT;
        append_names(&b, "inputs", p->inputs, p->n_inputs);
        append_names(&b, "filters", p->filters, p->n_filters);
        append_names(&b, "outputs", p->outputs, p->n_outputs);
        sluice_info(NULL, "pipeline %s: %.*s", p->name, (int)b.len, b.data);
        sluice_buf_free(&b);
    }
}

int
engine_run(engine *e)
{
    uv_mutex_init(&e->done_lock);
    uv_async_init(&e->loop, &e->done_async, on_done_async);
    e->done_async.data = e;
    uv_prepare_init(&e->loop, &e->prepare);
    e->prepare.data = e;
    uv_prepare_start(&e->prepare, on_prepare);
    uv_timer_init(&e->loop, &e->grace_timer);
    e->grace_timer.data = e;
    uv_timer_init(&e->loop, &e->fsync_timer);
    e->fsync_timer.data = e;
    uv_signal_t *sigs[] = {&e->sig_term, &e->sig_int, &e->sig_quit,
                           &e->sig_usr1, &e->sig_hup, &e->sig_usr2};
    int signums[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        uv_signal_init(&e->loop, sigs[i]);
        sigs[i]->data = e;
        uv_signal_start(sigs[i], on_signal, signums[i]);
    }
    log_startup(e);
    reload_start(e);

    int rc = 0;
    for (size_t i = 0; i < e->n_outputs && rc == 0; i++)
        rc = output_start_workers(e->outputs[i]);
    if (rc == 0 && start_storage(e) < 0)
        rc = 1;
    if (rc == 0 && e->cfg->service.http_enabled &&
        !(e->monitor = monitor_start(e, e->cfg->service.http_listen)))
        rc = 1;
    /* Filters first, so that they are ready for the inputs' events. */
    for (size_t i = 0; i < e->n_pipelines && rc == 0; i++)
        rc = start_instances(e->pipelines[i]->filters, e->pipelines[i]->n_filters);
    for (size_t i = 0; i < e->n_pipelines && rc == 0; i++)
        rc = start_instances(e->pipelines[i]->inputs, e->pipelines[i]->n_inputs);
    size_t n_in = 0;
    for (size_t i = 0; i < e->n_pipelines; i++)
        n_in += e->pipelines[i]->n_inputs;
    if (rc == 0) {
        sluice_info(NULL, "running %zu pipeline%s, %zu inputs, %zu outputs", e->n_pipelines,
                    e->n_pipelines == 1 ? "" : "s", n_in, e->n_outputs);
        engine_check_inputs_done(e);
    } else {
        sluice_error(NULL, "could not start; stopping what had started");
        engine_stop(e);
    }

    uv_run(&e->loop, UV_RUN_DEFAULT);

    for (size_t i = 0; i < e->n_pipelines; i++) {
        const pipeline *p = e->pipelines[i];
        if (p->pauses || p->dropped_no_output)
            sluice_info(NULL, "pipeline %s: inputs paused %llu times; %llu events no output "
                              "accepted",
                        p->name, (unsigned long long)p->pauses,
                        (unsigned long long)p->dropped_no_output);
    }
    for (size_t i = 0; i < e->n_outputs; i++) {
        const output *o = e->outputs[i];
        sluice_info(o->ins, "delivered %llu events in %llu chunks; %llu retries (%llu events); "
                            "%llu events failed%s",
                    (unsigned long long)o->delivered_events,
                    (unsigned long long)o->delivered_chunks, (unsigned long long)o->retries,
                    (unsigned long long)o->retried_events, (unsigned long long)o->failed_events,
                    !o->failed_events ? ""
                    : o->dead.path    ? ", written to the dead letters"
                                      : " (no dead_letter path set: they were logged only)");
    }
    return rc;
}

/* ==== Tearing down ==== */

void
engine_exit_instance(sluice_instance *ins)
{
    if (ins->inited && ins->plugin->exit)
        ins->plugin->exit(ins->ctx);
    collectors_free(ins);
    instance_deps_free(ins);
    free(ins->emitter);
    if (ins->dead) {
        dead_letter_close(ins->dead);
        free(ins->dead);
    }
    if (ins->output) {
        output_free(ins->output);
        free(ins->output);
    }
    if (ins->own) {
        option_free(ins->own->plugin.options, ins->own->config);
        free(ins->own->config);
        option_free(output_options, &ins->own->out);
        free(ins->own->id);
        free(ins->own->where);
        free(ins->own);
    }
    free(ins);
}

void
engine_drop_routes(engine *e, const sluice_instance *ins)
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
exit_instances(sluice_instance **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        engine_exit_instance(v[i]);
    free(v);
}

void
engine_destroy(engine *e)
{
    if (!e->loop_ready)
        return;
    if (!e->finishing) /* never ran: only the pipelines' timers exist */
        for (size_t i = 0; i < e->n_pipelines; i++)
            pipeline_close_handles(e->pipelines[i]);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < e->n_pipelines; i++) {
        pipeline *p = e->pipelines[i];
        exit_instances(p->inputs, p->n_inputs);
        exit_instances(p->filters, p->n_filters);
        exit_instances(p->outputs, p->n_outputs);
        pipeline_free(p);
        free(p);
    }
    for (size_t i = 0; i < e->n_extra_emitters; i++)
        free(e->extra_emitters[i]);
    free(e->extra_emitters);
    free(e->outputs);
    free(e->pipelines);
    reload_free(e);
    uv_loop_close(&e->loop);
    chunk_pool_drain();
    if (e->finishing)
        uv_mutex_destroy(&e->done_lock);
    e->loop_ready = 0;
}

uint64_t
engine_random(engine *e)
{
    /* xorshift64*: plenty for jitter. */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return e->rng * 0x2545f4914f6cdd1dULL;
}

/* ==== Routing between pipelines ==== */

static pipeline *
find_pipeline(engine *e, const char *name)
{
    /* By the config's names: later pipelines are not built yet during init. */
    for (size_t i = 0; i < e->n_pipelines; i++)
        if (strcmp(e->cfg->pipelines[i].name, name) == 0)
            return e->pipelines[i];
    return NULL;
}

static sluice_emitter *
route_to(sluice_instance *ins, pipeline *to)
{
    engine *e = ins->pipeline->engine;
    ins->routes = 1;
    e->extra_emitters = xrealloc(e->extra_emitters,
                                 (e->n_extra_emitters + 1) * sizeof *e->extra_emitters);
    sluice_emitter *em = engine_emitter_new(to, 0, NULL);
    em->routed_by = ins;
    return e->extra_emitters[e->n_extra_emitters++] = em;
}

sluice_emitter *
sluice_pipeline_emitter(sluice_instance *ins, const char *name)
{
    pipeline *to = find_pipeline(ins->pipeline->engine, name);
    return to ? route_to(ins, to) : NULL;
}

sluice_emitter *
sluice_pipeline_route(sluice_instance *ins, const char *option, const char *name)
{
    engine *e = ins->pipeline->engine;
    pipeline *to = find_pipeline(e, name);
    if (to)
        return route_to(ins, to);
    const char **names = xcalloc(e->n_pipelines + 1, sizeof *names);
    for (size_t i = 0; i < e->n_pipelines; i++)
        names[i] = e->cfg->pipelines[i].name;
    const char *hint = option_suggest(name, names, e->n_pipelines);
    if (hint)
        sluice_option_error(ins, option, "there is no pipeline '%s' (did you mean '%s'?)", name,
                            hint);
    else
        sluice_option_error(ins, option, "there is no pipeline '%s'", name);
    free(names);
    return NULL;
}

void
sluice_dead_letter(sluice_instance *ins, const sluice_event *ev, const char *reason)
{
    if (ins->dead) {
        dead_letter_write(ins->dead, ev, reason ? reason : "failed");
    } else if (ins->output) {
        dead_letter_write(&ins->output->dead, ev, reason ? reason : "failed");
        __atomic_fetch_add(&ins->output->failed_events, 1, __ATOMIC_RELAXED);
    }
}

void
sluice_filter_dropped(sluice_instance *ins, uint64_t n)
{
    ins->dropped += n;
}

void
sluice_filter_failed(sluice_instance *ins, uint64_t n)
{
    ins->failed += n;
}

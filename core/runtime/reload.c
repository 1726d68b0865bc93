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

#include "reload_impl.h"
#include "sluice/json.h"
#include "sluice/timefmt.h"

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
        rc = reload_stage(e, nc, &st, &errs);
    else
        rc = -1;
    if (rc < 0) {
        reload_staging_free(e, &st, 1);
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
        reload_apply(rs, nc, &st, &t);
        reload_staging_free(e, &st, 0);
        record(rs, trigger, 1, NULL);
        rs->config_hash = cfg_node_hash(nc->root);
        if (rs->watch) {
            reload_watch_tree(rs, nc->root);
            reload_watch_deps(rs);
        }
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
        reload_watch_tree(rs, e->cfg->root);
        reload_watch_deps(rs);
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
        free(p->own_name);
        free(p->inputs);
        free(p->filters);
        free(p->outputs);
        free(p);
    }
    if (rs->owned_cfg) {
        config_free_keep_plugins(rs->owned_cfg);
        free(rs->owned_cfg);
    }
    for (size_t i = 0; i < rs->n_watches; i++) {
        watched_dir *w = rs->watches[i];
        for (size_t k = 0; k < w->n_names; k++)
            free(w->names[k]);
        free(w->names);
        free(w->dir);
        free(w);
    }
    clear_errors(rs);
    free(rs->watches);
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

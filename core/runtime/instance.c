/* The SDK's view of a plugin instance: its names, its loop, its state
 * directory, and errors about its options that name their place in the
 * configuration. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "instance.h"
#include "pipeline.h"
#include "sluice/fs.h"
#include "xalloc.h"

const char *
sluice_instance_id(const sluice_instance *ins)
{
    return ins->id;
}

const char *
sluice_instance_pipeline(const sluice_instance *ins)
{
    return ins->pipeline->name;
}

const struct sluice_config *
instance_config_of(const sluice_instance *ins)
{
    return ins->cfg ? ins->cfg : ins->pipeline->engine->cfg;
}

const char *
sluice_storage_path(const sluice_instance *ins)
{
    return instance_config_of(ins)->service.storage_path;
}

void
sluice_instance_hold(sluice_instance *ins, int delta)
{
    ins->holds += delta;
}

/* The contents of `path` hashed; 0 when it cannot be read. */
static uint64_t
file_hash(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint64_t h = CFG_HASH_INIT;
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = cfg_hash_bytes(h, buf, got);
    fclose(f);
    return h;
}

void
sluice_instance_depends_on(sluice_instance *ins, const char *path)
{
    ins->dep_paths = xrealloc(ins->dep_paths, (ins->n_deps + 1) * sizeof *ins->dep_paths);
    ins->dep_hashes = xrealloc(ins->dep_hashes, (ins->n_deps + 1) * sizeof *ins->dep_hashes);
    ins->dep_paths[ins->n_deps] = xstrdup(path);
    ins->dep_hashes[ins->n_deps++] = file_hash(path);
}

int
instance_deps_changed(const sluice_instance *ins)
{
    for (size_t i = 0; i < ins->n_deps; i++)
        if (file_hash(ins->dep_paths[i]) != ins->dep_hashes[i])
            return 1;
    return 0;
}

void
instance_deps_free(sluice_instance *ins)
{
    for (size_t i = 0; i < ins->n_deps; i++)
        free(ins->dep_paths[i]);
    free(ins->dep_paths);
    free(ins->dep_hashes);
}

int
sluice_instance_validating(const sluice_instance *ins)
{
    return ins->dry_run;
}

uv_loop_t *
sluice_instance_loop(sluice_instance *ins)
{
    return ins->loop;
}

sluice_emitter *
sluice_input_emitter(sluice_instance *ins)
{
    return ins->emitter;
}

const char *
instance_kind_name(const sluice_instance *ins)
{
    return plugin_kind_name(ins->plugin->kind);
}

/* Add "where: msg" at `at` to the errors being collected, or log it with
 * its place once the engine runs. */
static void
report(sluice_instance *ins, const cfg_node *at, const char *where, const char *msg)
{
    ins->option_errors++;
    if (ins->errs) {
        cfg_error_node(ins->errs, at, "%s: %s", where, msg);
        return;
    }
    if (at)
        sluice_error(ins, "%s:%d:%d: %s: %s", at->file, at->line, at->col, where, msg);
    else
        sluice_error(ins, "%s: %s", where, msg);
}

void
sluice_option_error(sluice_instance *ins, const char *option, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *base = ins->where ? ins->where : ins->id;
    const cfg_node *at = option ? cfg_node_at(ins->node, option) : NULL;
    char *where = option ? xasprintf("%s.%s", base, option) : xstrdup(base);
    report(ins, at ? at : ins->node, where, msg);
    free(where);
}

int
sluice_check_added_fields(sluice_instance *ins, const sluice_added_field *f, size_t n)
{
    int rc = SLUICE_OK;
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < j && f[j].name; i++) {
            if (!f[i].name || strcmp(f[i].name, f[j].name) != 0)
                continue;
            const sluice_added_field *later = f[j].option ? &f[j] : &f[i];
            const sluice_added_field *other = later == &f[j] ? &f[i] : &f[j];
            if (other->option)
                sluice_option_error(ins, later->option,
                                    "'%s' already names the field of %s: an event cannot "
                                    "hold two fields of one name",
                                    f[j].name, other->option);
            else
                sluice_option_error(ins, later->option,
                                    "'%s' is a field %s adds itself: name another", f[j].name,
                                    ins->plugin->name);
            rc = SLUICE_ERROR;
            break;
        }
    }
    return rc;
}

char *
sluice_storage_dir(sluice_instance *ins, const char *name)
{
    const char *root = sluice_storage_path(ins);
    char *dir = xasprintf("%s/%s", root, name);
    int r = ins->dry_run ? sluice_dir_creatable(dir) : sluice_mkdirs(dir, 0750);
    if (r == 0)
        return dir;
    char msg[1024];
    int err = errno;
    snprintf(msg, sizeof msg,
             "%s (%s) keeps its state in '%s', which %s: %s%s", ins->where ? ins->where : ins->id,
             ins->plugin->name, dir, ins->dry_run ? "cannot be created" : "cannot create",
             strerror(err),
             geteuid() != 0 && (err == EACCES || err == EPERM || err == EROFS)
                 ? "; running as a user other than root, set service.storage.path to a "
                   "directory you can write"
                 : "");
    const cfg_node *at = ins->cfg ? cfg_node_at(ins->cfg->root, "service.storage.path") : NULL;
    report(ins, at, at ? "service.storage.path" : "service.storage.path (default)", msg);
    free(dir);
    return NULL;
}

void
sluice_input_done(sluice_instance *ins)
{
    if (ins->done)
        return;
    ins->done = 1;
    sluice_debug(ins, "input done: nothing more will come from it");
    pipeline_input_done(ins->pipeline, ins);
}

void
sluice_input_loses_when_paused(sluice_instance *ins)
{
    ins->loses_when_paused = 1;
}

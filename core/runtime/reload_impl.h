/* What the parts of a reload share (see reload.c): its state, and the
 * staged configuration between checking it and applying it. */
#ifndef SLUICE_RELOAD_IMPL_H
#define SLUICE_RELOAD_IMPL_H

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

/* A directory watched for some of its files (editors replace files, so
 * the directory is watched, not the file). */
typedef struct watched_dir {
    uv_fs_event_t h;
    char *dir;
    char **names; /* the files of it that matter */
    size_t n_names;
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
    sluice_config *owned_cfg; /* the one in force, when a reload loaded it */
    watched_dir **watches;
    size_t n_watches;
} reload_state;

/* Append `x` to the array `v` of `n`. */
#define PUSH(v, n, x)                                                                              \
    do {                                                                                           \
        (v) = xrealloc((v), ((n) + 1) * sizeof *(v));                                              \
        (v)[(n)++] = (x);                                                                          \
    } while (0)

/* The new configuration beside the running one. */
typedef struct staging {
    staged_pipeline *sp;
    size_t n_sp;
    staged_instance *si;
    size_t n_si;
} staging;

/* What a reload did, counted and named. */
typedef struct tally {
    unsigned kept, reconfigured, added, replaced, removed, failed_start;
    sluice_buf names[4]; /* reconfigured, replaced, added, removed */
} tally;

/* reload_stage.c: build and check everything of `nc` next to what runs;
 * 0 when it can be applied. Errors are added to `errs`. */
int reload_stage(engine *e, sluice_config *nc, staging *st, cfg_errors *errs);
/* `failed`: free the instances staging made, too. */
void reload_staging_free(engine *e, staging *st, int failed);
/* reload_apply.c: make `nc` the configuration in force; cannot fail. */
void reload_apply(reload_state *rs, sluice_config *nc, staging *st, tally *t);
/* reload_watch.c: watch the files of the tree under `n`, and those the
 * instances depend on. */
void reload_watch_tree(reload_state *rs, const cfg_node *n);
void reload_watch_deps(reload_state *rs);

#endif

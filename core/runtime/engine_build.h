/* The pieces of building pipelines that engine_create and a reload share:
 * one instance made, wired (emitter, dead letters or output), initialised,
 * started, stopped and freed; a pipeline's checks. Engine thread only. */
#ifndef SLUICE_ENGINE_BUILD_H
#define SLUICE_ENGINE_BUILD_H

#include "engine.h"

sluice_instance *engine_instance_new(engine *e, pipeline *p, instance_config *ic);
/* Inputs get an emitter into stage 0, the filter at `stage` one into the
 * stage after it and its dead letters, outputs their run-time output. */
void engine_wire_instance(engine *e, sluice_instance *ins, const instance_config *ic,
                          size_t stage);
sluice_emitter *engine_emitter_new(pipeline *p, size_t stage, sluice_instance *owner);
/* The plugin's init; a failure is added to the instance's errs. 0 or -1. */
int engine_init_instance(sluice_instance *ins);
/* 0, or 1 after logging why it did not start (its stop was called). */
int engine_start_instance(sluice_instance *ins);
void engine_stop_instance(sluice_instance *ins);
/* The plugin's exit, then free everything of the instance. */
void engine_exit_instance(sluice_instance *ins);
/* Forget the emitters into other pipelines of an instance to be freed. */
void engine_drop_routes(engine *e, const sluice_instance *ins);

/* What an instance a reload retired took from its configuration, so that
 * the configuration can be freed while the instance finishes. */
typedef struct retired_own {
    struct sluice_plugin plugin;
    output_settings out;
    char *id, *where;
    void *config;
} retired_own;

/* Name and empty instance lists sized from `pc`. */
void engine_set_pipeline(pipeline *p, engine *e, const pipeline_config *pc);
/* Outputs' default max_memory, once the pipeline's inputs are known. */
void engine_choose_memory(pipeline *p);
/* Refuse outputs of `p` that accept none of the kinds it carries; the
 * routers into `target` (p itself, or the running pipeline a reload is
 * checking `p` for) count when `live` says they are part of the
 * configuration (NULL: all). Adds to e->errs; 1 when refused. */
int engine_check_kinds(engine *e, const pipeline *p, const pipeline *target,
                       int (*live)(engine *, const sluice_instance *));
/* The directories the core will need (filesystem buffers, dead letters). */
int engine_check_paths(engine *e, const pipeline_config *pc);
/* Problems are logged from now on, not collected. */
void engine_pipeline_done_building(pipeline *p);

#endif

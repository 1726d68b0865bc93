/* The engine: builds the running pipelines from a configuration, owns the
 * main loop, signals and the completion queue, and shuts down gracefully. */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <uv.h>
#include "config.h"
#include "output.h"
#include "pipeline.h"

typedef enum engine_state {
    ENGINE_RUNNING,
    ENGINE_DRAINING, /* inputs stopped, outputs finishing within the grace period */
    ENGINE_DONE,
} engine_state;

typedef struct engine {
    uv_loop_t loop;
    sluice_config *cfg;
    cfg_errors *errs; /* while building: every problem found, with its place */
    int dry_run;      /* sluice validate */
    pipeline **pipelines;
    size_t n_pipelines;
    output **outputs; /* every output of every pipeline */
    size_t n_outputs;
    /* Left behind by reloads (reload.c): inputs and filters stopped (their
     * acknowledgements may still come; freed at exit), outputs finishing
     * their chunks, pipelines no longer configured, and the
     * configurations they borrow from. */
    struct reload_state *reload;

    uv_signal_t sig_term, sig_int, sig_quit, sig_usr1, sig_hup, sig_usr2;
    uv_prepare_t prepare;
    uv_timer_t grace_timer;
    uv_timer_t fsync_timer; /* fsync: interval */
    uv_async_t done_async;
    uv_mutex_t done_lock;
    struct sluice_flush *done_head, *done_tail; /* under done_lock */

    engine_state state;
    size_t pending; /* flushes not finished, over all outputs */
    uint64_t undelivered;
    uint64_t rng;
    struct monitor *monitor; /* self-monitoring HTTP server, or NULL */
    int loop_ready;
    int finishing; /* the final stop has begun: workers joined, handles closing */
    int all_inputs_done; /* and service.exit_when_done: stop at the next iteration */
    sluice_emitter **extra_emitters; /* sluice_pipeline_emitter's */
    size_t n_extra_emitters;
} engine;

/* Build the pipelines and run every plugin's init, adding every problem
 * found to `errs` with its place. `dry_run` (sluice validate): check what
 * run would need, create nothing. Returns 0 or -1. Call engine_destroy in
 * both cases. */
int engine_create(engine *e, sluice_config *cfg, cfg_errors *errs, int dry_run);
/* Start workers and inputs and run until shut down. Returns the exit code. */
int engine_run(engine *e);
void engine_destroy(engine *e);

/* Begin a graceful shutdown (as SIGTERM does). */
void engine_stop(engine *e);
/* Any thread: queue a finished flush for the engine thread. */
void engine_post_done(engine *e, struct sluice_flush *fl);
/* Engine thread: finish the shutdown once nothing is pending. */
void engine_check_drained(engine *e);
uint64_t engine_random(engine *e);
/* Engine thread: handle the completions workers have posted. */
void engine_drain_done(engine *e);
/* An output's filesystem buffer directory, and (`recover`) the chunks an
 * earlier run or a removed output left there. -1 on failure (logged). */
int engine_start_output_storage(engine *e, output *o, int recover);
/* With service.exit_when_done: stop once every input has said it is done. */
void engine_check_inputs_done(engine *e);

#endif

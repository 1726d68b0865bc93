/* Outputs at run time: worker threads with their own loops, the hand-off of
 * chunks to them, completions back to the engine, and retries with
 * exponential backoff and full jitter. */
#ifndef SLUICE_OUTPUT_H
#define SLUICE_OUTPUT_H

#include <uv.h>
#include "buffer.h"
#include "chunk.h"
#include "config.h"
#include "dead_letter.h"
#include "instance.h"

struct engine;
struct pipeline;
struct worker;

/* An event the output failed for good, with why. */
typedef struct failed_event {
    uint32_t index;
    char *reason;
} failed_event;

/* One chunk on its way to one output (the SDK's sluice_flush). */
struct sluice_flush {
    chunk *c;
    struct output *o;
    struct worker *w;
    unsigned attempt;
    int result;
    char *reason;
    sluice_time_t retry_after;      /* from the output, 0: use the backoff */
    uint32_t *retry_events;         /* per-event results, set by the worker */
    size_t n_retry, cap_retry;
    failed_event *failed_events;
    size_t n_failed, cap_failed;
    struct sluice_flush *next;      /* in a worker's queue or the done queue */
    struct sluice_flush *live_prev, *live_next; /* the output's unfinished flushes */
    uv_timer_t retry_timer;         /* engine loop */
    char *path;                     /* filesystem buffer: the chunk's file */
    uint64_t file_bytes;
    int keep_file;                  /* shutting down: leave the file for the next start */
    struct chunk_mark *mark;        /* held until the events are safe, or NULL */
    int abandoned;                  /* shutdown: lost, so never acknowledged */
    uint64_t sent_at;               /* engine loop ms, for debug lines */
    int in_worker;                  /* handed to a worker, not done yet */
};

typedef struct worker {
    struct output *o;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wake;
    uv_mutex_t lock;
    struct sluice_flush *head, *tail; /* under lock */
    int stopping;                     /* under lock */
    void *ctx;                        /* the plugin's worker_init state */
    int broken;                       /* worker_init failed */
} worker;

typedef struct output {
    sluice_instance *ins;
    struct engine *engine;
    const output_settings *settings;
    worker *workers;
    size_t n_workers, next_worker;
    struct sluice_flush *live; /* unfinished flushes, engine thread */
    /* SLUICE_PLUGIN_ORDERED: the one flush out (sent, or waiting for its
     * retry), and the ones waiting for it, oldest first. */
    struct sluice_flush *current, *held, *held_tail;
    size_t pending;            /* unfinished flushes */
    /* Replaced or removed by a reload: no new chunks come. A successor (the
     * same id, changed) takes every chunk not being sent, and those that
     * fail later; closing: the grace is over, nothing is sent any more. */
    int retiring, closing;
    struct output *successor;
    out_buffer buf;            /* what it holds, in memory and on disk */
    dead_letter dead;

    uint64_t delivered_events, delivered_chunks, delivered_bytes;
    sluice_time_t last_ok, last_gave_up; /* for /health */
    sluice_time_t warn_window;           /* retry warnings: one per window */
    uint64_t warn_suppressed;
    char last_error[256];
    char last_permanent[256];          /* permanent failures: logged once a minute */
    sluice_time_t permanent_window;
    uint64_t permanent_suppressed;
    uint64_t retries, retried_events, failed_events, failed_chunks;
} output;

void output_init(output *o, sluice_instance *ins, const output_settings *settings,
                 struct engine *e);
int output_start_workers(output *o);
/* Stop and join the workers; flushes they had not finished stay live. */
void output_stop_workers(output *o);
/* Give a closed chunk to each of its takers (decided when it opened).
 * Takes ownership of `c`. */
void output_dispatch(struct pipeline *p, chunk *c);
/* Load spilled chunks while the output's buffer has memory for them. */
void output_pump(output *o);
/* Engine thread: handle completions posted by workers. */
void output_handle_done(struct sluice_flush *fl);
/* Shutdown: count and release every unfinished flush. Returns the events
 * that were not delivered. */
uint64_t output_abandon(output *o);
void output_free(output *o);

/* A reload: `o` takes no new chunks; with a successor, every chunk it has
 * not handed to a worker moves there now (and the rest when they fail). */
void output_retire(output *o, output *successor);
/* Whether a retiring output holds nothing any more. */
int output_retired_empty(const output *o);
/* The grace of a retiring output is over: stop its workers; what is left
 * goes to the successor, or stays on disk (filesystem buffer) or is lost,
 * counted. Returns the events lost. Call engine_drain_done first. */
uint64_t output_retire_close(output *o);
/* Move every chunk of `from` not in a worker to `to`, oldest first. */
void output_hand_over(output *from, output *to);

#endif

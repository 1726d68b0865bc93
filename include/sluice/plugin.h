/* The plugin descriptor: the one symbol a plugin exports.
 *
 * Every input, filter and output is a shared object exporting
 *
 *     SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
 *         SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
 *         .name = "null", ...
 *     };
 *
 * The core refuses a descriptor whose ABI major differs from its own, or
 * whose struct is larger than the core knows (a newer minor). Callbacks a
 * plugin does not need stay NULL.
 *
 * Threads: init, exit, and every input and filter callback run on the engine
 * thread. An output's flush runs on one of its worker threads (`workers`);
 * with more than one worker, flush runs concurrently for different chunks.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <uv.h>
#include "common.h"
#include "event.h"
#include "option.h"

/* Bump the major for any incompatible change to this file, event.h or
 * option.h; bump the minor when appending members at the end of a struct. */
#define SLUICE_ABI_MAJOR 2
#define SLUICE_ABI_MINOR 7

typedef enum sluice_plugin_kind {
    SLUICE_PLUGIN_INPUT = 1,
    SLUICE_PLUGIN_FILTER = 2,
    SLUICE_PLUGIN_OUTPUT = 3,
} sluice_plugin_kind;

/* A configured plugin instance (e.g. "app.tail.0"). Owned by the core. */
typedef struct sluice_instance sluice_instance;
/* One chunk handed to an output's flush. Owned by the core. */
typedef struct sluice_flush sluice_flush;

/* Event kinds a filter or output accepts (flags). Events of other kinds pass
 * a filter untouched and are not sent to such an output. */
#define SLUICE_ACCEPTS_LOGS (1u << SLUICE_EVENT_LOG)
#define SLUICE_ACCEPTS_METRICS (1u << SLUICE_EVENT_METRIC)
#define SLUICE_ACCEPTS_ALL (SLUICE_ACCEPTS_LOGS | SLUICE_ACCEPTS_METRICS)

/* What a filter callback returns besides SLUICE_ERROR. */
enum {
    SLUICE_FILTER_NOTOUCH = 0,  /* pass the batch on unchanged; wrote nothing */
    SLUICE_FILTER_MODIFIED = 1, /* the events written to `out` replace the batch */
};

/* A metric a plugin keeps of its own (ABI 2.4), e.g. tail's lag. */
typedef struct sluice_metric_def {
    const char *name; /* [a-z0-9_], e.g. "lag_bytes" */
    const char *help; /* one line */
    int counter;      /* else a gauge */
} sluice_metric_def;

struct sluice_plugin {
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    sluice_plugin_kind kind;

    const char *name;        /* the `type:` in the config */
    const char *description; /* one line */
    const sluice_option *options;
    size_t config_size; /* bytes of the struct the options fill in */
    unsigned accepts;   /* filters and outputs: SLUICE_ACCEPTS_* */

    /* All kinds. init gets the filled-in config (owned by the core, valid
     * until exit returns) and stores its own state in *ctx. Returns
     * SLUICE_OK or SLUICE_ERROR after logging why; on SLUICE_ERROR a state
     * already stored in *ctx is passed to exit, so exit must cope with a
     * half-built one. */
    int (*init)(sluice_instance *ins, const void *config, void **ctx);
    void (*exit)(void *ctx);

    /* Inputs. start begins producing events on the engine loop
     * (sluice_instance_loop); pause and resume are backpressure; stop must
     * stop producing and start closing every handle it opened.
     * Filters (optional): start is called before any input starts, e.g. to
     * arm a timer; stop once every input has stopped and every staged event
     * has passed the filter, so it may emit what it still holds (to its
     * emitter, or a sluice_pipeline_emitter) and close its handles. */
    int (*start)(void *ctx);
    void (*pause)(void *ctx);
    void (*resume)(void *ctx);
    void (*stop)(void *ctx);

    /* Filters: read `in`, write events to `out` and return
     * SLUICE_FILTER_MODIFIED, or write nothing and return
     * SLUICE_FILTER_NOTOUCH. */
    int (*filter)(void *ctx, const sluice_events *in, sluice_emitter *out);

    /* Outputs: deliver the chunk and call sluice_flush_done exactly once,
     * from flush itself or later from the same worker's loop. */
    void (*flush)(void *ctx, sluice_flush *fl);
    /* Outputs: reopen files (SIGUSR1, after logrotate). Engine thread. */
    void (*reopen)(void *ctx);

    /* Outputs: per-worker state, created on the worker's thread
     * before its first flush (e.g. a libcurl multi handle on `loop`), and
     * destroyed there after its last; must close every handle it opened.
     * sluice_flush_worker returns it during a flush. */
    int (*worker_init)(void *ctx, uv_loop_t *loop, void **worker_ctx);
    void (*worker_exit)(void *worker_ctx);

    /* Inputs: called on the engine thread, in the order the tokens
     * were emitted (sluice_emit_token), once every event emitted before the
     * token is safe: delivered by every output, dead-lettered, or written
     * to a filesystem buffer's chunk file (fdatasync'ed first with fsync:
     * always). Never called for events lost at shutdown from a memory
     * buffer. */
    void (*ack)(void *ctx, uint64_t token);

    /* Inputs: the kinds of events they emit (SLUICE_ACCEPTS_*);
     * filters: the kinds they make besides what they pass on (log_to_metrics
     * makes metrics). The core uses it to refuse a pipeline whose outputs
     * accept none of what it carries. 0: not said, not checked. */
    unsigned emits;

    /* SLUICE_PLUGIN_* flags (ABI 2.2). */
    unsigned flags;

    /* Metrics of the plugin's own (ABI 2.4): a table ended by a NULL name,
     * served on /metrics as sluice_<kind>_<plugin>_<name> with the
     * pipeline, plugin and id labels, in /api/v1/pipelines, and by the
     * internal_metrics input. metric_value returns the value of the i-th
     * for one instance; it is called on the engine thread, so an output
     * publishes what its workers count with atomics. */
    const sluice_metric_def *metrics;
    double (*metric_value)(void *ctx, size_t i);

    /* A reload changed this instance's options (ABI 2.6). With apply 0:
     * return SLUICE_OK if the running instance can take `config` in place
     * (a listener whose address did not change keeps its socket and its
     * connections), changing nothing; anything else, and the core replaces
     * the instance. With apply 1 (after SLUICE_OK, once the whole new
     * configuration is valid): switch to `config`, which it may keep until
     * exit; it cannot fail. Engine thread. NULL: always replaced. */
    int (*reconfigure)(void *ctx, const void *config, int apply);
};

/* Outputs: chunks go out one at a time, in the order they were made, and
 * one being retried holds back the ones after it, as a receiver that
 * refuses samples out of order needs (Prometheus remote write). */
#define SLUICE_PLUGIN_ORDERED 0x1u

#define SLUICE_PLUGIN_HEADER(kind_)                                                                \
    .abi_major = SLUICE_ABI_MAJOR, .abi_minor = SLUICE_ABI_MINOR,                                  \
    .struct_size = sizeof(struct sluice_plugin), .kind = (kind_)

#define SLUICE_PLUGIN_EXPORT __attribute__((visibility("default")))
#define SLUICE_PLUGIN_SYMBOL "sluice_plugin"

/* ==== Instances ==== */

/* The instance id, e.g. "app.dummy.0" or the `id:` from the config. */
SLUICE_API const char *sluice_instance_id(const sluice_instance *ins);
/* The name of the pipeline the instance belongs to. */
SLUICE_API const char *sluice_instance_pipeline(const sluice_instance *ins);
/* service.storage.path: where plugins keep state (e.g. tail offsets). */
SLUICE_API const char *sluice_storage_path(const sluice_instance *ins);
/* 1 while `sluice validate` builds the instance: init checks what it
 * can, and binds, connects or starts nothing. */
SLUICE_API int sluice_instance_validating(const sluice_instance *ins);
/* The engine's loop, for inputs' handles and timers. */
SLUICE_API uv_loop_t *sluice_instance_loop(sluice_instance *ins);
/* The instance's settings include this file (a rule file read at init;
 * ABI 2.6): a reload finding the file changed treats the instance as
 * changed, and --watch-config watches the file. */
SLUICE_API void sluice_instance_depends_on(sluice_instance *ins, const char *path);
/* Work that outlives stop (a child process still to be reaped; ABI 2.6):
 * +1 when it begins, -1 once its last handle is closed. An instance a
 * reload stopped is freed (its exit called) only with no hold left. */
SLUICE_API void sluice_instance_hold(sluice_instance *ins, int delta);
/* Where an input writes its events. For a filter: where events it writes
 * outside a filter call (from a timer, or stop) go, i.e. on past it. */
SLUICE_API sluice_emitter *sluice_input_emitter(sluice_instance *ins);

/* Report a problem with one of the instance's options, from init
 * or start. `option` is its path in the instance's map ("pattern",
 * "listen[1]", "metrics[2].buckets"), or NULL for the instance as a whole.
 * The error names the file, line and column where the option is written,
 * exactly as the loader's own errors do, and `sluice validate` lists it with
 * them. Return SLUICE_ERROR after it. */
SLUICE_API void sluice_option_error(sluice_instance *ins, const char *option, const char *fmt,
                                    ...) SLUICE_PRINTF(3, 4);

/* A field an input adds to its events: its name (NULL: not added), and
 * the option that names it (NULL: a name of the input's own). */
typedef struct sluice_added_field {
    const char *option;
    const char *name;
} sluice_added_field;

/* From init: refuse two added fields of one name, which would give an
 * event one key twice. Reports each clash against the option that names
 * the later field and returns SLUICE_ERROR; SLUICE_OK otherwise.
 * (ABI 2.7) */
SLUICE_API int sluice_check_added_fields(sluice_instance *ins, const sluice_added_field *fields,
                                         size_t n);

/* The candidate nearest to `word` (a likely typo of it, case
 * ignored), for "did you mean" hints; NULL if none is close. */
SLUICE_API const char *sluice_nearest(const char *word, const char *const *candidates,
                                      size_t n);

/* "<service.storage.path>/<name>", created (as `mkdir -p`) for
 * the instance's state; `sluice validate` only checks that it could be.
 * Returns a string the caller frees, or NULL after reporting why against
 * service.storage.path. Call from init. */
SLUICE_API char *sluice_storage_dir(sluice_instance *ins, const char *name);

/* Inputs: nothing more will come from this input (dummy's count
 * reached, exec's oneshot ran). With service.exit_when_done, sluice stops
 * once every input is done and what they emitted is delivered. */
SLUICE_API void sluice_input_done(sluice_instance *ins);

/* Inputs, from init: this input loses events while paused (a UDP
 * socket, which cannot make its senders wait). Outputs fed by it then get
 * the large default memory buffer; otherwise backpressure pauses the
 * inputs early, since the file or the sender is the buffer. */
SLUICE_API void sluice_input_loses_when_paused(sluice_instance *ins);

/* An emitter into the head of the pipeline `name` (its first filter, or its
 * chunks), for a filter that routes events elsewhere; NULL if there is no
 * such pipeline. Call from init; valid until exit. Engine thread only. */
SLUICE_API sluice_emitter *sluice_pipeline_emitter(sluice_instance *ins, const char *name);
/* The same, and when there is no such pipeline, NULL after
 * reporting it against `option` with the nearest name (sluice_option_error). */
SLUICE_API sluice_emitter *sluice_pipeline_route(sluice_instance *ins, const char *option,
                                                 const char *name);

/* ==== Periodic collection ====
 * What collectd's plugin_register_read and Fluent Bit's
 * flb_input_set_collector_time give: the core runs a callback on a timer,
 * pauses it while the input is paused by backpressure, and stops it before
 * the instance stops. A polling input needs nothing but init and this. */

typedef struct sluice_collector sluice_collector;
typedef void (*sluice_collect_fn)(sluice_instance *ins, void *arg);

/* Call `fn(ins, arg)` on the engine thread every `interval` nanoseconds,
 * the first time one interval after the instance starts; with `interval`
 * 0, only when woken (sluice_collector_wake). Call from init or start. The
 * core owns the returned handle until the instance exits. */
SLUICE_API sluice_collector *sluice_collector_add(sluice_instance *ins, sluice_time_t interval,
                                                  sluice_collect_fn fn, void *arg);
/* Run it at the next loop iteration (at start, if not started yet; on
 * resume, if paused), then every interval again. */
SLUICE_API void sluice_collector_wake(sluice_collector *c);
/* Never run it again (an input that is done). */
SLUICE_API void sluice_collector_stop(sluice_collector *c);

/* ==== Filters' accounting ==== */

/* Events a filter dropped on purpose (grep, on_no_match: drop...). */
SLUICE_API void sluice_filter_dropped(sluice_instance *ins, uint64_t n);
/* Events a filter could not process, whatever became of them (kept with
 * a flag, dropped, or dead-lettered). */
SLUICE_API void sluice_filter_failed(sluice_instance *ins, uint64_t n);
/* Write `ev` to the instance's dead letters (dead_letter.path, or a rate
 * limited log line) with `reason`. A filter does not pass it on. An output
 * that finishes after its flush (a notifier that groups what it received)
 * may call it from its worker thread for what failed later; it counts as a
 * failed event of the output. */
SLUICE_API void sluice_dead_letter(sluice_instance *ins, const sluice_event *ev,
                                   const char *reason);

/* Emit, through the input `ins`, one metric event per pipeline and per
 * plugin instance with sluice's own counters (what /metrics serves):
 * name sluice_<input|filter|output|pipeline>, tags pipeline, plugin, id. */
SLUICE_API void sluice_internal_metrics_emit(sluice_instance *ins);

/* ==== Flushes (outputs) ==== */

SLUICE_API sluice_event_kind sluice_flush_kind(const sluice_flush *fl);
SLUICE_API const char *sluice_flush_data(const sluice_flush *fl, size_t *len);
SLUICE_API size_t sluice_flush_count(const sluice_flush *fl);
/* How many times this chunk was tried on this output before (0 at first). */
SLUICE_API unsigned sluice_flush_attempt(const sluice_flush *fl);
/* The worker thread's own loop, for outputs that finish asynchronously. */
SLUICE_API uv_loop_t *sluice_flush_loop(sluice_flush *fl);
/* The worker state from worker_init, or NULL. */
SLUICE_API void *sluice_flush_worker(sluice_flush *fl);

/* Report the outcome, exactly once per flush. `reason` (may be NULL) is
 * logged with RETRY/ERROR and written to the dead letters with ERROR.
 *   SLUICE_OK     delivered, except the events marked below
 *   SLUICE_RETRY  nothing delivered; the whole chunk is tried again later
 *   SLUICE_ERROR  nothing delivered and never will be: dead letters */
SLUICE_API void sluice_flush_done(sluice_flush *fl, int result, const char *reason);

/* Per-event results, before sluice_flush_done(fl, SLUICE_OK, ...): the
 * event at `index` (its position in the chunk, from 0) failed for good and
 * goes to the dead letters with `reason`, or failed transiently and goes
 * into a smaller chunk that is retried. Events not marked were delivered. */
SLUICE_API void sluice_flush_event_failed(sluice_flush *fl, size_t index, const char *reason);
SLUICE_API void sluice_flush_event_retry(sluice_flush *fl, size_t index);
/* The backend asked for a pause before the next attempt (HTTP Retry-After);
 * the retry waits at least this long instead of the computed backoff. */
SLUICE_API void sluice_flush_retry_after(sluice_flush *fl, sluice_time_t delay);

#endif

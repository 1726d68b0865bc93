/* A pipeline at run time: its inputs emit into stage 0, events flow through
 * the filters in order, and land in the open chunk of their kind, which is
 * closed on size or age and handed to the outputs. Engine thread only. */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include <uv.h>
#include "ack.h"
#include "chunk.h"
#include "instance.h"

struct engine;
struct output;
struct out_buffer;

/* Events waiting to enter a filter. */
typedef struct batch {
    msgpack_sbuffer sb;
    size_t count;
} batch;

struct sluice_emitter {
    struct pipeline *p;
    size_t stage;      /* events written here enter filter `stage`; n_filters: the chunk */
    sluice_instance *owner;
    sluice_instance *routed_by; /* another pipeline's filter emitting here, or NULL */
    msgpack_packer pk;
    msgpack_sbuffer *target;
    size_t *target_count;
    size_t start; /* where the current event began in target */
    sluice_event_kind kind;
};

typedef struct pipeline {
    const char *name;
    char *own_name; /* no longer configured (a reload removed it): its name, kept */
    struct engine *engine;
    sluice_instance **inputs, **filters, **outputs; /* each its own allocation */
    size_t n_inputs, n_filters, n_outputs;

    batch (*stages)[SLUICE_EVENT_KINDS]; /* [n_filters]: waiting to enter filter i */
    chunk *open[SLUICE_EVENT_KINDS];
    uv_timer_t age_timer[SLUICE_EVENT_KINDS];
    /* Fan-out, decided once: the outputs that take each kind, and their
     * filesystem buffers (NULL for a memory buffer), or 0 of them. */
    struct output **takers[SLUICE_EVENT_KINDS];
    struct out_buffer **taker_bufs[SLUICE_EVENT_KINDS];
    size_t n_takers[SLUICE_EVENT_KINDS];
    int fs_takers[SLUICE_EVENT_KINDS];

    size_t chunk_size;
    uint64_t flush_interval_ms;
    int paused;
    int has_fs;                 /* some output has a filesystem buffer */
    uint64_t chunk_seq;         /* chunks opened so far */
    chunk_mark *marks_head, *marks_tail;
    ack_token *tokens_head, *tokens_tail;
    size_t inputs_done;         /* inputs that said sluice_input_done */
    uint64_t pauses;            /* times the inputs were paused */
    uint64_t dropped_no_output; /* events of a kind no output accepts */
} pipeline;

void pipeline_init(pipeline *p, struct engine *e);
/* A reload changed its instances (their chunks are closed and its stages
 * empty): new stages, the filters' emitters renumbered, new takers, the
 * service's chunk settings. */
void pipeline_relayout(pipeline *p, size_t old_filters);
/* Its i-th instance counting inputs, then filters, then outputs; NULL
 * past the last. */
sluice_instance *pipeline_instance(const pipeline *p, size_t i);
/* Once its outputs exist: which take which kind. */
void pipeline_set_takers(pipeline *p);
/* Run staged events through the filters into chunks. */
void pipeline_run_filters(pipeline *p);
/* Run the filters and close every open chunk (age timer, shutdown). */
void pipeline_flush(pipeline *p);
/* Pause or resume the inputs, after an output's buffered bytes changed. */
void pipeline_update_backpressure(pipeline *p);
/* Append what the open chunks gained to their files; fsync them too when
 * `fsync_now` (the once-a-second tick of fsync: interval). */
void pipeline_sync_storage(pipeline *p, int fsync_now);
void pipeline_close_handles(pipeline *p);
/* An input said it is done (sluice_input_done). */
void pipeline_input_done(pipeline *p, sluice_instance *in);
void pipeline_free(pipeline *p);

#endif

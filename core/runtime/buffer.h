/* One output's buffer, and its one owner: the bytes of chunks it holds in
 * memory, the bytes of its chunk files, the chunks waiting on disk only
 * (spilled) until memory has room for them, its limits (max_memory,
 * max_disk, when_full), and the answer the pipeline acts on: full (pause
 * the inputs), ok, or low (resume them). storage.c writes and reads the
 * chunk files; this file decides what is held where. Engine thread only. */
#ifndef SLUICE_BUFFER_H
#define SLUICE_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "instance.h"

struct chunk_mark;

/* A chunk that lives on disk only until the output has room for it. */
typedef struct spill_entry {
    char *path;
    uint64_t bytes;
    struct chunk_mark *mark; /* held when the file is not fsynced */
    struct spill_entry *next;
} spill_entry;

typedef enum buffer_level { BUFFER_LOW, BUFFER_OK, BUFFER_FULL } buffer_level;

typedef struct out_buffer {
    sluice_instance *ins; /* its output, for log lines */
    const output_settings *settings;
    int fs;               /* filesystem buffer */
    char *dir;            /* fs: <storage.path>/<pipeline>/<output-id> */
    uint64_t max_memory;  /* buffer.max_memory, or the default chosen */
    size_t held_bytes;    /* chunk bytes held in memory for the output */
    uint64_t disk_bytes;  /* bytes of its chunk files */
    spill_entry *spill_head, *spill_tail;
    size_t spilled;
    uint64_t dropped_events;  /* when_full: drop_oldest */
    uint64_t left_on_disk;    /* events kept for the next start at exit */
    uint64_t storage_errors, recovered_chunks, torn_records, corrupt_chunks;
} out_buffer;

void buffer_init(out_buffer *b, sluice_instance *ins, const output_settings *s);
/* Once the inputs of its pipeline are initialised: the default
 * max_memory, unless the configuration sets one. A window of a few chunks
 * when they all pause without loss (the source holds what waits; memory
 * stays small), a large buffer when one of them loses what comes while it
 * is paused. */
void buffer_choose_memory(out_buffer *b, int inputs_lose_when_paused, size_t chunk_size);
/* Full: the inputs feeding it pause (memory at max_memory; with a
 * filesystem buffer, disk at max_disk, since memory is bounded by
 * spilling). Low: they may resume (3/4 of the memory, 90% of the disk). */
buffer_level buffer_level_of(const out_buffer *b);
/* Whether `bytes` more would take memory past max_memory, or chunks already
 * wait on disk (a new one must wait behind them, to keep the order). */
int buffer_must_spill(const out_buffer *b, size_t bytes);
void buffer_hold(out_buffer *b, size_t bytes);
void buffer_release(out_buffer *b, size_t bytes);
/* The disk usage changed by `delta` bytes (never below 0). */
void buffer_disk(out_buffer *b, int64_t delta);
/* Keep the chunk file `path` (ownership taken) on disk until there is room;
 * `mark` (may be NULL) is held by the entry. Then drop_oldest applies. */
void buffer_spill(out_buffer *b, char *path, uint64_t bytes, struct chunk_mark *mark);
/* The oldest spilled chunk, taken off the queue, when memory has room for
 * more; NULL otherwise. The caller owns it (free it). */
spill_entry *buffer_unspill(out_buffer *b);
/* A reload: the chunks waiting on disk for `from` wait for `to`, before
 * its own (they are older). */
void buffer_take_spill(out_buffer *to, out_buffer *from);
/* Shutdown: count what stays on disk for the next start, free the queue. */
void buffer_abandon(out_buffer *b);
void buffer_free(out_buffer *b);

#endif

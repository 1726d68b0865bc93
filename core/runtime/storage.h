/* The filesystem buffer's files: chunk files under
 * service.storage.path/<pipeline>/<output-id>/, written as the chunk fills,
 * finalised at close, deleted once delivered, and read back at start-up.
 * Works on an output's buffer (buffer.h), which keeps the accounts; knows
 * nothing of outputs. Engine thread only. */
#ifndef SLUICE_STORAGE_H
#define SLUICE_STORAGE_H

#include <stdint.h>
#include "buffer.h"
#include "chunk.h"

/* One taker's file of an open chunk. */
typedef struct chunk_file {
    out_buffer *buf; /* NULL: the taker has no filesystem buffer */
    char *path;      /* NULL once handed over to a flush or a spill entry */
    int fd;          /* open while the chunk is */
    size_t written;  /* payload bytes in the file */
    int dirty;       /* written since the last fsync */
} chunk_file;

/* Create the buffer's directory (and corrupt/) under `root`. Returns 0 or
 * -1 (logged). */
int storage_init(out_buffer *b, const char *root);
/* Open a file of `c` for each of its takers with a filesystem buffer
 * (`bufs[i]`, NULL for the others). */
void storage_chunk_open(chunk *c, out_buffer *const *bufs);
/* Append to the files what `c` gained since the last call. */
void storage_chunk_sync(chunk *c);
/* Sync, then rewrite the header as closed (count, length, CRCs). */
void storage_chunk_close(chunk *c);
/* fsync the files written since the last call (fsync: interval). */
void storage_chunk_fsync(chunk *c);
/* Delete the files of `c` and forget them (an empty chunk). */
void storage_chunk_discard(chunk *c);

/* Write a whole closed chunk as a new file (a retry sub-chunk). Returns
 * its path (caller frees) and size, or NULL (logged). */
char *storage_write(out_buffer *b, const chunk *c, uint64_t *bytes);
/* Read a chunk file back: a closed chunk whole, an unclosed or truncated
 * one up to its last complete event (the torn tail is counted). A corrupt
 * file is moved to corrupt/ and NULL returned; so is an empty one (deleted). */
chunk *storage_read(out_buffer *b, const char *path);
/* Delete a delivered chunk's file. */
void storage_remove(out_buffer *b, const char *path, uint64_t bytes);

/* A chunk file an earlier run left. */
typedef struct stored_chunk {
    char *path;
    uint64_t bytes;
} stored_chunk;

/* The chunk files left in the buffer's directory, oldest first (their
 * bytes counted on the buffer's disk). The caller owns the array and paths. */
stored_chunk *storage_recover(out_buffer *b, size_t *n);
/* Events in a chunk file (for counting what drop_oldest deletes). */
uint32_t storage_count_events(const char *path);

#endif

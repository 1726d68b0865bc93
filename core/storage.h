/* The filesystem buffer: chunk files under
 * service.storage.path/<pipeline>/<output-id>/, written as the chunk fills,
 * finalised at close, deleted once delivered, and read back at start-up.
 * Engine thread only. */
#ifndef SLUICE_STORAGE_H
#define SLUICE_STORAGE_H

#include <stdint.h>
#include "chunk.h"

struct output;
struct pipeline;

/* One output's file of a chunk. */
typedef struct chunk_file {
    struct output *o;
    char *path; /* NULL once handed over to a flush or a spill entry */
    int fd;     /* open while the chunk is */
    size_t written;  /* payload bytes in the file */
    int dirty;       /* written since the last fsync */
} chunk_file;

/* Create the output's directory (and corrupt/). Returns 0 or -1 (logged). */
int storage_output_init(struct output *o, const char *root);
/* Open a file for `c` for every filesystem-buffered output of its pipeline
 * that accepts its kind. */
void storage_chunk_open(struct pipeline *p, chunk *c);
/* Append to the files what `c` gained since the last call. */
void storage_chunk_sync(chunk *c);
/* Sync, then rewrite the header as closed (count, length, CRCs). */
void storage_chunk_close(chunk *c);
/* fsync the files written since the last call (fsync: interval). */
void storage_chunk_fsync(chunk *c);
/* Delete the files of `c` and forget them (an empty chunk). */
void storage_chunk_discard(chunk *c);
/* The file of `c` for output `o`, or NULL. */
chunk_file *storage_chunk_file(chunk *c, const struct output *o);

/* Write a whole closed chunk as a new file of `o` (a retry sub-chunk).
 * Returns its path (caller frees) and size, or NULL (logged). */
char *storage_write(struct output *o, const chunk *c, uint64_t *bytes);
/* Read a chunk file back: a closed chunk whole, an unclosed or truncated
 * one up to its last complete event (the torn tail is counted). A corrupt
 * file is moved to corrupt/ and NULL returned; so is an empty one (deleted). */
chunk *storage_read(struct output *o, const char *path);
/* Delete a delivered chunk's file. */
void storage_remove(struct output *o, const char *path, uint64_t bytes);
/* Queue every chunk file left in the output's directory (oldest first). */
void storage_recover(struct output *o);
/* Events in a chunk file (for counting what drop_oldest deletes). */
uint32_t storage_count_events(const char *path);

#endif

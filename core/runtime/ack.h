/* Acknowledgements: which chunks are safe, and which input tokens that
 * makes safe. Every chunk gets a mark, in the order the pipeline opened
 * them; a mark is held by the open chunk and by every output that has not
 * yet delivered, dead-lettered or durably buffered its events. A token is
 * acknowledged once every mark up to the last chunk opened before it is
 * released, or, for a chunk still open whose every taker has a filesystem
 * buffer, once the bytes the token covers are in all its chunk files
 * (storage says so through ack_mark_written). Engine thread only. */
#ifndef SLUICE_ACK_H
#define SLUICE_ACK_H

#include <stdint.h>
#include "instance.h"
#include "sluice/event.h"

struct pipeline;

typedef struct chunk_mark {
    struct pipeline *p;
    uint64_t seq;
    unsigned holds;
    int open;       /* its chunk is still being filled */
    size_t written; /* open: payload bytes safe in every taker's chunk file */
    struct chunk_mark *prev, *next; /* the pipeline's unreleased marks */
} chunk_mark;

typedef struct ack_token {
    sluice_instance *ins;
    uint64_t token;
    uint64_t needs; /* every chunk with seq <= needs must be safe */
    uint64_t open_seq[SLUICE_EVENT_KINDS];  /* the chunks open then (0: none)... */
    size_t open_bytes[SLUICE_EVENT_KINDS];  /* ...and how full they were */
    struct ack_token *next;
} ack_token;

/* A new mark, held once (by the open chunk). */
chunk_mark *ack_mark_new(struct pipeline *p);
void ack_mark_hold(chunk_mark *m);
/* Drop one hold; the last one may acknowledge tokens. */
void ack_mark_release(chunk_mark *m);
/* The open chunk of `m` has its first `bytes` safe on disk for every
 * output that takes it; may acknowledge tokens. */
void ack_mark_written(chunk_mark *m, size_t bytes);
/* Queue a token covering what `ins` emitted so far. */
void ack_token_add(struct pipeline *p, sluice_instance *ins, uint64_t token);
/* Free what is left (shutdown). */
void ack_free(struct pipeline *p);

#endif

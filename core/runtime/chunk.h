/* Chunks: many events of one kind in one contiguous MessagePack buffer, the
 * unit that travels from a pipeline to its outputs, is retried, and (with a
 * filesystem buffer) is written to disk in the serialized form below. */
#ifndef SLUICE_CHUNK_H
#define SLUICE_CHUNK_H

#include <msgpack.h>
#include "sluice/event.h"

struct pipeline;
struct output;

typedef struct chunk {
    struct pipeline *pipeline;
    sluice_event_kind kind;
    uint32_t count;        /* events */
    msgpack_sbuffer buf;   /* the events, back to back */
    sluice_time_t created;
    unsigned refs;         /* outputs still holding it; engine thread only */
    struct chunk_mark *mark;  /* acknowledgements; NULL for recovered chunks */
    /* The outputs that take it, decided once, when it opens (the
     * pipeline's list for its kind; borrowed). */
    struct output *const *takers;
    size_t n_takers;
    struct chunk_file *files; /* [n_takers] while open, when some taker has a
                               * filesystem buffer; NULL otherwise */
    int all_on_disk;          /* every taker has a file of it */
} chunk;

/* A new empty chunk with room for `reserve` bytes. Pages are touched only as
 * events are written, so a large reserve costs address space, not RSS. */
chunk *chunk_new(struct pipeline *p, sluice_event_kind kind, size_t reserve);
/* Engine thread only (buffers are pooled for reuse). */
void chunk_free(chunk *c);
/* Release the pooled buffers (at exit). */
void chunk_pool_drain(void);

/* ==== Serialized form ====
 * 32-byte header, all integers big-endian, then the payload (the events):
 *   0  magic "SLCK"        8  record count u32   12 payload length u32
 *   4  format version u8   16 created ns i64     24 payload CRC32 u32
 *   5  kind u8             28 header CRC32 u32 (of bytes 0..27)
 *   6  flags u8 (CHUNK_FLAG_CLOSED)
 *   7  reserved u8 (0)
 * A chunk file is written while its chunk is open: first a header without
 * CHUNK_FLAG_CLOSED (count, length and payload CRC 0), then events as they
 * arrive; at close the header is rewritten in place. */
#define CHUNK_MAGIC "SLCK"
#define CHUNK_FORMAT_VERSION 1
#define CHUNK_HEADER_SIZE 32
#define CHUNK_FLAG_CLOSED 0x01

typedef struct chunk_header {
    sluice_event_kind kind;
    uint32_t count;
    uint32_t payload_len;
    sluice_time_t created;
    uint32_t crc;
} chunk_header;

typedef enum chunk_status {
    CHUNK_VALID = 0,
    CHUNK_TRUNCATED,   /* shorter than its header says */
    CHUNK_BAD_MAGIC,
    CHUNK_BAD_VERSION,
    CHUNK_BAD_HEADER,  /* header CRC mismatch or impossible values */
    CHUNK_BAD_PAYLOAD, /* payload CRC mismatch, or events do not parse or count */
    CHUNK_OPEN,        /* a valid header of a chunk that was never closed */
} chunk_status;

const char *chunk_status_str(chunk_status s);

/* The header of a closed chunk, or (open = 1) of one still being written. */
void chunk_encode_header(const chunk *c, int open, unsigned char out[CHUNK_HEADER_SIZE]);
/* Check a serialized chunk (header + payload) and fill `h`. */
chunk_status chunk_decode(const unsigned char *data, size_t len, chunk_header *h);
/* The complete events at the start of `payload`: their byte length, and
 * their number in *count. What follows them is a torn or damaged tail. */
size_t chunk_salvage(const unsigned char *payload, size_t len, uint32_t *count);

#endif

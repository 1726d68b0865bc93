/* Chunk allocation and the serialized chunk format (see chunk.h). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chunk.h"
#include "msgpack_check.h"
#include "xalloc.h"

/* Freed chunk buffers kept for reuse, so that a steady stream of chunks
 * touches the same pages instead of faulting in fresh ones. Engine thread
 * only, like every chunk_new and chunk_free. */
#define CHUNK_POOL_MAX 4

static struct {
    char *data[CHUNK_POOL_MAX];
    size_t alloc[CHUNK_POOL_MAX];
    int n;
    size_t reserve; /* what chunks are made with */
} pool;

chunk *
chunk_new(struct pipeline *p, sluice_event_kind kind, size_t reserve)
{
    chunk *c = xcalloc(1, sizeof *c);
    c->pipeline = p;
    c->kind = kind;
    c->created = sluice_time_now();
    if (reserve > pool.reserve)
        pool.reserve = reserve;
    if (pool.n && pool.alloc[pool.n - 1] >= reserve) {
        pool.n--;
        c->buf.data = pool.data[pool.n];
        c->buf.alloc = pool.alloc[pool.n];
    } else {
        c->buf.data = xmalloc(reserve);
        c->buf.alloc = reserve;
    }
    c->buf.size = 0;
    return c;
}

void
chunk_free(chunk *c)
{
    if (!c)
        return;
    free(c->files);
    /* A buffer a large batch grew is not kept for ordinary chunks. */
    if (pool.n < CHUNK_POOL_MAX && c->buf.alloc <= 2 * pool.reserve) {
        pool.data[pool.n] = c->buf.data;
        pool.alloc[pool.n] = c->buf.alloc;
        pool.n++;
    } else {
        free(c->buf.data);
    }
    free(c);
}

void
chunk_pool_drain(void)
{
    while (pool.n > 0)
        free(pool.data[--pool.n]);
}

const char *
chunk_status_str(chunk_status s)
{
    switch (s) {
    case CHUNK_VALID: return "valid";
    case CHUNK_TRUNCATED: return "truncated";
    case CHUNK_BAD_MAGIC: return "not a sluice chunk (bad magic)";
    case CHUNK_BAD_VERSION: return "unknown chunk format version";
    case CHUNK_BAD_HEADER: return "corrupt header";
    case CHUNK_BAD_PAYLOAD: return "corrupt payload";
    case CHUNK_OPEN: return "never closed";
    }
    return "?";
}

static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
crc(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

void
chunk_encode_header(const chunk *c, int open, unsigned char out[CHUNK_HEADER_SIZE])
{
    memcpy(out, CHUNK_MAGIC, 4);
    out[4] = CHUNK_FORMAT_VERSION;
    out[5] = (unsigned char)c->kind;
    out[6] = open ? 0 : CHUNK_FLAG_CLOSED;
    out[7] = 0;
    put32(out + 8, open ? 0 : c->count);
    put32(out + 12, open ? 0 : (uint32_t)c->buf.size);
    put32(out + 16, (uint32_t)((uint64_t)c->created >> 32));
    put32(out + 20, (uint32_t)c->created);
    put32(out + 24, open ? 0 : crc(c->buf.data, c->buf.size));
    put32(out + 28, crc(out, 28));
}

size_t
chunk_salvage(const unsigned char *payload, size_t len, uint32_t *count)
{
    size_t off = 0;
    uint32_t n = 0;
    while (off < len) {
        uint32_t one;
        size_t k = mp_object_size(payload + off, len - off);
        if (!k || mp_check_events((const char *)payload + off, k, &one) < 0)
            break;
        off += k;
        n++;
    }
    *count = n;
    return off;
}

chunk_status
chunk_decode(const unsigned char *data, size_t len, chunk_header *h)
{
    if (len < 4 || memcmp(data, CHUNK_MAGIC, 4) != 0)
        return len < 4 ? CHUNK_TRUNCATED : CHUNK_BAD_MAGIC;
    if (len < CHUNK_HEADER_SIZE)
        return CHUNK_TRUNCATED;
    if (data[4] != CHUNK_FORMAT_VERSION)
        return CHUNK_BAD_VERSION;
    if (get32(data + 28) != crc(data, 28) || data[5] >= SLUICE_EVENT_KINDS)
        return CHUNK_BAD_HEADER;
    h->kind = (sluice_event_kind)data[5];
    h->count = get32(data + 8);
    h->payload_len = get32(data + 12);
    h->created = (sluice_time_t)((uint64_t)get32(data + 16) << 32 | get32(data + 20));
    h->crc = get32(data + 24);
    if (!(data[6] & CHUNK_FLAG_CLOSED))
        return CHUNK_OPEN;
    if (len - CHUNK_HEADER_SIZE < h->payload_len)
        return CHUNK_TRUNCATED;
    const unsigned char *payload = data + CHUNK_HEADER_SIZE;
    if (crc(payload, h->payload_len) != h->crc)
        return CHUNK_BAD_PAYLOAD;

    /* The CRC matched, but the writer may have been buggy: check the
     * structure before anything allocates from a declared size. */
    uint32_t n;
    if (mp_check_events((const char *)payload, h->payload_len, &n) < 0 || n != h->count)
        return CHUNK_BAD_PAYLOAD;
    return CHUNK_VALID;
}

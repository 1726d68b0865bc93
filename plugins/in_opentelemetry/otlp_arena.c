/* The bump allocator a request's decoded messages live in: protobuf-c's
 * unpacking and the JSON decoder allocate from it, nothing is freed one by
 * one, and the whole request's memory goes in one call. */
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>

#include <sluice/alloc.h>

#include "otlp_internal.h"

#define ALIGN alignof(max_align_t)
#define FIRST_BLOCK 16384
#define MAX_BLOCK (1u << 20)

struct otlp_block {
    struct otlp_block *next;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

/* Each thread keeps the blocks of its last requests, up to SPARE_MAX
 * bytes, for the next ones: fresh memory for every request costs more in
 * page faults than the decoding itself. Freed when the thread ends. */
#define SPARE_MAX (8u << 20)

struct spare {
    struct otlp_block *blocks;
    size_t bytes;
};

static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
spare_free(void *p)
{
    struct spare *s = p;
    while (s->blocks) {
        struct otlp_block *next = s->blocks->next;
        free(s->blocks);
        s->blocks = next;
    }
    free(s);
}

static void
spare_init(void)
{
    pthread_key_create(&spare_key, spare_free);
}

static struct spare *
spare(void)
{
    pthread_once(&spare_once, spare_init);
    struct spare *s = pthread_getspecific(spare_key);
    if (!s) {
        s = sluice_calloc(1, sizeof *s);
        pthread_setspecific(spare_key, s);
    }
    return s;
}

static struct otlp_block *
block_new(size_t cap)
{
    struct spare *s = spare();
    for (struct otlp_block **pp = &s->blocks; *pp; pp = &(*pp)->next)
        if ((*pp)->cap >= cap) {
            struct otlp_block *b = *pp;
            *pp = b->next;
            s->bytes -= b->cap;
            return b;
        }
    struct otlp_block *b = sluice_malloc(sizeof *b + cap);
    b->cap = cap;
    return b;
}

static void
block_free(struct otlp_block *b)
{
    struct spare *s = spare();
    if (s->bytes + b->cap > SPARE_MAX) {
        free(b);
        return;
    }
    b->next = s->blocks;
    s->blocks = b;
    s->bytes += b->cap;
}

static void *
pc_alloc(void *data, size_t size)
{
    return otlp_arena_alloc(data, size);
}

static void
pc_free(void *data, void *p)
{
}

void
otlp_arena_init(otlp_arena *a)
{
    a->blocks = NULL;
    a->used = a->cap = 0;
    a->pc.alloc = pc_alloc;
    a->pc.free = pc_free;
    a->pc.allocator_data = a;
}

void *
otlp_arena_alloc(otlp_arena *a, size_t n)
{
    n = (n + ALIGN - 1) & ~(ALIGN - 1);
    if (n == 0) n = ALIGN;
    if (a->cap - a->used < n) {
        size_t cap = a->cap ? a->cap * 2 : FIRST_BLOCK;
        if (cap > MAX_BLOCK) cap = MAX_BLOCK;
        if (cap < n) cap = n;
        struct otlp_block *b = block_new(cap);
        b->next = a->blocks;
        a->blocks = b;
        a->used = 0;
        a->cap = b->cap;
    }
    void *p = a->blocks->data + a->used;
    a->used += n;
    return p;
}

void
otlp_arena_destroy(otlp_arena *a)
{
    while (a->blocks) {
        struct otlp_block *next = a->blocks->next;
        block_free(a->blocks);
        a->blocks = next;
    }
    a->used = a->cap = 0;
}

/* Output buffers (see buffer.h). */
#include <stdlib.h>

#include "ack.h"
#include "buffer.h"
#include "storage.h"
#include "xalloc.h"

/* The default windows (see buffer_choose_memory). */
#define WINDOW_CHUNKS 4
#define LOSSY_MAX_MEMORY (UINT64_C(64) << 20)

void
buffer_init(out_buffer *b, sluice_instance *ins, const output_settings *s)
{
    b->ins = ins;
    b->settings = s;
    b->fs = s->buffer_type == BUFFER_FILESYSTEM;
    b->max_memory = s->max_memory ? (uint64_t)s->max_memory : LOSSY_MAX_MEMORY;
}

void
buffer_choose_memory(out_buffer *b, int inputs_lose_when_paused, size_t chunk_size)
{
    if (b->settings->max_memory)
        return;
    /* A filesystem buffer absorbs what the output cannot take on disk, and
     * a chunk past max_memory is read back from there (CPU, not RSS): it
     * keeps the large window. */
    int window = !inputs_lose_when_paused && !b->fs;
    b->max_memory = window ? WINDOW_CHUNKS * (uint64_t)chunk_size : LOSSY_MAX_MEMORY;
    sluice_debug(b->ins, "buffer.max_memory: %llu bytes (%s)", (unsigned long long)b->max_memory,
                 b->fs                     ? "a filesystem buffer"
                 : inputs_lose_when_paused ? "an input loses what comes while it is paused"
                                           : "every input pauses without loss");
}

buffer_level
buffer_level_of(const out_buffer *b)
{
    if (b->fs) {
        uint64_t max = (uint64_t)b->settings->max_disk;
        return b->disk_bytes >= max                ? BUFFER_FULL
               : b->disk_bytes >= max - max / 10 ? BUFFER_OK
                                                   : BUFFER_LOW;
    }
    /* Resume at three quarters: with a window of a few chunks, one
     * delivered is room for the next, and the output never waits on an
     * input that is still paused. */
    return b->held_bytes >= b->max_memory                       ? BUFFER_FULL
           : b->held_bytes > b->max_memory - b->max_memory / 4 ? BUFFER_OK
                                                                : BUFFER_LOW;
}

int
buffer_must_spill(const out_buffer *b, size_t bytes)
{
    return b->spill_head || b->held_bytes + bytes > b->max_memory;
}

void
buffer_hold(out_buffer *b, size_t bytes)
{
    b->held_bytes += bytes;
}

void
buffer_release(out_buffer *b, size_t bytes)
{
    b->held_bytes -= bytes < b->held_bytes ? bytes : b->held_bytes;
}

void
buffer_disk(out_buffer *b, int64_t delta)
{
    if (delta < 0 && (uint64_t)-delta > b->disk_bytes)
        b->disk_bytes = 0;
    else
        b->disk_bytes += (uint64_t)delta;
}

/* when_full: drop_oldest: delete spilled chunks until under max_disk;
 * every dropped event is counted and logged. */
static void
drop_oldest(out_buffer *b)
{
    if (!b->fs || b->settings->when_full != WHEN_FULL_DROP_OLDEST)
        return;
    while (b->disk_bytes >= (uint64_t)b->settings->max_disk && b->spill_head) {
        spill_entry *s = b->spill_head;
        b->spill_head = s->next;
        if (!b->spill_head)
            b->spill_tail = NULL;
        b->spilled--;
        uint32_t n = storage_count_events(s->path);
        storage_remove(b, s->path, s->bytes);
        b->dropped_events += n;
        if (s->mark)
            ack_mark_release(s->mark); /* dropped and counted: nothing left to wait for */
        sluice_warn(b->ins, "buffer at max_disk: dropped the oldest chunk, %u events (%llu "
                            "dropped so far)",
                    n, (unsigned long long)b->dropped_events);
        free(s->path);
        free(s);
    }
}

void
buffer_spill(out_buffer *b, char *path, uint64_t bytes, struct chunk_mark *mark)
{
    spill_entry *s = xcalloc(1, sizeof *s);
    s->path = path;
    s->bytes = bytes;
    s->mark = mark;
    if (b->spill_tail)
        b->spill_tail->next = s;
    else
        b->spill_head = s;
    b->spill_tail = s;
    b->spilled++;
    drop_oldest(b);
}

spill_entry *
buffer_unspill(out_buffer *b)
{
    spill_entry *s = b->spill_head;
    if (!s || b->held_bytes >= b->max_memory)
        return NULL;
    b->spill_head = s->next;
    if (!b->spill_head)
        b->spill_tail = NULL;
    b->spilled--;
    return s;
}

void
buffer_take_spill(out_buffer *to, out_buffer *from)
{
    if (!from->spill_head)
        return;
    uint64_t bytes = 0;
    for (spill_entry *s = from->spill_head; s; s = s->next)
        bytes += s->bytes;
    from->spill_tail->next = to->spill_head;
    if (!to->spill_tail)
        to->spill_tail = from->spill_tail;
    to->spill_head = from->spill_head;
    to->spilled += from->spilled;
    from->spill_head = from->spill_tail = NULL;
    from->spilled = 0;
    buffer_disk(from, -(int64_t)bytes);
    buffer_disk(to, (int64_t)bytes);
}

void
buffer_abandon(out_buffer *b)
{
    while (b->spill_head) {
        spill_entry *s = b->spill_head;
        b->spill_head = s->next;
        b->left_on_disk += storage_count_events(s->path);
        free(s->path);
        free(s);
    }
    b->spill_tail = NULL;
    b->spilled = 0;
}

void
buffer_free(out_buffer *b)
{
    free(b->dir);
    b->dir = NULL;
}

/* Test output "in_order": SLUICE_PLUGIN_ORDERED, with several workers;
 * fails the first attempt of every other chunk with RETRY, and counts the
 * events that arrive with a seq lower than one already delivered (what a
 * remote write receiver refuses). Read through in_order_stats(). */
#include <stdatomic.h>

#include <sluice/sluice.h>

static atomic_ullong delivered, out_of_order, chunks;
static atomic_llong last_seq = -1;
static atomic_int busy;

SLUICE_PLUGIN_EXPORT void
in_order_stats(unsigned long long *n, unsigned long long *late, int *overlapped)
{
    *n = delivered;
    *late = out_of_order;
    *overlapped = busy < 0;
}

static void
in_order_flush(void *ctx, sluice_flush *fl)
{
    (void)ctx;
    /* Two flushes at once would break the order: say so. */
    if (atomic_fetch_add(&busy, 1) != 0)
        busy = -1000;
    if (sluice_flush_attempt(fl) == 0 && atomic_fetch_add(&chunks, 1) % 2 == 0) {
        atomic_fetch_sub(&busy, 1);
        sluice_flush_done(fl, SLUICE_RETRY, "in_order fails every other first attempt");
        return;
    }
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1) {
        const msgpack_object *seq = sluice_record_get(&ev.body, "seq");
        if (!seq || seq->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            continue;
        if ((long long)seq->via.u64 < last_seq)
            out_of_order++;
        else
            last_seq = (long long)seq->via.u64;
        delivered++;
    }
    sluice_event_iter_destroy(&it);
    atomic_fetch_sub(&busy, 1);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "in_order",
    .description = "Test output that needs its chunks in order.",
    .accepts = SLUICE_ACCEPTS_LOGS,
    .flush = in_order_flush,
    .flags = SLUICE_PLUGIN_ORDERED,
};

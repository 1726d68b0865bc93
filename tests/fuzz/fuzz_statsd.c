/* libFuzzer target: the statsd input's line parser and aggregation store.
 * The first byte picks the modes (delta or cumulative counters, summary or
 * histogram timings, each delete_*); the rest is lines, fed to a store
 * with small limits (line by line, or in batches when the size is odd)
 * and flushed every 8 lines, every event read back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_statsd/statsd_agg.h"
#include "../../plugins/in_statsd/statsd_parse.h"
#include "sluice/event.h"

static msgpack_packer pk;

static msgpack_packer *
begin(void *arg, sluice_time_t t)
{
    msgpack_packer_init(&pk, arg, msgpack_sbuffer_write);
    sluice_event_pack_head(&pk, t);
    return &pk;
}

static void
end(void *arg)
{
    (void)arg;
}

static void
flush(statsd_agg *a, sluice_time_t now)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    statsd_sink sink = {begin, end, &sb};
    size_t n = statsd_agg_flush(a, now, &sink), seen = 0;
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, sb.data, sb.size);
    while (sluice_event_next(&it, &ev) == 1) {
        if (!sluice_record_get(&ev.body, "fields"))
            abort();
        seen++;
    }
    sluice_event_iter_destroy(&it);
    if (seen != n)
        abort();
    msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double pct[] = {50, 99.9, 100};
    static const double bounds[] = {1, 10, 100};
    static char *add[] = {"host", "h", NULL};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    statsd_agg_config c = {
        .counters_delta = mode & 1,
        .timer_histogram = (mode >> 1) & 1,
        .percentiles = pct,
        .n_percentiles = 3,
        .buckets = bounds,
        .n_buckets = 3,
        .max_timer_samples = 4,
        .max_set_values = 8,
        .max_series = 16,
        .delete_counters = (mode >> 2) & 1,
        .delete_gauges = (mode >> 3) & 1,
        .delete_timings = (mode >> 4) & 1,
        .delete_sets = (mode >> 5) & 1,
        .expire_after = (mode >> 6) & 1 ? 20 * SLUICE_NSEC_PER_SEC : 0,
        .add_tags = (mode >> 7) & 1 ? add : NULL,
    };
    statsd_agg *a = statsd_agg_new(&c);
    /* Odd sizes go through the batch path, even ones line by line. */
    static statsd_line batch[STATSD_AGG_BATCH];
    char *copies[STATSD_AGG_BATCH];
    size_t n_batch = 0, n_copies = 0, lines = 0;
    int batched = size & 1;
    char err[160];
    const char *p = (const char *)data + 1, *endp = (const char *)data + size;
    sluice_time_t now = SLUICE_NSEC_PER_SEC;
    while (p < endp) {
        const char *nl = memchr(p, '\n', (size_t)(endp - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(endp - p);
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
        memcpy(copy, p, n);
        copies[n_copies++] = copy;
        if (statsd_parse_line(copy, n, &batch[n_batch], err, sizeof err) == STATSD_LINE_OK) {
            if (batched)
                n_batch++;
            else
                statsd_agg_add(a, &batch[0]);
        }
        lines++;
        if (!batched || n_copies == STATSD_AGG_BATCH || lines % 8 == 0) {
            statsd_agg_add_batch(a, batch, n_batch);
            n_batch = 0;
            while (n_copies) /* the store must hold nothing of the lines */
                free(copies[--n_copies]);
        }
        if (lines % 8 == 0) {
            now += 10 * SLUICE_NSEC_PER_SEC;
            flush(a, now);
        }
        p += n + 1;
    }
    statsd_agg_add_batch(a, batch, n_batch);
    while (n_copies)
        free(copies[--n_copies]);
    flush(a, now + 10 * SLUICE_NSEC_PER_SEC);
    flush(a, now + 40 * SLUICE_NSEC_PER_SEC);
    statsd_agg_free(a);
    return 0;
}

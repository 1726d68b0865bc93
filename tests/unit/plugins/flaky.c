/* Test output "flaky": fails the first `fail_attempts` attempts of every
 * chunk with RETRY, then accepts it, counting how often each `seq` arrived.
 * Per-event results: events with seq % fail_every == 0 fail for good, and
 * those with seq % retry_every == 1 are refused once (with `retry_after`).
 * The counts are read by the tests through flaky_seen(). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#define FLAKY_MAX_SEQ (1u << 20)

typedef struct flaky_config {
    int64_t fail_attempts;
    int64_t fail_every;
    int64_t retry_every;
    int64_t retry_after;
} flaky_config;

static const sluice_option flaky_options[] = {
    {.name = "fail_attempts", .type = SLUICE_OPT_INT, .def = "1",
     .offset = offsetof(flaky_config, fail_attempts),
     .help = "Attempts of each chunk that fail before it is accepted."},
    {.name = "fail_every", .type = SLUICE_OPT_INT, .def = "0",
     .offset = offsetof(flaky_config, fail_every), .help = "seq % N == 0 fails for good."},
    {.name = "retry_every", .type = SLUICE_OPT_INT, .def = "0",
     .offset = offsetof(flaky_config, retry_every), .help = "seq % N == 1 is refused once."},
    {.name = "retry_after", .type = SLUICE_OPT_DURATION, .def = "0",
     .offset = offsetof(flaky_config, retry_after), .help = "Retry-After for refused events."},
    SLUICE_OPTIONS_END,
};

static atomic_uchar seen[FLAKY_MAX_SEQ];
static atomic_ullong metric_events;

SLUICE_PLUGIN_EXPORT unsigned
flaky_seen(uint64_t seq)
{
    return seq < FLAKY_MAX_SEQ ? seen[seq] : 0;
}

SLUICE_PLUGIN_EXPORT unsigned long long
flaky_metric_events(void)
{
    return metric_events;
}

SLUICE_PLUGIN_EXPORT void
flaky_reset(void)
{
    for (size_t i = 0; i < FLAKY_MAX_SEQ; i++)
        seen[i] = 0;
    metric_events = 0;
}

static int
flaky_init(sluice_instance *ins, const void *config, void **ctx)
{
    *ctx = (void *)config;
    return SLUICE_OK;
}

static void
flaky_flush(void *ctx, sluice_flush *fl)
{
    const flaky_config *cfg = ctx;
    if (sluice_flush_attempt(fl) < (unsigned)cfg->fail_attempts) {
        sluice_flush_done(fl, SLUICE_RETRY, "flaky by design");
        return;
    }
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    for (size_t i = 0; sluice_event_next(&it, &ev) == 1; i++) {
        if (sluice_flush_kind(fl) == SLUICE_EVENT_METRIC) {
            metric_events++;
            continue;
        }
        const msgpack_object *seq = sluice_record_get(&ev.body, "seq");
        if (!seq || seq->type != MSGPACK_OBJECT_POSITIVE_INTEGER || seq->via.u64 >= FLAKY_MAX_SEQ)
            continue;
        uint64_t s = seq->via.u64;
        if (cfg->fail_every && s % (uint64_t)cfg->fail_every == 0) {
            char why[64];
            snprintf(why, sizeof why, "seq %llu refused", (unsigned long long)s);
            sluice_flush_event_failed(fl, i, why);
        } else if (cfg->retry_every && s % (uint64_t)cfg->retry_every == 1 &&
                   sluice_flush_attempt(fl) == 0) {
            sluice_flush_event_retry(fl, i);
            if (cfg->retry_after)
                sluice_flush_retry_after(fl, cfg->retry_after);
        } else {
            seen[s]++;
        }
    }
    sluice_event_iter_destroy(&it);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "flaky",
    .description = "Test output that fails each chunk's first attempts.",
    .options = flaky_options,
    .config_size = sizeof(flaky_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = flaky_init,
    .flush = flaky_flush,
};

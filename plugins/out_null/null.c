/* out_null: counts and discards every event. For benchmarks and for
 * pipelines whose only purpose is a filter's side effect. */
#include <stdatomic.h>
#include <stdlib.h>

#include <sluice/sluice.h>

typedef struct null_ctx {
    sluice_instance *ins;
    atomic_ullong events;
} null_ctx;

static int
null_init(sluice_instance *ins, const void *config, void **ctx)
{
    null_ctx *c = sluice_calloc(1, sizeof *c);
    c->ins = ins;
    *ctx = c;
    return SLUICE_OK;
}

static void
null_flush(void *ctx, sluice_flush *fl)
{
    null_ctx *c = ctx;
    atomic_fetch_add_explicit(&c->events, sluice_flush_count(fl), memory_order_relaxed);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

static void
null_exit(void *ctx)
{
    null_ctx *c = ctx;
    sluice_debug(c->ins, "discarded %llu events", (unsigned long long)c->events);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "null",
    .description = "Discard every event, counting them.",
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = null_init,
    .flush = null_flush,
    .exit = null_exit,
};

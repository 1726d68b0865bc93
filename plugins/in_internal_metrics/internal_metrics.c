/* in_internal_metrics: sluice's own counters (the ones /metrics serves) as
 * metric events every `interval`, so a pipeline can ship them to InfluxDB or
 * Graphite like any other metrics. */
#include <stdlib.h>

#include <sluice/sluice.h>

typedef struct im_config {
    int64_t interval;
} im_config;

static const sluice_option im_options[] = {
    {.name = "interval", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = 10 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(im_config, interval), .help = "How often to report."},
    SLUICE_OPTIONS_END,
};

typedef struct im_ctx {
    sluice_instance *ins;
    uint64_t interval_ms;
    uv_timer_t timer;
} im_ctx;

static int
im_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const im_config *cfg = config;
    im_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    c->ins = ins;
    c->interval_ms = (uint64_t)(cfg->interval / SLUICE_NSEC_PER_MSEC);
    *ctxp = c;
    return SLUICE_OK;
}

static void
on_tick(uv_timer_t *t)
{
    im_ctx *c = t->data;
    sluice_internal_metrics_emit(c->ins);
}

static int
im_start(void *ctx)
{
    im_ctx *c = ctx;
    uv_timer_init(sluice_instance_loop(c->ins), &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, on_tick, c->interval_ms, c->interval_ms);
    return SLUICE_OK;
}

static void
im_pause(void *ctx)
{
    im_ctx *c = ctx;
    uv_timer_stop(&c->timer);
}

static void
im_resume(void *ctx)
{
    im_ctx *c = ctx;
    uv_timer_start(&c->timer, on_tick, c->interval_ms, c->interval_ms);
}

static void
im_stop(void *ctx)
{
    im_ctx *c = ctx;
    uv_close((uv_handle_t *)&c->timer, NULL);
}

static void
im_exit(void *ctx)
{
    free(ctx);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_METRICS,
    .name = "internal_metrics",
    .description = "sluice's own counters as metric events, every interval.",
    .options = im_options,
    .config_size = sizeof(im_config),
    .init = im_init,
    .start = im_start,
    .pause = im_pause,
    .resume = im_resume,
    .stop = im_stop,
    .exit = im_exit,
};

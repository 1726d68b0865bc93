/* in_internal_metrics: sluice's own counters (the ones /metrics serves) as
 * metric events every `interval`, so a pipeline can ship them to InfluxDB or
 * Graphite like any other metrics. A polling input: init registers a
 * collector, and the core runs, pauses and stops it. */
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

static void
collect(sluice_instance *ins, void *arg)
{
    (void)arg;
    sluice_internal_metrics_emit(ins);
}

static int
im_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const im_config *cfg = config;
    sluice_collector_add(ins, cfg->interval, collect, NULL);
    *ctxp = NULL;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_METRICS,
    .name = "internal_metrics",
    .description = "sluice's own counters as metric events, every interval.",
    .options = im_options,
    .config_size = sizeof(im_config),
    .init = im_init,
};

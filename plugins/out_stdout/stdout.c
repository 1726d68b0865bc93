/* out_stdout: writes events to standard output, one per line, as JSON,
 * logfmt, RFC 5424 syslog or MessagePack. A reader that goes away
 * (`sluice ... | head`) is said once; later events fail to the dead
 * letters. */
#include <stdlib.h>

#include <sluice/sluice.h>

#include "line_output.h"

typedef struct stdout_config {
    int format;
    char *time_key;
} stdout_config;

static const sluice_option stdout_options[] = {
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "json", .values = sluice_format_names,
     .offset = offsetof(stdout_config, format), .help = "How each event is written."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .def = "time",
     .offset = offsetof(stdout_config, time_key),
     .help = "JSON and logfmt: key holding the event time (RFC 3339, ns); empty to omit."},
    SLUICE_OPTIONS_END,
};

static int
stdout_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const stdout_config *cfg = config;
    line_output *lo = sluice_malloc(sizeof *lo);
    line_output_init(lo, ins, cfg->format, cfg->time_key, NULL, 0);
    *ctxp = lo;
    return SLUICE_OK;
}

static void
stdout_flush(void *ctx, sluice_flush *fl)
{
    line_output_flush(ctx, fl);
}

static void
stdout_exit(void *ctx)
{
    line_output_close(ctx);
    free(ctx);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "stdout",
    .description = "Write events to standard output, one per line.",
    .options = stdout_options,
    .config_size = sizeof(stdout_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = stdout_init,
    .flush = stdout_flush,
    .exit = stdout_exit,
};

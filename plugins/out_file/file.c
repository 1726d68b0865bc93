/* out_file: appends events to a file, one per line, as JSON, logfmt,
 * RFC 5424 syslog or MessagePack. SIGUSR1 reopens the file, so logrotate
 * can move it away (`postrotate: kill -USR1 <pid>`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "line_output.h"

typedef struct file_config {
    char *path;
    int format;
    char *time_key;
    int64_t mode;
} file_config;

static const sluice_option file_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(file_config, path), .help = "The file to append to; it and its directory are created if absent."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "json", .values = sluice_format_names,
     .offset = offsetof(file_config, format), .help = "How each event is written."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .def = "time",
     .offset = offsetof(file_config, time_key),
     .help = "JSON and logfmt: key holding the event time (RFC 3339, ns); empty to omit."},
    {.name = "mode", .type = SLUICE_OPT_INT, .def = "0644", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 07777, .offset = offsetof(file_config, mode),
     .help = "Permissions of a file this output creates."},
    SLUICE_OPTIONS_END,
};

static int
file_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const file_config *cfg = config;
    if (!*cfg->path) {
        sluice_option_error(ins, "path", "must not be empty");
        return SLUICE_ERROR;
    }
    /* The directory is made at the first write; say now if it cannot be. */
    char *dir = sluice_strdup(cfg->path);
    char *slash = strrchr(dir, '/');
    int bad = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        if (sluice_dir_creatable(dir) < 0) {
            sluice_option_error(ins, "path", "cannot create the directory of '%s': %s",
                                cfg->path, strerror(errno));
            bad = 1;
        }
    }
    free(dir);
    if (bad)
        return SLUICE_ERROR;
    line_output *lo = sluice_malloc(sizeof *lo);
    line_output_init(lo, ins, cfg->format, cfg->time_key, cfg->path, (unsigned)cfg->mode);
    *ctxp = lo;
    return SLUICE_OK;
}

static void
file_flush(void *ctx, sluice_flush *fl)
{
    line_output_flush(ctx, fl);
}

static void
file_reopen(void *ctx)
{
    line_output_reopen(ctx);
}

static void
file_exit(void *ctx)
{
    line_output_close(ctx);
    free(ctx);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "file",
    .description = "Append events to a file, one per line; SIGUSR1 reopens it.",
    .options = file_options,
    .config_size = sizeof(file_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = file_init,
    .flush = file_flush,
    .reopen = file_reopen,
    .exit = file_exit,
};

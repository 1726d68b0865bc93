/* out_stdout: writes events to standard output, one per line, as JSON,
 * logfmt, RFC 5424 syslog or MessagePack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sluice.h>

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

typedef struct stdout_ctx {
    sluice_instance *ins;
    sluice_format_opts fmt;
    uv_mutex_t lock; /* one chunk's lines stay together with several workers */
} stdout_ctx;

static int
stdout_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const stdout_config *cfg = config;
    stdout_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    c->ins = ins;
    c->fmt.format = (sluice_format)cfg->format;
    c->fmt.time_key = cfg->time_key && *cfg->time_key ? cfg->time_key : NULL;
    uv_mutex_init(&c->lock);
    *ctxp = c;
    return SLUICE_OK;
}

static void
stdout_flush(void *ctx, sluice_flush *fl)
{
    stdout_ctx *c = ctx;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_format_events(&out, &c->fmt, data, len, NULL);
    uv_mutex_lock(&c->lock);
    size_t off = 0;
    int err = 0;
    while (off < out.len) {
        ssize_t n = write(STDOUT_FILENO, out.data + off, out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = errno ? errno : EIO;
            break;
        }
        off += (size_t)n;
    }
    uv_mutex_unlock(&c->lock);
    sluice_buf_free(&out);
    if (err)
        sluice_flush_done(fl, SLUICE_ERROR, strerror(err));
    else
        sluice_flush_done(fl, SLUICE_OK, NULL);
}

static void
stdout_exit(void *ctx)
{
    stdout_ctx *c = ctx;
    uv_mutex_destroy(&c->lock);
    free(c);
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

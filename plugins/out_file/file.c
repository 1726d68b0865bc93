/* out_file: appends events to a file, one per line, as JSON, logfmt,
 * RFC 5424 syslog or MessagePack. SIGUSR1 reopens the file, so logrotate
 * can move it away (`postrotate: kill -USR1 <pid>`). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sluice.h>

typedef struct file_config {
    char *path;
    int format;
    char *time_key;
    int64_t mode;
} file_config;

static const sluice_option file_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(file_config, path), .help = "The file to append to; created if absent."},
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

typedef struct file_ctx {
    sluice_instance *ins;
    const file_config *cfg;
    sluice_format_opts fmt;
    uv_mutex_t lock; /* fd, and whole chunks written one at a time */
    int fd;
    atomic_int reopen;
} file_ctx;

static int
file_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const file_config *cfg = config;
    if (!*cfg->path) {
        sluice_error(ins, "path: must not be empty");
        return SLUICE_ERROR;
    }
    file_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    c->ins = ins;
    c->cfg = cfg;
    c->fd = -1;
    c->fmt.format = (sluice_format)cfg->format;
    c->fmt.time_key = cfg->time_key && *cfg->time_key ? cfg->time_key : NULL;
    uv_mutex_init(&c->lock);
    *ctxp = c;
    return SLUICE_OK;
}

/* Called with the lock held. */
static int
ensure_open(file_ctx *c)
{
    if (atomic_exchange(&c->reopen, 0) && c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        sluice_info(c->ins, "reopening %s", c->cfg->path);
    }
    if (c->fd >= 0)
        return 0;
    c->fd = open(c->cfg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, (mode_t)c->cfg->mode);
    return c->fd < 0 ? -errno : 0;
}

static void
file_flush(void *ctx, sluice_flush *fl)
{
    file_ctx *c = ctx;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_buf out = SLUICE_BUF_INIT;
    int bad = 0;
    sluice_format_events(&out, &c->fmt, data, len, &bad);
    if (bad)
        sluice_warn(c->ins, "a chunk ended in a malformed event; it was skipped");

    uv_mutex_lock(&c->lock);
    int err = -ensure_open(c);
    size_t off = 0;
    while (!err && off < out.len) {
        ssize_t n = write(c->fd, out.data + off, out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            err = n < 0 ? errno : EIO;
        else
            off += (size_t)n;
    }
    uv_mutex_unlock(&c->lock);
    sluice_buf_free(&out);
    if (!err) {
        sluice_flush_done(fl, SLUICE_OK, NULL);
        return;
    }
    char reason[512];
    snprintf(reason, sizeof reason, "%s %s: %s", off ? "writing" : "opening", c->cfg->path,
             strerror(err));
    /* A partial write already appended some lines; retrying repeats them,
     * which beats losing the rest. */
    sluice_flush_done(fl, SLUICE_RETRY, reason);
}

static void
file_reopen(void *ctx)
{
    file_ctx *c = ctx;
    atomic_store(&c->reopen, 1);
}

static void
file_exit(void *ctx)
{
    file_ctx *c = ctx;
    if (c->fd >= 0)
        close(c->fd);
    uv_mutex_destroy(&c->lock);
    free(c);
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

/* Line outputs (see line_output.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "line_output.h"

void
line_output_init(line_output *lo, sluice_instance *ins, int format, const char *time_key,
                 const char *path, unsigned mode)
{
    memset(lo, 0, sizeof *lo);
    lo->ins = ins;
    lo->fmt.format = (sluice_format)format;
    lo->fmt.time_key = time_key && *time_key ? time_key : NULL;
    lo->path = path;
    lo->mode = mode;
    lo->fd = path ? -1 : STDOUT_FILENO;
    uv_mutex_init(&lo->lock);
}

/* The file, opened (and its directory made) if it is not; lock held.
 * 0, or an errno. */
static int
ensure_open(line_output *lo)
{
    if (!lo->path)
        return 0;
    if (atomic_exchange(&lo->reopen, 0) && lo->fd >= 0) {
        close(lo->fd);
        lo->fd = -1;
        sluice_info(lo->ins, "reopening %s", lo->path);
    }
    if (lo->fd >= 0)
        return 0;
    if (sluice_mkdirs_for(lo->path, 0755) < 0)
        return errno;
    lo->fd = open(lo->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, (mode_t)lo->mode);
    return lo->fd < 0 ? errno : 0;
}

void
line_output_flush(line_output *lo, sluice_flush *fl)
{
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_buf out = SLUICE_BUF_INIT;
    int bad = 0;
    sluice_format_events(&out, &lo->fmt, data, len, &bad);
    if (bad)
        sluice_warn(lo->ins, "a chunk ended in a malformed event; it was skipped");

    uv_mutex_lock(&lo->lock);
    int was_gone = lo->gone, opened = 0, err = 0;
    if (!was_gone && !(err = ensure_open(lo))) {
        opened = 1;
        if (sluice_write_all(lo->fd, out.data, out.len) < 0)
            err = errno;
        lo->gone = err == EPIPE;
    }
    uv_mutex_unlock(&lo->lock);
    sluice_buf_free(&out);

    const char *what = lo->path ? lo->path : "standard output";
    char reason[512];
    if (was_gone || lo->gone) {
        if (!was_gone)
            sluice_error(lo->ins, "%s is closed: its reader went away; from now on this output's "
                                  "events fail (counted, and sent to its dead letters)",
                         what);
        snprintf(reason, sizeof reason, "%s is closed (its reader went away)", what);
        sluice_flush_done(fl, SLUICE_ERROR, reason);
    } else if (err) {
        snprintf(reason, sizeof reason, "%s %s: %s", opened ? "writing" : "opening", what,
                 strerror(err));
        /* A partial write already appended some lines; retrying repeats
         * them, which beats losing the rest. */
        sluice_flush_done(fl, SLUICE_RETRY, reason);
    } else {
        sluice_flush_done(fl, SLUICE_OK, NULL);
    }
}

void
line_output_reopen(line_output *lo)
{
    atomic_store(&lo->reopen, 1);
}

void
line_output_close(line_output *lo)
{
    if (lo->path && lo->fd >= 0)
        close(lo->fd);
    lo->fd = -1;
    uv_mutex_destroy(&lo->lock);
}

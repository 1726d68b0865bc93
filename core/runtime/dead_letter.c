/* Writing dead letters (see dead_letter.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dead_letter.h"
#include "instance.h"
#include "sluice/format.h"
#include "sluice/fs.h"
#include "sluice/log.h"

#define LOG_LINES_PER_MINUTE 10

void
dead_letter_init(dead_letter *dl, const sluice_instance *ins, const char *path)
{
    memset(dl, 0, sizeof *dl);
    dl->ins = ins;
    dl->path = path && *path ? path : NULL;
    dl->fd = -1;
    pthread_mutex_init(&dl->lock, NULL);
}

/* Log a line about a lost event: at most LOG_LINES_PER_MINUTE whole lines
 * a minute; once a minute overflows, only a count every ten minutes for as
 * long as they keep coming (a closed stdout fails everything). */
static void
log_limited(dead_letter *dl, const char *fmt, const char *a, const char *b)
{
    sluice_time_t now = sluice_time_now();
    sluice_time_t window = (dl->quiet ? 600 : 60) * SLUICE_NSEC_PER_SEC;
    if (now - dl->log_window > window) {
        unsigned shown = dl->quiet ? 0 : LOG_LINES_PER_MINUTE;
        if (dl->logged_in_window > shown)
            sluice_error(dl->ins, "%u more dead letters in the last %d minutes were not logged%s",
                         dl->logged_in_window - shown, dl->quiet ? 10 : 1,
                         dl->path ? "" : " (set dead_letter.path to keep them)");
        dl->quiet = dl->logged_in_window > shown;
        dl->log_window = now;
        dl->logged_in_window = 0;
    }
    if (!dl->quiet && dl->logged_in_window < LOG_LINES_PER_MINUTE)
        sluice_error(dl->ins, fmt, a, b);
    dl->logged_in_window++;
}

static void write_locked(dead_letter *dl, const sluice_event *ev, const char *reason);

void
dead_letter_write(dead_letter *dl, const sluice_event *ev, const char *reason)
{
    pthread_mutex_lock(&dl->lock);
    write_locked(dl, ev, reason);
    pthread_mutex_unlock(&dl->lock);
}

static void
write_locked(dead_letter *dl, const sluice_event *ev, const char *reason)
{
    sluice_buf line = SLUICE_BUF_INIT;
    sluice_format_opts json = {SLUICE_FORMAT_JSON, "time", NULL};
    sluice_buf event = SLUICE_BUF_INIT;
    sluice_format_event(&event, &json, ev);
    event.len--; /* the newline */
    dl->events++;

    if (!dl->path) {
        sluice_buf_putc(&event, '\0');
        log_limited(dl, "event failed for good (%s) and there is no dead_letter.path: %s",
                    reason, event.data);
        sluice_buf_free(&event);
        return;
    }
    const char *pipeline = sluice_instance_pipeline(dl->ins);
    const char *id = sluice_instance_id(dl->ins);
    int filter = dl->ins->plugin->kind == SLUICE_PLUGIN_FILTER;
    sluice_buf_append(&line, "{\"time\":\"", 9);
    sluice_format_rfc3339(&line, sluice_time_now());
    sluice_buf_append(&line, "\",\"pipeline\":", 13);
    sluice_json_string(&line, pipeline, strlen(pipeline));
    if (filter)
        sluice_buf_append(&line, ",\"filter\":", 10);
    else
        sluice_buf_append(&line, ",\"output\":", 10);
    sluice_json_string(&line, id, strlen(id));
    sluice_buf_append(&line, ",\"error\":", 9);
    sluice_json_string(&line, reason, strlen(reason));
    sluice_buf_append(&line, ",\"event\":", 9);
    sluice_buf_append(&line, event.data, event.len);
    sluice_buf_append(&line, "}\n", 2);
    sluice_buf_free(&event);

    if (dl->fd < 0 && sluice_mkdirs_for(dl->path, 0755) == 0)
        dl->fd = open(dl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (dl->fd < 0 || sluice_write_all(dl->fd, line.data, line.len) < 0) {
        dl->write_errors++;
        sluice_buf_putc(&line, '\0');
        log_limited(dl, "cannot write to the dead letter file: %s; the dead letter was: %s",
                    strerror(errno ? errno : EIO), line.data);
    }
    sluice_buf_free(&line);
}

void
dead_letter_close(dead_letter *dl)
{
    if (dl->fd >= 0)
        close(dl->fd);
    dl->fd = -1;
    pthread_mutex_destroy(&dl->lock);
}

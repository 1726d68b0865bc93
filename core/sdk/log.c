/* Leveled log lines, as text or JSON, one write(2) per line so that lines
 * from several threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "instance.h"
#include "sluice/buf.h"
#include "sluice/format.h"

const char *const log_level_names[] = {"error", "warn", "info", "debug", "trace", NULL};

static sluice_log_level current_level = SLUICE_LOG_INFO;
static log_format current_format = LOG_FORMAT_TEXT;
static int log_fd = STDERR_FILENO;

void
log_set_level(sluice_log_level level)
{
    current_level = level;
}

void
log_set_format(log_format format)
{
    current_format = format;
}

void
log_set_fd(int fd)
{
    log_fd = fd;
}

int
sluice_log_enabled(sluice_log_level level)
{
    return level <= current_level;
}

void
sluice_log(const sluice_instance *ins, sluice_log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_reserve(&b, len + 128);
    const char *id = ins ? sluice_instance_id(ins) : NULL;
    if (current_format == LOG_FORMAT_JSON) {
        sluice_buf_append(&b, "{\"time\":\"", 9);
        sluice_format_rfc3339(&b, sluice_time_now());
        sluice_buf_printf(&b, "\",\"level\":\"%s\"", log_level_names[level]);
        if (id) {
            sluice_buf_append(&b, ",\"id\":", 6);
            sluice_json_string(&b, id, strlen(id));
        }
        sluice_buf_append(&b, ",\"msg\":", 7);
        sluice_json_string(&b, msg, len);
        sluice_buf_append(&b, "}\n", 2);
    } else {
        sluice_format_rfc3339(&b, sluice_time_now());
        sluice_buf_printf(&b, " [%s] ", log_level_names[level]);
        if (id)
            sluice_buf_printf(&b, "%s: ", id);
        sluice_buf_append(&b, msg, len);
        sluice_buf_putc(&b, '\n');
    }
    if (write(log_fd, b.data, b.len) < 0) {
        /* stderr is gone; nowhere left to report it */
    }
    sluice_buf_free(&b);
}

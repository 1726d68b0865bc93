/* The core's side of logging: level and line format, set from the CLI and
 * service.log_level. Plugins use sluice_log (include/sluice/log.h). */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include "sluice/log.h"

typedef enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON } log_format;

extern const char *const log_level_names[];

void log_set_level(sluice_log_level level);
void log_set_format(log_format format);
/* Send log lines to `fd` instead of stderr (tests). */
void log_set_fd(int fd);

#endif

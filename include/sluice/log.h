/* Logging for plugins: every line names the plugin instance that wrote it. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include "common.h"

typedef enum sluice_log_level {
    SLUICE_LOG_ERROR = 0,
    SLUICE_LOG_WARN,
    SLUICE_LOG_INFO,
    SLUICE_LOG_DEBUG,
    SLUICE_LOG_TRACE,
} sluice_log_level;

struct sluice_instance;

/* Write one log line as "<instance-id>: <message>". `ins` may be NULL for
 * lines about the process as a whole. Safe from any thread. */
SLUICE_API void sluice_log(const struct sluice_instance *ins, sluice_log_level level,
                           const char *fmt, ...) SLUICE_PRINTF(3, 4);

/* Whether a line at `level` would be written; skip expensive formatting. */
SLUICE_API int sluice_log_enabled(sluice_log_level level);

#define sluice_error(ins, ...) sluice_log(ins, SLUICE_LOG_ERROR, __VA_ARGS__)
#define sluice_warn(ins, ...) sluice_log(ins, SLUICE_LOG_WARN, __VA_ARGS__)
#define sluice_info(ins, ...) sluice_log(ins, SLUICE_LOG_INFO, __VA_ARGS__)
#define sluice_debug(ins, ...)                                                                     \
    do {                                                                                           \
        if (sluice_log_enabled(SLUICE_LOG_DEBUG))                                                  \
            sluice_log(ins, SLUICE_LOG_DEBUG, __VA_ARGS__);                                        \
    } while (0)

#endif

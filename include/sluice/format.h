/* Text and binary renderings of events, shared by every output that writes
 * JSON, logfmt, RFC 5424 syslog or MessagePack. */
#ifndef SLUICE_FORMAT_H
#define SLUICE_FORMAT_H

#include "buf.h"
#include "event.h"
#include "json.h"
#include "timefmt.h"

typedef enum sluice_format {
    SLUICE_FORMAT_JSON = 0,
    SLUICE_FORMAT_LOGFMT,
    SLUICE_FORMAT_SYSLOG,
    SLUICE_FORMAT_MSGPACK,
} sluice_format;

/* Names in enum order, NULL-terminated: usable as an option's `values`. */
SLUICE_API extern const char *const sluice_format_names[];

typedef struct sluice_format_opts {
    sluice_format format;
    const char *time_key;  /* JSON/logfmt: key for the event time; NULL: omit */
    const char *hostname;  /* syslog: HOSTNAME when the event has none; NULL: this host */
} sluice_format_opts;

/* Append one event to `out`, with a trailing newline for the text formats.
 * Strings that are not valid UTF-8 are written with U+FFFD in place of each
 * bad byte, so the output is always valid. */
SLUICE_API void sluice_format_event(sluice_buf *out, const sluice_format_opts *o,
                                    const sluice_event *ev);

/* Append every event of an encoded buffer (a chunk). Returns the number of
 * events written; a malformed tail is skipped and reported in *bad (may be
 * NULL) as 1. */
SLUICE_API size_t sluice_format_events(sluice_buf *out, const sluice_format_opts *o,
                                       const char *data, size_t len, int *bad);

/* A finite double as the shortest decimal that reads back exactly (at
 * most 17 significant digits, %g style). Returns the length. */
SLUICE_API int sluice_double_text(double d, char out[32]);

/* Prometheus's text exposition (and OpenMetrics): a label value with \\,
 * \" and \n escaped; a sample value as +Inf, -Inf, NaN or
 * sluice_double_text. */
SLUICE_API void sluice_prom_label_value(sluice_buf *out, const char *s, size_t n);
SLUICE_API void sluice_prom_value(sluice_buf *out, double v);

#endif

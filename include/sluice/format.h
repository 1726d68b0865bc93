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

/* ==== Syslog messages (ABI 2.5) ====
 * One formatter for `format: syslog` of the file and stdout outputs and for
 * the syslog output: RFC 5424 (TIME-SECFRAC in microseconds, STRUCTURED-DATA
 * from a map field) or RFC 3164. Its defaults read the fields the syslog
 * input writes, so a received message goes out again unchanged. */

typedef enum sluice_syslog_format {
    SLUICE_SYSLOG_RFC5424 = 0,
    SLUICE_SYSLOG_RFC3164,
} sluice_syslog_format;

/* Names by code, NULL-terminated (usable as an option's `values`):
 * "emerg" .. "debug", and "kern" .. "local7" as rsyslog names them. */
SLUICE_API extern const char *const sluice_syslog_severity_names[];
SLUICE_API extern const char *const sluice_syslog_facility_names[];

typedef struct sluice_syslog_opts {
    sluice_syslog_format format;
    /* The fields each part is read from (paths "a.b"; NULL: never read). */
    const char *severity_key, *facility_key; /* a name, an alias or a number */
    const char *hostname_key, *appname_key, *procid_key, *msgid_key;
    const char *sd_key;        /* map of SD-ID to a map of PARAM-NAME to value */
    const char *message_key;   /* absent: the whole event as JSON */
    const char *timestamp_key; /* RFC 5424 text kept when it is the event time */
    int severity, facility;    /* codes when the event has none (or one unknown) */
    const char *hostname;      /* HOSTNAME when the event has none; NULL: this host */
    const char *appname;       /* APP-NAME when the event has none; NULL: "-" */
} sluice_syslog_opts;

/* The defaults: the syslog input's field names (severity, facility,
 * hostname, appname, procid, msgid, structured_data, message, timestamp),
 * user.info, this host's name, app name "sluice", RFC 5424. */
SLUICE_API void sluice_syslog_opts_init(sluice_syslog_opts *o);

/* Append one message, without framing or a newline. Text is valid UTF-8
 * (U+FFFD for each bad byte) with control characters written as #ooo, as
 * rsyslog does when it receives them, so a message is always one line.
 * Header fields keep only printable ASCII, cut to the RFC's lengths. */
SLUICE_API void sluice_syslog_format_event(sluice_buf *out, const sluice_syslog_opts *o,
                                           const sluice_event *ev);

/* A finite double as the shortest decimal that reads back exactly (at
 * most 17 significant digits, %g style). Returns the length. */
SLUICE_API int sluice_double_text(double d, char out[32]);

/* Prometheus's text exposition (and OpenMetrics): a label value with \\,
 * \" and \n escaped; a sample value as +Inf, -Inf, NaN or
 * sluice_double_text. */
SLUICE_API void sluice_prom_label_value(sluice_buf *out, const char *s, size_t n);
SLUICE_API void sluice_prom_value(sluice_buf *out, double v);

#endif

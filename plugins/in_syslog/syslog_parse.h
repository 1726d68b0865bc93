/* Parsing one syslog message: RFC 5424, RFC 3164 (BSD) or raw, into spans
 * of the input; nothing is copied or allocated. */
#ifndef SYSLOG_PARSE_H
#define SYSLOG_PARSE_H

#include <sluice/sluice.h>

typedef enum syslog_format { SYSLOG_AUTO = 0, SYSLOG_3164, SYSLOG_5424, SYSLOG_RAW } syslog_format;

typedef struct sl_span {
    const char *p;
    size_t n; /* 0: absent (or the nil value "-") */
} sl_span;

typedef struct syslog_msg {
    int pri;             /* -1 when there is none */
    int version;         /* 1: RFC 5424; 0: RFC 3164 or raw */
    sluice_time_t time;  /* 0 when the message has no usable timestamp */
    sl_span timestamp, hostname, appname, procid, msgid, sd, message;
    int parse_error;     /* kept with the raw text in message */
} syslog_msg;

extern const char *const syslog_facility_names[24];
extern const char *const syslog_severity_names[8];

/* Parse `buf` (one message, framing removed). `now` resolves the year of
 * RFC 3164 dates. Never fails: a malformed message has parse_error set and
 * the whole text in message. */
void syslog_parse(const char *buf, size_t len, syslog_format format, sluice_time_t now,
                  syslog_msg *m);

/* Pack RFC 5424 STRUCTURED-DATA (already checked by syslog_parse) as a map
 * of SD-IDs to maps of parameters, with \" \\ \] unescaped. */
void syslog_pack_sd(msgpack_packer *pk, sl_span sd);

/* RFC 3339 (e.g. 2003-08-24T05:14:15.000003-07:00) to nanoseconds; 0 if
 * it is not one. */
sluice_time_t syslog_parse_rfc3339(const char *p, size_t n);

#endif

/* Writing InfluxDB line protocol: one point per event, with the escaping
 * the line protocol reference asks for (measurement: commas and spaces;
 * tag keys, tag values and field keys: commas, equals signs and spaces;
 * string field values: double quotes and backslashes). Newlines, which no
 * part of a point may hold, are written as the two characters \n. */
#ifndef SLUICE_LINE_PROTOCOL_H
#define SLUICE_LINE_PROTOCOL_H

#include <sluice/sluice.h>

typedef enum lp_precision { LP_NS, LP_US, LP_MS, LP_S } lp_precision;

typedef struct lp_options {
    lp_precision precision;
    int unsigned_ok;              /* v2: "u" integers; v1 writes them as "i" when they fit */
    const char *measurement;      /* log events */
    const sluice_strlist *tag_keys;   /* log events: fields that become tags */
    const sluice_strlist *field_keys; /* log events: fields; n == 0: the defaults */
} lp_options;

/* Append the point for `ev` (a metric event, or a log event when `log`)
 * and a newline. Returns 0, or -1 with `why` when the event has nothing
 * that can be a field. */
int lp_point(sluice_buf *out, const lp_options *o, const sluice_event *ev, int log, char *why,
             size_t whylen);

#endif

/* InfluxDB line protocol, both ways: exec reads it (line_protocol_read.c),
 * influxdb writes it (line_protocol_write.c).
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Escaping, as the line protocol reference asks: commas and spaces in the
 * measurement; commas, equals signs and spaces in tag keys, tag values and
 * field keys; double quotes and backslashes in string field values. Field
 * values: floats, integers (1i), unsigned (1u), booleans (t, true, True,
 * TRUE, f, ...) and "strings". Newlines, which no part of a point may hold,
 * are written as the two characters \n. */
#ifndef SLUICE_LINE_PROTOCOL_H
#define SLUICE_LINE_PROTOCOL_H

#include <sluice/sluice.h>

/* ==== Reading ==== */

#define LP_MAX_PAIRS 256 /* tags, and fields, of one line */

/* Parse `line` (nanosecond timestamps) and, if valid, emit it as a metric
 * event (time: its timestamp, else `now`). Returns 0, or -1 with `err`
 * filled and nothing emitted. */
int lp_emit(sluice_emitter *em, const char *line, size_t len, sluice_time_t now, char *err,
            size_t errlen);

/* The same, packing the body into `pk`; *time gets the event time. */
int lp_pack(msgpack_packer *pk, const char *line, size_t len, sluice_time_t now,
            sluice_time_t *time, char *err, size_t errlen);

/* ==== Writing ==== */

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

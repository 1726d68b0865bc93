/* InfluxDB line protocol (one line) to a sluice metric event body:
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp-ns]
 * with the protocol's escaping: \, and \  in the measurement; \, \= and \ 
 * in tag keys, tag values and field keys; \" and \\ in string fields.
 * Field values: floats, integers (1i), unsigned (1u), booleans
 * (t, true, True, TRUE, f, ...) and "strings". */
#ifndef INFLUX_PARSE_H
#define INFLUX_PARSE_H

#include <sluice/sluice.h>

#define INFLUX_MAX_PAIRS 256

/* Parse `line` and, if valid, emit it as a metric event (time: its
 * timestamp, else `now`). Returns 0, or -1 with `err` filled and nothing
 * emitted. */
int influx_emit(sluice_emitter *em, const char *line, size_t len, sluice_time_t now, char *err,
                size_t errlen);

/* The same, packing the body into `pk`; *time gets the event time. */
int influx_pack(msgpack_packer *pk, const char *line, size_t len, sluice_time_t now,
                sluice_time_t *time, char *err, size_t errlen);

#endif

/* Time: the clock, the event-time encoding, RFC 3339 text, and reading
 * timestamps out of text with strptime-style formats.
 *
 * Directives: %Y %y %m %d %e %j %H %I %M %S %p %b %h %B (month names, any
 * case) %a %A (weekday names, skipped) %z (Z, +hh, +hhmm, +hh:mm) %Z (UTC,
 * GMT or Z) %s (seconds since the epoch) %f or %L (1 to 9 digits of a
 * second; more are read and truncated) %T %F %R %D %n %t %%. A space in the
 * format matches any run of white space, including none. %S and %s also
 * take a fraction written right after them (".123", ",5") unless the
 * format itself continues with that separator.
 *
 * Unlike strptime(3) this reads no locale and no TZ database per call: a
 * time without %z/%Z/%s is in the zone given by `tz` (UTC offset in
 * seconds, or SLUICE_TZ_LOCAL), and a date without a year (%b %d, as in
 * RFC 3164) is put in the year that brings it nearest to `now`, rolling
 * back across New Year. */
#ifndef SLUICE_TIMEFMT_H
#define SLUICE_TIMEFMT_H

#include <limits.h>
#include "buf.h"
#include "common.h"

#define SLUICE_TZ_LOCAL LONG_MIN

/* The wall clock now, in nanoseconds since the Unix epoch (UTC). */
SLUICE_API sluice_time_t sluice_time_now(void);

/* The 8 bytes of a Fluentd EventTime (seconds, nanoseconds; big-endian). */
SLUICE_API void sluice_time_encode(sluice_time_t t, char out[8]);
SLUICE_API sluice_time_t sluice_time_decode(const char in[8]);

/* RFC 3339 UTC with nanoseconds: 2026-11-26T08:00:00.123456789Z */
SLUICE_API void sluice_format_rfc3339(sluice_buf *out, sluice_time_t t);

/* Parse all of [s, s+n) (trailing white space allowed) by `fmt`. Returns 0
 * with *out set, or -1 with `err` saying what and at which byte. */
SLUICE_API int sluice_time_parse(const char *fmt, const char *s, size_t n, long tz,
                                 sluice_time_t now, sluice_time_t *out, char *err, size_t errlen);

/* "+hh:mm", "-hhmm", "Z", "UTC" or "local" to an offset for
 * sluice_time_parse. Returns 0, or -1 if `s` is none of those. */
SLUICE_API int sluice_time_zone_parse(const char *s, long *tz);

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
SLUICE_API int64_t sluice_days_from_civil(int64_t y, int64_t m, int64_t d);

#endif

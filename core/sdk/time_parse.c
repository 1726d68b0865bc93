/* strptime-style timestamp parsing without locale or per-call TZ lookups
 * (see include/sluice/timefmt.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sluice/timefmt.h"

/* Nanoseconds in an int64 cover 1677-09-21 to 2262-04-11. */
#define YEAR_MIN 1678
#define YEAR_MAX 2261

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                            "may",     "june",     "july",      "august",
                                            "september", "october", "november", "december"};
static const char *const day_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

int64_t
sluice_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    /* Howard Hinnant's algorithm. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* The local zone's UTC offset at `utc` seconds, looked up once per hour of
 * input: glibc's localtime_r stats /etc/localtime on every call. */
static long
local_offset_at(int64_t utc)
{
    static __thread int64_t cached_hour = INT64_MIN;
    static __thread long cached_off;
    int64_t hour = utc >= 0 ? utc / 3600 : (utc - 3599) / 3600;
    if (hour != cached_hour) {
        time_t t = (time_t)(hour * 3600);
        struct tm tm;
        cached_off = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
        cached_hour = hour;
    }
    return cached_off;
}

/* Seconds since the epoch of a local wall-clock time. In the hour a DST
 * change repeats, the later reading wins; in the hour it skips, the time
 * is read with the offset in force before. */
static int64_t
local_to_utc(int64_t local)
{
    int64_t guess = local - local_offset_at(local);
    return local - local_offset_at(guess);
}

int
sluice_time_zone_parse(const char *s, long *tz)
{
    if (strcasecmp(s, "local") == 0) {
        *tz = SLUICE_TZ_LOCAL;
        return 0;
    }
    if (strcmp(s, "Z") == 0 || strcasecmp(s, "UTC") == 0 || strcasecmp(s, "GMT") == 0) {
        *tz = 0;
        return 0;
    }
    size_t n = strlen(s);
    if ((n != 3 && n != 5 && n != 6) || (s[0] != '+' && s[0] != '-'))
        return -1;
    const char *mm = n == 6 ? s + 4 : s + 3;
    if (n == 6 && s[3] != ':')
        return -1;
    for (const char *p = s + 1; *p; p++)
        if ((*p < '0' || *p > '9') && p != s + 3)
            return -1;
    long h = (s[1] - '0') * 10 + (s[2] - '0'), m = n == 3 ? 0 : (mm[0] - '0') * 10 + (mm[1] - '0');
    if (h > 14 || m > 59)
        return -1;
    *tz = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return 0;
}

/* ==== The parser ==== */

typedef struct parse_state {
    const char *s, *p, *end;
    int64_t year, month, day, yday, hour, minute, second, nsec;
    int has_year, has_date, has_yday, pm, has_ampm, hour12;
    int has_zone, has_epoch;
    long zone;
    int64_t epoch;
    char *err;
    size_t errlen;
} parse_state;

static int SLUICE_PRINTF(2, 3)
fail(parse_state *st, const char *fmt, ...)
{
    char what[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (st->err && st->errlen)
        snprintf(st->err, st->errlen, "%s at byte %zu", what, (size_t)(st->p - st->s));
    return -1;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1 to `max` digits into *v. A leading space stands for a zero (%e). */
static int
number(parse_state *st, int max, int64_t lo, int64_t hi, int64_t *v, const char *what)
{
    if (st->p < st->end && *st->p == ' ' && max == 2)
        st->p++;
    int64_t x = 0;
    int digits = 0;
    while (digits < max && st->p < st->end && is_digit(*st->p)) {
        x = x * 10 + (*st->p++ - '0');
        digits++;
    }
    if (!digits)
        return fail(st, "expected the %s (digits)", what);
    if (x < lo || x > hi) {
        st->p -= digits;
        return fail(st, "%s %lld out of range %lld..%lld", what, (long long)x, (long long)lo,
                    (long long)hi);
    }
    *v = x;
    return 0;
}

/* A name from `names` in full or in its first three letters, any case. */
static int
name(parse_state *st, const char *const *names, int n, int64_t *idx, const char *what)
{
    for (int i = 0; i < n; i++) {
        size_t full = strlen(names[i]), avail = (size_t)(st->end - st->p);
        if (avail >= full && strncasecmp(st->p, names[i], full) == 0) {
            st->p += full;
            *idx = i;
            return 0;
        }
    }
    for (int i = 0; i < n; i++) {
        if (st->end - st->p >= 3 && strncasecmp(st->p, names[i], 3) == 0) {
            st->p += 3;
            *idx = i;
            return 0;
        }
    }
    return fail(st, "expected a %s name", what);
}

/* Digits of a second after the point: the first nine count. */
static int
fraction(parse_state *st)
{
    int digits = 0;
    int64_t ns = 0;
    while (st->p < st->end && is_digit(*st->p)) {
        if (digits < 9) {
            ns = ns * 10 + (*st->p - '0');
            digits++;
        }
        st->p++;
    }
    if (!digits)
        return fail(st, "expected fractional seconds (digits)");
    while (digits++ < 9)
        ns *= 10;
    st->nsec = ns;
    return 0;
}

/* A fraction right after %S or %s, unless the format goes on with the
 * separator itself. */
static int
optional_fraction(parse_state *st, const char *fmt_next)
{
    if (st->end - st->p >= 2 && (*st->p == '.' || *st->p == ',') && is_digit(st->p[1]) &&
        *fmt_next != *st->p) {
        st->p++;
        return fraction(st);
    }
    return 0;
}

static int
zone(parse_state *st)
{
    if (st->p < st->end && (*st->p == 'Z' || *st->p == 'z')) {
        st->p++;
        st->zone = 0;
        st->has_zone = 1;
        return 0;
    }
    if (st->end - st->p >= 3 &&
        (strncasecmp(st->p, "UTC", 3) == 0 || strncasecmp(st->p, "GMT", 3) == 0)) {
        st->p += 3;
        st->zone = 0;
        st->has_zone = 1;
        if (st->p == st->end || (*st->p != '+' && *st->p != '-'))
            return 0;
    }
    if (st->p >= st->end || (*st->p != '+' && *st->p != '-'))
        return fail(st, "expected a zone (Z, +hh, +hhmm or +hh:mm)");
    int sign = *st->p++ == '-' ? -1 : 1;
    int64_t h, m = 0;
    const char *start = st->p;
    if (st->end - st->p < 2 || !is_digit(st->p[0]) || !is_digit(st->p[1]))
        return fail(st, "expected the zone's hours (two digits)");
    h = (st->p[0] - '0') * 10 + (st->p[1] - '0');
    st->p += 2;
    if (st->p < st->end && *st->p == ':')
        st->p++;
    if (st->end - st->p >= 2 && is_digit(st->p[0]) && is_digit(st->p[1])) {
        m = (st->p[0] - '0') * 10 + (st->p[1] - '0');
        st->p += 2;
    } else if (st->p[-1] == ':') {
        return fail(st, "expected the zone's minutes (two digits)");
    }
    if (h > 14 || m > 59) {
        st->p = start;
        return fail(st, "zone offset out of range");
    }
    st->zone = sign * (long)(h * 3600 + m * 60);
    st->has_zone = 1;
    return 0;
}

static int
epoch(parse_state *st, const char *fmt_next)
{
    int neg = st->p < st->end && *st->p == '-';
    if (neg)
        st->p++;
    int64_t v = 0;
    int digits = 0;
    while (st->p < st->end && is_digit(*st->p)) {
        if (++digits > 11)
            return fail(st, "seconds since the epoch out of range");
        v = v * 10 + (*st->p++ - '0');
    }
    if (!digits)
        return fail(st, "expected seconds since the epoch (digits)");
    st->epoch = v;
    st->has_epoch = neg ? -1 : 1;
    return optional_fraction(st, fmt_next);
}

static int directives(parse_state *st, const char *fmt, const char *after);

/* One directive (the letter after '%'); `next` is the rest of the format. */
static int
directive(parse_state *st, char d, const char *next)
{
    int64_t v = 0;
    switch (d) {
    case 'Y':
        st->has_year = 1;
        return number(st, 4, 0, 9999, &st->year, "year");
    case 'y':
        if (number(st, 2, 0, 99, &v, "year") < 0)
            return -1;
        st->year = v < 69 ? 2000 + v : 1900 + v;
        st->has_year = 1;
        return 0;
    case 'm':
        st->has_date = 1;
        return number(st, 2, 1, 12, &st->month, "month");
    case 'd':
    case 'e':
        st->has_date = 1;
        return number(st, 2, 1, 31, &st->day, "day");
    case 'j':
        st->has_yday = 1;
        return number(st, 3, 1, 366, &st->yday, "day of the year");
    case 'H':
        return number(st, 2, 0, 23, &st->hour, "hour");
    case 'I':
        st->hour12 = 1;
        return number(st, 2, 1, 12, &st->hour, "hour");
    case 'M':
        return number(st, 2, 0, 59, &st->minute, "minute");
    case 'S':
        if (number(st, 2, 0, 60, &st->second, "second") < 0)
            return -1;
        return optional_fraction(st, next);
    case 'f':
    case 'L':
        return fraction(st);
    case 'p':
        if (st->end - st->p >= 2 && (st->p[1] == 'M' || st->p[1] == 'm') &&
            strchr("AaPp", st->p[0])) {
            st->pm = st->p[0] == 'P' || st->p[0] == 'p';
            st->has_ampm = 1;
            st->p += 2;
            return 0;
        }
        return fail(st, "expected AM or PM");
    case 'b':
    case 'h':
    case 'B':
        st->has_date = 1;
        if (name(st, month_names, 12, &v, "month") < 0)
            return -1;
        st->month = v + 1;
        return 0;
    case 'a':
    case 'A':
        return name(st, day_names, 7, &v, "weekday");
    case 'z':
    case 'Z':
        return zone(st);
    case 's':
        return epoch(st, next);
    case 'T':
        return directives(st, "%H:%M:%S", next);
    case 'F':
        return directives(st, "%Y-%m-%d", next);
    case 'R':
        return directives(st, "%H:%M", next);
    case 'D':
        return directives(st, "%m/%d/%y", next);
    case 'n':
    case 't':
        while (st->p < st->end && is_space(*st->p))
            st->p++;
        return 0;
    case '%':
        if (st->p < st->end && *st->p == '%') {
            st->p++;
            return 0;
        }
        return fail(st, "expected '%%'");
    default:
        return fail(st, "unknown directive %%%c in the format", d ? d : '?');
    }
}

/* `after` is what follows `fmt` when it is the expansion of %T and kin. */
static int
directives(parse_state *st, const char *fmt, const char *after)
{
    for (const char *f = fmt; *f; f++) {
        if (*f == '%') {
            f++;
            if (directive(st, *f, *f && f[1] ? f + 1 : after) < 0)
                return -1;
            if (!*f)
                break;
        } else if (is_space(*f)) {
            while (st->p < st->end && is_space(*st->p))
                st->p++;
        } else if (st->p < st->end && *st->p == *f) {
            st->p++;
        } else {
            return fail(st, "expected '%c'", *f);
        }
    }
    return 0;
}

/* The year nearest to `now` for a date written without one. */
static int64_t
nearest_year(int64_t month, int64_t day, int64_t secs_of_day, long tz, sluice_time_t now)
{
    int64_t now_s = now / SLUICE_NSEC_PER_SEC;
    int64_t now_days = now_s / 86400;
    /* The civil year of now (UTC is close enough for choosing between two). */
    int64_t y = 1970 + now_days / 366;
    while (sluice_days_from_civil(y + 1, 1, 1) <= now_days)
        y++;
    int64_t local = sluice_days_from_civil(y, month, day) * 86400 + secs_of_day;
    int64_t utc = tz == SLUICE_TZ_LOCAL ? local_to_utc(local) : local - tz;
    /* More than a week ahead: written last year (Dec 31 read on Jan 1). */
    return utc > now_s + 7 * 86400 ? y - 1 : y;
}

int
sluice_time_parse(const char *fmt, const char *s, size_t n, long tz, sluice_time_t now,
                  sluice_time_t *out, char *err, size_t errlen)
{
    parse_state st = {.s = s, .p = s, .end = s + n, .year = 1970, .month = 1, .day = 1,
                      .err = err, .errlen = errlen};
    if (directives(&st, fmt, "") < 0)
        return -1;
    while (st.p < st.end && is_space(*st.p))
        st.p++;
    if (st.p != st.end)
        return fail(&st, "unexpected text after the time");
    if (st.has_epoch) {
        if (st.epoch > 9223372035LL)
            return fail(&st, "time out of range");
        *out = st.has_epoch * (st.epoch * SLUICE_NSEC_PER_SEC + st.nsec);
        return 0;
    }
    if (st.hour12)
        st.hour = st.hour % 12 + (st.pm ? 12 : 0);
    else if (st.has_ampm && st.pm && st.hour < 12)
        st.hour += 12;
    int64_t secs_of_day = st.hour * 3600 + st.minute * 60 + st.second;
    long zone_off = st.has_zone ? st.zone : tz;
    if (!st.has_year && st.has_date)
        st.year = nearest_year(st.month, st.day, secs_of_day, zone_off, now);
    if (st.year < YEAR_MIN || st.year > YEAR_MAX)
        return fail(&st, "year %lld out of range %d..%d", (long long)st.year, YEAR_MIN, YEAR_MAX);
    int64_t days;
    if (st.has_yday && !st.has_date) {
        if (st.yday > 365 + is_leap(st.year))
            return fail(&st, "day of the year %lld past the end of %lld", (long long)st.yday,
                        (long long)st.year);
        days = sluice_days_from_civil(st.year, 1, 1) + st.yday - 1;
    } else {
        if (st.day > days_in_month(st.year, st.month))
            return fail(&st, "day %lld past the end of month %lld", (long long)st.day,
                        (long long)st.month);
        days = sluice_days_from_civil(st.year, st.month, st.day);
    }
    int64_t local = days * 86400 + secs_of_day;
    int64_t utc = zone_off == SLUICE_TZ_LOCAL ? local_to_utc(local) : local - zone_off;
    *out = utc * SLUICE_NSEC_PER_SEC + st.nsec;
    return 0;
}

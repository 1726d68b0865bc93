/* Syslog parsers (see syslog_parse.h): RFC 5424 §6, RFC 3164 §4.1. */
#include <string.h>
#include <time.h>

#include "syslog_parse.h"

const char *const syslog_facility_names[24] = {
    "kern",   "user",   "mail",   "daemon", "auth",     "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",  "ntp",      "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4",   "local5", "local6", "local7"};
const char *const syslog_severity_names[8] = {"emerg", "alert",  "crit", "err",
                                              "warning", "notice", "info", "debug"};

static int
digit(char c)
{
    return c >= '0' && c <= '9';
}

/* <PRI>: 1 to 3 digits, 0..191. Returns bytes used, or 0. */
static size_t
parse_pri(const char *p, size_t n, int *pri)
{
    if (n < 3 || p[0] != '<')
        return 0;
    size_t i = 1;
    int v = 0;
    while (i < n && i < 5 && digit(p[i]))
        v = v * 10 + (p[i++] - '0');
    if (i == 1 || i >= n || p[i] != '>' || v > 191 || (i > 2 && p[1] == '0'))
        return 0;
    *pri = v;
    return i + 1;
}

static int64_t
num(const char *p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

sluice_time_t
syslog_parse_rfc3339(const char *p, size_t n)
{
    /* YYYY-MM-DDTHH:MM:SS */
    if (n < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't') || p[13] != ':' ||
        p[16] != ':')
        return 0;
    struct tm tm = {0};
    int64_t y = num(p, 4), mo = num(p + 5, 2), d = num(p + 8, 2), h = num(p + 11, 2),
            mi = num(p + 14, 2), s = num(p + 17, 2);
    /* Nanoseconds in an int64 end in April 2262. */
    if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        s > 60)
        return 0;
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_min = (int)mi;
    tm.tm_sec = (int)s;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && p[i] == '.') {
        i++;
        int digits = 0;
        while (i < n && digit(p[i])) {
            if (digits < 9) {
                frac = frac * 10 + (p[i] - '0');
                digits++;
            }
            i++;
        }
        if (!digits)
            return 0;
        while (digits++ < 9)
            frac *= 10;
    }
    int64_t offset = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i + 6 <= n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int64_t oh = num(p + i + 1, 2), om = num(p + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return 0;
        offset = (oh * 3600 + om * 60) * (p[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return 0;
    }
    if (i != n)
        return 0;
    int64_t secs = (int64_t)timegm(&tm) - offset;
    return secs * SLUICE_NSEC_PER_SEC + frac;
}

/* ==== RFC 5424 ==== */

/* The next space-terminated field; "-" is nil. Returns 0 on a missing
 * field. */
static int
field(const char **p, const char *end, sl_span *out, size_t max)
{
    const char *s = *p;
    const char *e = memchr(s, ' ', (size_t)(end - s));
    if (!e || e == s || (size_t)(e - s) > max)
        return 0;
    out->p = s;
    out->n = (e - s == 1 && *s == '-') ? 0 : (size_t)(e - s);
    *p = e + 1;
    return 1;
}

/* Checks STRUCTURED-DATA starting at *p; sets *p past it. */
static int
check_sd(const char **pp, const char *end)
{
    const char *p = *pp;
    if (p < end && *p == '-') {
        *pp = p + 1;
        return 1;
    }
    int elements = 0;
    while (p < end && *p == '[') {
        p++;
        const char *id = p;
        while (p < end && *p != ' ' && *p != ']' && *p != '=' && *p != '"' && *p > 32 && *p < 127)
            p++;
        if (p == id || p - id > 32)
            return 0;
        while (p < end && *p == ' ') {
            p++;
            const char *name = p;
            while (p < end && *p != '=' && *p != ' ' && *p != ']' && *p != '"' && *p > 32 &&
                   *p < 127)
                p++;
            if (p == name || p - name > 32 || p + 1 >= end || p[0] != '=' || p[1] != '"')
                return 0;
            p += 2;
            while (p < end && *p != '"') {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            if (p >= end)
                return 0;
            p++; /* closing quote */
        }
        if (p >= end || *p != ']')
            return 0;
        p++;
        elements++;
    }
    if (!elements)
        return 0;
    *pp = p;
    return 1;
}

static int
parse_5424(const char *p, const char *end, syslog_msg *m)
{
    /* VERSION SP */
    if (end - p < 2 || p[0] != '1' || p[1] != ' ')
        return 0;
    p += 2;
    m->version = 1;
    if (!field(&p, end, &m->timestamp, 64) || !field(&p, end, &m->hostname, 255) ||
        !field(&p, end, &m->appname, 48) || !field(&p, end, &m->procid, 128) ||
        !field(&p, end, &m->msgid, 32))
        return 0;
    if (m->timestamp.n) {
        m->time = syslog_parse_rfc3339(m->timestamp.p, m->timestamp.n);
        if (!m->time)
            return 0;
    }
    const char *sd = p;
    if (!check_sd(&p, end))
        return 0;
    m->sd.p = sd;
    m->sd.n = (p - sd == 1 && *sd == '-') ? 0 : (size_t)(p - sd);
    if (p < end) {
        if (*p != ' ')
            return 0;
        p++;
    }
    /* MSG, without a UTF-8 BOM. */
    if (end - p >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
        (unsigned char)p[2] == 0xbf)
        p += 3;
    m->message.p = p;
    m->message.n = (size_t)(end - p);
    return 1;
}

/* ==== RFC 3164 ==== */

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";


/* The local year and UTC offset, looked up once a minute: glibc's
 * localtime_r stats /etc/localtime on every call. A date is read with the
 * offset in force now, which is off by the DST change for the hour around
 * one. */
typedef struct tz_cache {
    int64_t minute;
    int64_t year;
    long gmtoff;
} tz_cache;

static __thread tz_cache tzc = {-1, 0, 0};

/* Seconds of a local date and time in the year that puts it nearest to
 * `now`, when the sender gave no year (rolling back across New Year). */
static int64_t
local_secs(int64_t year, int month, int64_t d, int64_t h, int64_t mi, int64_t s,
           sluice_time_t now)
{
    int64_t now_s = now / SLUICE_NSEC_PER_SEC;
    if (now_s / 60 != tzc.minute) {
        time_t t = (time_t)now_s;
        struct tm local;
        localtime_r(&t, &local);
        tzc.minute = now_s / 60;
        tzc.year = local.tm_year + 1900;
        tzc.gmtoff = local.tm_gmtoff;
    }
    int64_t y = year ? year : tzc.year;
    int64_t secs = sluice_days_from_civil(y, month + 1, d) * 86400 + h * 3600 + mi * 60 + s -
                   tzc.gmtoff;
    /* Without a year, a date more than a week ahead was written last year
     * (Dec 31 read on Jan 1). */
    if (!year && secs > now_s + 7 * 86400)
        secs = sluice_days_from_civil(y - 1, month + 1, d) * 86400 + h * 3600 + mi * 60 + s -
               tzc.gmtoff;
    return secs;
}

static int
month_of(const char *p)
{
    for (int i = 0; i < 12; i++)
        if ((p[0] | 0x20) == (months[3 * i] | 0x20) && (p[1] | 0x20) == months[3 * i + 1] &&
            (p[2] | 0x20) == months[3 * i + 2])
            return i;
    return -1;
}

/* A BSD date as senders write it, in the local time zone: "Mmm dd
 * hh:mm:ss", the month in any case, the day padded with a space, a zero or
 * not at all, an optional year before the time ("Oct 16 2009 23:47:31",
 * Cisco ASA), optional fractions, and an optional ':' after the time
 * (Cisco). It must end at a space or the end. Returns its length, or 0. */
static size_t
parse_bsd_date(const char *p, const char *end, sluice_time_t now, sluice_time_t *out)
{
    const char *q = p;
    int month = end - q >= 3 ? month_of(q) : -1;
    if (month < 0)
        return 0;
    q += 3;
    if (q >= end || *q != ' ')
        return 0;
    while (q < end && *q == ' ')
        q++;
    int64_t d = 0, year = 0;
    int nd = 0;
    while (q < end && digit(*q) && nd < 2)
        d = d * 10 + (*q++ - '0'), nd++;
    if (!nd || q >= end || *q != ' ')
        return 0;
    q++;
    if (end - q >= 5 && digit(q[0]) && digit(q[1]) && digit(q[2]) && digit(q[3]) && q[4] == ' ') {
        year = num(q, 4);
        q += 5;
    }
    if (end - q < 8 || q[2] != ':' || q[5] != ':')
        return 0;
    int64_t h = num(q, 2), mi = num(q + 3, 2), s = num(q + 6, 2);
    if (d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 ||
        (year && (year < 1970 || year > 2261)))
        return 0;
    q += 8;
    int64_t frac = 0;
    if (q + 1 < end && *q == '.' && digit(q[1])) {
        int digits = 0;
        for (q++; q < end && digit(*q); q++)
            if (digits < 9)
                frac = frac * 10 + (*q - '0'), digits++;
        while (digits++ < 9)
            frac *= 10;
    }
    if (q < end && *q == ':')
        q++;
    if (q < end && *q != ' ')
        return 0;
    *out = local_secs(year, month, d, h, mi, s, now) * SLUICE_NSEC_PER_SEC + frac;
    return (size_t)(q - p);
}

/* An RFC 3339 timestamp ending at a space or the end (rsyslog's
 * forwarding format, VMware ESXi). Returns its length, or 0. */
static size_t
parse_iso_date(const char *p, const char *end, sluice_time_t *out)
{
    if (end - p < 20 || !digit(p[0]))
        return 0;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);
    *out = syslog_parse_rfc3339(p, n);
    return *out ? n : 0;
}

/* A host name as rsyslog takes one: letters, digits, '.', '_', '-', or an
 * IPv6 address; a word with '@', '/', '#', '[' or a final ':' is a tag. */
static int
hostname_ok(const char *p, const char *e)
{
    int colons = 0, hexish = 1, plain = 1;
    for (const char *q = p; q < e; q++) {
        char c = *q;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c);
        plain &= alnum || c == '.' || c == '_' || c == '-';
        hexish &= digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == ':' || c == '.';
        colons += c == ':';
    }
    return e > p && e - p <= 255 && (plain || (hexish && colons >= 2 && e[-1] != ':'));
}

/* RFC 3164 as real senders write it, taking what rsyslog takes:
 *   [SP] TIMESTAMP SP [HOSTNAME SP] TAG[PID](: | SP) MSG
 * TIMESTAMP is a BSD date (see parse_bsd_date) or RFC 3339. TAG ends at
 * ':' or a space (`tag msg`), and may hold '/' (docker/ID, postfix/smtpd).
 * Without a timestamp there is no host name, and a tag only in the form
 * "tag: msg"; a message that has neither a timestamp nor such a tag keeps
 * its whole text with parse_error, rather than a host or tag guessed from
 * its first words. */
static void
parse_3164(const char *p, const char *end, sluice_time_t now, syslog_msg *m)
{
    const char *text = p;
    if (p < end && *p == ' ') /* "<13> Mar  7 ..." */
        p++;
    size_t tlen = parse_iso_date(p, end, &m->time);
    if (!tlen)
        tlen = parse_bsd_date(p, end, now, &m->time);
    if (tlen) {
        m->timestamp = (sl_span){p, tlen};
        p += tlen;
        if (p < end)
            p++; /* the space after it */
        const char *e = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
        e = e ? e : end;
        if (hostname_ok(p, e)) {
            m->hostname = (sl_span){p, (size_t)(e - p)};
            p = e < end ? e + 1 : e;
        }
    }
    const char *e = p;
    while (e < end && *e != ' ' && *e != ':')
        e++;
    int colon = e < end && *e == ':';
    int tag = e - p <= 256 && (tlen ? e > p || colon : colon && (e + 1 == end || e[1] == ' '));
    if (tag) {
        const char *name_end = e;
        if (e - p >= 3 && e[-1] == ']') {
            const char *open = memchr(p, '[', (size_t)(e - p));
            if (open && open > p) {
                m->procid = (sl_span){open + 1, (size_t)(e - 1 - open - 1)};
                name_end = open;
            }
        }
        m->appname = (sl_span){p, (size_t)(name_end - p)};
        p = e + colon;
    }
    if (tag || tlen) {
        if (p < end && *p == ' ')
            p++;
        m->message = (sl_span){p, (size_t)(end - p)};
        return;
    }
    m->parse_error = 1;
    m->message = (sl_span){text, (size_t)(end - text)};
}

void
syslog_parse(const char *buf, size_t len, syslog_format format, sluice_time_t now,
             syslog_msg *m)
{
    memset(m, 0, sizeof *m);
    m->pri = -1;
    /* Framing leftovers: trailing LF, CR and NUL. */
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == '\0'))
        len--;
    const char *end = buf + len;
    if (format == SYSLOG_RAW) {
        m->message = (sl_span){buf, len};
        return;
    }
    size_t used = parse_pri(buf, len, &m->pri);
    if (!used) {
        m->pri = -1;
        m->parse_error = 1;
        m->message = (sl_span){buf, len};
        return;
    }
    const char *p = buf + used;
    int is_5424 = format == SYSLOG_5424 ||
                  (format == SYSLOG_AUTO && end - p >= 2 && p[0] == '1' && p[1] == ' ');
    if (is_5424) {
        if (!parse_5424(p, end, m)) {
            int pri = m->pri;
            memset(m, 0, sizeof *m);
            m->pri = pri;
            m->parse_error = 1;
            m->message = (sl_span){buf, len};
        }
        return;
    }
    parse_3164(p, end, now, m);
}

/* ==== Structured data ==== */

static void
pack_unescaped(msgpack_packer *pk, const char *p, size_t n)
{
    size_t escapes = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\\' && (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']')) {
            escapes++;
            i++;
        }
    msgpack_pack_str(pk, n - escapes);
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\\' && (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']')) {
            msgpack_pack_str_body(pk, p + start, i - start);
            start = i + 1;
            i++;
        }
    msgpack_pack_str_body(pk, p + start, n - start);
}

void
syslog_pack_sd(msgpack_packer *pk, sl_span sd)
{
    const char *p = sd.p, *end = sd.p + sd.n;
    /* Count elements by the walk that packs them: an SD-ID or a name may
     * hold '[' (RFC 5424 forbids only '=', ' ', ']' and '"' there). */
    uint32_t elements = 0;
    for (const char *q = p; q < end && *q == '[';) {
        elements++;
        for (q++; *q != ']';) {
            if (*q == '"') {
                for (q++; *q != '"'; q++)
                    if (*q == '\\')
                        q++;
            }
            q++;
        }
        q++;
    }
    msgpack_pack_map(pk, elements);
    while (p < end && *p == '[') {
        p++;
        const char *id = p;
        while (*p != ' ' && *p != ']')
            p++;
        msgpack_pack_str_with_body(pk, id, (size_t)(p - id));
        uint32_t params = 0;
        for (const char *q = p; *q != ']'; q++)
            if (*q == '"') {
                params++;
                for (q++; *q != '"'; q++)
                    if (*q == '\\')
                        q++;
            }
        msgpack_pack_map(pk, params);
        while (*p == ' ') {
            p++;
            const char *name = p;
            while (*p != '=')
                p++;
            msgpack_pack_str_with_body(pk, name, (size_t)(p - name));
            p += 2;
            const char *val = p;
            while (*p != '"') {
                if (*p == '\\')
                    p++;
                p++;
            }
            pack_unescaped(pk, val, (size_t)(p - val));
            p++;
        }
        p++; /* ] */
    }
}

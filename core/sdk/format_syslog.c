/* Syslog messages from events, RFC 5424 §6 and RFC 3164 §4.1 (see
 * sluice_syslog_format_event in include/sluice/format.h). */
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sluice/format.h"
#include "sluice/json.h"
#include "sluice/timefmt.h"
#include "utf8.h"

const char *const sluice_syslog_severity_names[] = {"emerg",  "alert", "crit",  "err", "warning",
                                                    "notice", "info",  "debug", NULL};
const char *const sluice_syslog_facility_names[] = {
    "kern",    "user",         "mail",   "daemon",   "auth",   "syslog", "lpr",
    "news",    "uucp",         "cron",   "authpriv", "ftp",    "ntp",    "security",
    "console", "solaris-cron", "local0", "local1",   "local2", "local3", "local4",
    "local5",  "local6",       "local7", NULL};

/* Severity names that loggers use besides syslog's own. */
static const struct {
    const char *name;
    int code;
} severity_aliases[] = {{"panic", 0}, {"emergency", 0}, {"fatal", 2},         {"critical", 2},
                        {"error", 3}, {"warn", 4},      {"informational", 6}, {"trace", 7}};

void
sluice_syslog_opts_init(sluice_syslog_opts *o)
{
    *o = (sluice_syslog_opts){
        .format = SLUICE_SYSLOG_RFC5424,
        .severity_key = "severity",
        .facility_key = "facility",
        .hostname_key = "hostname",
        .appname_key = "appname",
        .procid_key = "procid",
        .msgid_key = "msgid",
        .sd_key = "structured_data",
        .message_key = "message",
        .timestamp_key = "timestamp",
        .severity = 6,
        .facility = 1,
        .appname = "sluice",
    };
}

/* ==== Fields ==== */

enum { F_SEV, F_FAC, F_HOST, F_APP, F_PROC, F_MSGID, F_SD, F_MSG, F_TS, F_COUNT };

/* Every field the options name, in one pass over the event's top level;
 * a dotted path is looked up on its own. */
static void
collect(const msgpack_object *body, const sluice_syslog_opts *o, const msgpack_object *f[F_COUNT])
{
    const char *keys[F_COUNT] = {o->severity_key, o->facility_key, o->hostname_key,
                                 o->appname_key,  o->procid_key,   o->msgid_key,
                                 o->sd_key,       o->message_key,  o->timestamp_key};
    /* The keys' lengths, measured again only when the keys change. */
    static __thread const char *cached[F_COUNT];
    static __thread size_t lens[F_COUNT];
    int flat = 0;
    for (int i = 0; i < F_COUNT; i++) {
        f[i] = NULL;
        if (keys[i] != cached[i]) {
            cached[i] = keys[i];
            lens[i] = keys[i] ? strlen(keys[i]) : 0;
        }
        if (!lens[i]) {
            keys[i] = NULL;
        } else if (memchr(keys[i], '.', lens[i])) {
            f[i] = sluice_record_get(body, keys[i]);
            keys[i] = NULL;
        } else {
            flat++;
        }
    }
    if (!flat || body->type != MSGPACK_OBJECT_MAP) return;
    for (uint32_t k = 0; k < body->via.map.size; k++) {
        const msgpack_object *key = &body->via.map.ptr[k].key;
        if (key->type != MSGPACK_OBJECT_STR) continue;
        const char *s = key->via.str.ptr;
        size_t n = key->via.str.size;
        for (int i = 0; i < F_COUNT; i++)
            if (keys[i] && lens[i] == n && !f[i] && memcmp(keys[i], s, n) == 0) {
                f[i] = &body->via.map.ptr[k].val;
                break;
            }
    }
}

static int
str_is(const char *name, const char *s, size_t n)
{
    return ((name[0] ^ s[0]) & ~0x20) == 0 && strlen(name) == n && strncasecmp(name, s, n) == 0;
}

/* A severity or facility: a number below `n`, the same in decimal text, a
 * name of `names`, or (severities) an alias; `def` otherwise. */
static int
code_of(const msgpack_object *v, const char *const *names, int n, int severity, int def)
{
    if (!v) return def;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return v->via.u64 < (uint64_t)n ? (int)v->via.u64 : def;
    if (v->type != MSGPACK_OBJECT_STR || !v->via.str.size || v->via.str.size > 16) return def;
    const char *s = v->via.str.ptr;
    size_t len = v->via.str.size;
    if (s[0] >= '0' && s[0] <= '9') {
        int c = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') return def;
            c = c * 10 + (s[i] - '0');
            if (c >= n) return def;
        }
        return c;
    }
    for (int i = 0; i < n; i++)
        if (str_is(names[i], s, len)) return i;
    if (severity)
        for (size_t i = 0; i < sizeof severity_aliases / sizeof *severity_aliases; i++)
            if (str_is(severity_aliases[i].name, s, len)) return severity_aliases[i].code;
    return def;
}

/* ==== Text ==== */

/* What each byte needs: nothing, #ooo (control), a backslash (in SD-PARAM
 * values), or a UTF-8 check. */
enum { C_PLAIN, C_CONTROL, C_ESCAPE, C_UTF8 };

static unsigned char char_class[2][256]; /* [in a PARAM-VALUE][byte] */
static unsigned char header_ok[256];     /* printable US-ASCII */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
make_tables(void)
{
    for (int sd = 0; sd < 2; sd++)
        for (int c = 0; c < 256; c++)
            char_class[sd][c] = c < 0x20 || c == 0x7f                       ? C_CONTROL
                                : c >= 0x80                                 ? C_UTF8
                                : sd && (c == '"' || c == '\\' || c == ']') ? C_ESCAPE
                                                                            : C_PLAIN;
    for (int c = 33; c < 127; c++)
        header_ok[c] = 1;
}

/* Printable US-ASCII (33..126) of a string field, or of `fallback`, at
 * most `max` bytes, leaving out bytes in `skip`; "-" when nothing is left. */
static void
header_field(sluice_buf *out, const msgpack_object *v, const char *fallback, size_t max,
             const char *skip)
{
    const char *s = fallback;
    size_t n = fallback ? strlen(fallback) : 0;
    if (v && v->type == MSGPACK_OBJECT_STR && v->via.str.size) {
        s = v->via.str.ptr;
        n = v->via.str.size;
    }
    sluice_buf_reserve(out, n < max ? n : max);
    size_t w = 0;
    char *d = out->data + out->len;
    for (size_t i = 0; i < n && w < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (header_ok[c] && !(skip && strchr(skip, c))) d[w++] = (char)c;
    }
    out->len += w;
    if (w == 0) sluice_buf_putc(out, '-');
}

/* Text as valid UTF-8 with control characters as #ooo; in a PARAM-VALUE
 * (`sd`), " \\ and ] get a backslash. Runs of plain ASCII are copied whole. */
static void
syslog_text(sluice_buf *out, const char *s, size_t n, int sd)
{
    const unsigned char *cls = char_class[sd];
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && cls[*p] == C_PLAIN)
            p++;
        if (p > run) sluice_buf_append(out, run, (size_t)(p - run));
        if (p == end) break;
        switch (cls[*p]) {
        case C_CONTROL: {
            char oct[4] = {'#', (char)('0' + (*p >> 6)), (char)('0' + ((*p >> 3) & 7)),
                           (char)('0' + (*p & 7))};
            sluice_buf_append(out, oct, 4);
            p++;
            break;
        }
        case C_ESCAPE: {
            char esc[2] = {'\\', (char)*p};
            sluice_buf_append(out, esc, 2);
            p++;
            break;
        }
        default:
            p += utf8_put(out, p, (size_t)(end - p));
        }
    }
}

/* Any value as text: a string as it is, anything else as JSON. */
static void
value_text(sluice_buf *out, const msgpack_object *v, int sd)
{
    if (v->type == MSGPACK_OBJECT_STR) {
        syslog_text(out, v->via.str.ptr, v->via.str.size, sd);
    } else if (v->type != MSGPACK_OBJECT_NIL) {
        sluice_buf json = SLUICE_BUF_INIT;
        sluice_json_value(&json, v);
        syslog_text(out, json.data, json.len, sd);
        sluice_buf_free(&json);
    }
}

static void
put_uint(sluice_buf *out, unsigned v)
{
    char d[12];
    int i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while (v /= 10);
    sluice_buf_append(out, d + i, sizeof d - (size_t)i);
}

/* ==== STRUCTURED-DATA ==== */

/* An SD-ID or PARAM-NAME: 1 to 32 printable US-ASCII bytes but = ] " and
 * space, each other byte written as '_'. */
static void
sd_name(sluice_buf *out, const msgpack_object *k)
{
    if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size) {
        sluice_buf_putc(out, '_');
        return;
    }
    size_t n = k->via.str.size < 32 ? k->via.str.size : 32;
    sluice_buf_reserve(out, n);
    char *d = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k->via.str.ptr[i];
        d[i] = header_ok[c] && c != '=' && c != ']' && c != '"' ? (char)c : '_';
    }
    out->len += n;
}

static void
sd_param(sluice_buf *out, const msgpack_object *name, const msgpack_object *v)
{
    sluice_buf_putc(out, ' ');
    sd_name(out, name);
    sluice_buf_append(out, "=\"", 2);
    value_text(out, v, 1);
    sluice_buf_putc(out, '"');
}

/* A map of SD-ID to a map of parameters: [id name="value" ...]...; a list
 * value repeats its parameter once per item; "-" for anything else or an
 * empty map. */
static void
structured_data(sluice_buf *out, const msgpack_object *sd)
{
    if (!sd || sd->type != MSGPACK_OBJECT_MAP || !sd->via.map.size) {
        sluice_buf_putc(out, '-');
        return;
    }
    for (uint32_t i = 0; i < sd->via.map.size; i++) {
        const msgpack_object_kv *el = &sd->via.map.ptr[i];
        sluice_buf_putc(out, '[');
        sd_name(out, &el->key);
        if (el->val.type == MSGPACK_OBJECT_MAP)
            for (uint32_t j = 0; j < el->val.via.map.size; j++) {
                const msgpack_object_kv *p = &el->val.via.map.ptr[j];
                if (p->val.type == MSGPACK_OBJECT_ARRAY)
                    for (uint32_t k = 0; k < p->val.via.array.size; k++)
                        sd_param(out, &p->key, &p->val.via.array.ptr[k]);
                else
                    sd_param(out, &p->key, &p->val);
            }
        sluice_buf_putc(out, ']');
    }
}

/* ==== Time ==== */

static int
digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        *v = *v * 10 + (p[i] - '0');
    }
    return 1;
}

/* An RFC 5424 TIMESTAMP (at most 6 fractional digits) as nanoseconds, or
 * -1 when `s` is not one. */
static sluice_time_t
rfc5424_time(const char *s, size_t n)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (n < 20 || n > 32 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
        return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (s[i] == '.') {
        int nd = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9' && nd < 7; i++, nd++)
            frac = frac * 10 + (s[i] - '0');
        if (nd == 0 || nd > 6) return -1;
        while (nd++ < 9)
            frac *= 10;
    }
    int sign = 0;
    if (i + 1 == n && s[i] == 'Z')
        sign = 0;
    else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
             digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59)
        sign = s[i] == '-' ? -1 : 1;
    else
        return -1;
    int64_t secs = sluice_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                   sign * (oh * 3600 + om * 60);
    return secs * SLUICE_NSEC_PER_SEC + frac;
}

/* The event's own RFC 5424 text when it denotes the event time to the
 * microsecond (its time zone is kept); else UTC with microseconds. */
static void
timestamp_5424(sluice_buf *out, const msgpack_object *ts, sluice_time_t t)
{
    const sluice_time_t us = 1000;
    if (ts && ts->type == MSGPACK_OBJECT_STR) {
        sluice_time_t v = rfc5424_time(ts->via.str.ptr, ts->via.str.size);
        if (v >= 0 && v / us == t / us) {
            sluice_buf_append(out, ts->via.str.ptr, ts->via.str.size);
            return;
        }
    }
    /* "...:SS.nnnnnnnnnZ" cut to "...:SS.uuuuuuZ". */
    sluice_format_rfc3339(out, t);
    out->len -= 3;
    out->data[out->len - 1] = 'Z';
}

/* "Mmm dd hh:mm:ss" in the local time zone, the day padded with a space. */
static void
timestamp_3164(sluice_buf *out, sluice_time_t t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static __thread time_t cached_sec = -1;
    static __thread char cached[15];
    time_t sec = (time_t)(t / SLUICE_NSEC_PER_SEC);
    if (t < 0 && t % SLUICE_NSEC_PER_SEC) sec--;
    if (sec != cached_sec) {
        struct tm tm;
        localtime_r(&sec, &tm);
        memcpy(cached, months + 3 * tm.tm_mon, 3);
        cached[3] = ' ';
        cached[4] = tm.tm_mday < 10 ? ' ' : (char)('0' + tm.tm_mday / 10);
        cached[5] = (char)('0' + tm.tm_mday % 10);
        cached[6] = ' ';
        cached[7] = (char)('0' + tm.tm_hour / 10);
        cached[8] = (char)('0' + tm.tm_hour % 10);
        cached[9] = ':';
        cached[10] = (char)('0' + tm.tm_min / 10);
        cached[11] = (char)('0' + tm.tm_min % 10);
        cached[12] = ':';
        cached[13] = (char)('0' + tm.tm_sec / 10);
        cached[14] = (char)('0' + tm.tm_sec % 10);
        cached_sec = sec;
    }
    sluice_buf_append(out, cached, sizeof cached);
}

/* ==== Messages ==== */

static char local_host[256];
static pthread_once_t local_host_once = PTHREAD_ONCE_INIT;

static void
read_local_host(void)
{
    if (gethostname(local_host, sizeof local_host - 1) != 0) local_host[0] = '\0';
}

static void
message(sluice_buf *out, const msgpack_object *msg, const msgpack_object *body)
{
    value_text(out, msg ? msg : body, 0);
}

void
sluice_syslog_format_event(sluice_buf *out, const sluice_syslog_opts *o, const sluice_event *ev)
{
    pthread_once(&tables_once, make_tables);
    const msgpack_object *f[F_COUNT];
    collect(&ev->body, o, f);
    int sev = code_of(f[F_SEV], sluice_syslog_severity_names, 8, 1, o->severity & 7);
    int fac = code_of(f[F_FAC], sluice_syslog_facility_names, 24, 0, o->facility % 24);
    const char *host = o->hostname;
    if (!host) {
        pthread_once(&local_host_once, read_local_host);
        host = local_host;
    }
    sluice_buf_putc(out, '<');
    put_uint(out, (unsigned)(fac * 8 + sev));
    sluice_buf_putc(out, '>');
    if (o->format == SLUICE_SYSLOG_RFC3164) {
        /* <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG */
        timestamp_3164(out, ev->time);
        sluice_buf_putc(out, ' ');
        header_field(out, f[F_HOST], host, 255, NULL);
        sluice_buf_putc(out, ' ');
        header_field(out, f[F_APP], o->appname, 48, ":[]");
        const msgpack_object *pid = f[F_PROC];
        if (pid && pid->type == MSGPACK_OBJECT_STR && pid->via.str.size) {
            sluice_buf_putc(out, '[');
            header_field(out, pid, NULL, 128, "]");
            sluice_buf_putc(out, ']');
        }
        sluice_buf_append(out, ": ", 2);
        message(out, f[F_MSG], &ev->body);
        return;
    }
    /* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG] */
    sluice_buf_append(out, "1 ", 2);
    timestamp_5424(out, f[F_TS], ev->time);
    sluice_buf_putc(out, ' ');
    header_field(out, f[F_HOST], host, 255, NULL);
    sluice_buf_putc(out, ' ');
    header_field(out, f[F_APP], o->appname, 48, NULL);
    sluice_buf_putc(out, ' ');
    header_field(out, f[F_PROC], NULL, 128, NULL);
    sluice_buf_putc(out, ' ');
    header_field(out, f[F_MSGID], NULL, 32, NULL);
    sluice_buf_putc(out, ' ');
    structured_data(out, f[F_SD]);
    size_t mark = out->len;
    sluice_buf_putc(out, ' ');
    message(out, f[F_MSG], &ev->body);
    if (out->len == mark + 1) out->len = mark;
}

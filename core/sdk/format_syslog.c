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
#include "swar.h"
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

/* The options' field names as collect matches them, worked out again only
 * when the names change: which are top-level names and which paths, and
 * each name's first and last 8 (or 4) bytes, for compares in two loads. */
typedef struct key_table {
    const char *key[F_COUNT];
    size_t len[F_COUNT];
    uint64_t head[F_COUNT], tail[F_COUNT];
    unsigned flat, dotted; /* bit i: key i is a name / a path */
} key_table;

static uint64_t
word_at(const char *s, size_t n)
{
    if (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        return v;
    }
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

static void
key_table_fill(key_table *t, const char *const keys[F_COUNT])
{
    t->flat = t->dotted = 0;
    for (int i = 0; i < F_COUNT; i++) {
        size_t n = keys[i] ? strlen(keys[i]) : 0;
        t->key[i] = keys[i];
        t->len[i] = n;
        t->head[i] = t->tail[i] = 0;
        if (!n) continue;
        if (memchr(keys[i], '.', n)) {
            t->dotted |= 1u << i;
            continue;
        }
        t->flat |= 1u << i;
        if (n >= 4 && n <= 16) {
            t->head[i] = word_at(keys[i], n);
            t->tail[i] = word_at(keys[i] + n - (n >= 8 ? 8 : 4), n);
        }
    }
}

/* Whether the n bytes at s are key i (of length n). */
static inline int
key_is(const key_table *t, int i, const char *s, size_t n)
{
    if (n >= 4 && n <= 16)
        return word_at(s, n) == t->head[i] && word_at(s + n - (n >= 8 ? 8 : 4), n) == t->tail[i];
    return memcmp(t->key[i], s, n) == 0;
}

/* Every field the options name, in one pass over the event's top level
 * (ending once each is found); a dotted path is looked up on its own. A
 * name that several options share goes to the first still without one. */
static void
collect(const msgpack_object *body, const sluice_syslog_opts *o, const msgpack_object *f[F_COUNT])
{
    const char *keys[F_COUNT] = {o->severity_key, o->facility_key, o->hostname_key,
                                 o->appname_key,  o->procid_key,   o->msgid_key,
                                 o->sd_key,       o->message_key,  o->timestamp_key};
    static __thread key_table t;
    for (int i = 0; i < F_COUNT; i++)
        if (keys[i] != t.key[i]) {
            key_table_fill(&t, keys);
            break;
        }
    for (int i = 0; i < F_COUNT; i++)
        f[i] = t.dotted >> i & 1 ? sluice_record_get(body, keys[i]) : NULL;
    unsigned todo = t.flat;
    if (!todo || body->type != MSGPACK_OBJECT_MAP) return;
    for (uint32_t k = 0; k < body->via.map.size; k++) {
        const msgpack_object *key = &body->via.map.ptr[k].key;
        if (key->type != MSGPACK_OBJECT_STR) continue;
        const char *s = key->via.str.ptr;
        size_t n = key->via.str.size;
        for (unsigned m = todo; m; m &= m - 1) {
            int i = __builtin_ctz(m);
            if (t.len[i] == n && key_is(&t, i, s, n)) {
                f[i] = &body->via.map.ptr[k].val;
                todo &= ~(1u << i);
                break;
            }
        }
        if (!todo) return;
    }
}

static int
str_is(const char *name, const char *s, size_t n)
{
    return ((name[0] ^ s[0]) & ~0x20) == 0 && strlen(name) == n && strncasecmp(name, s, n) == 0;
}

static inline int
same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The code of a name (or an alias) among `names`, -1 for none. */
static int
code_by_name(const char *s, size_t len, const char *const *names, int n, int severity)
{
    for (int i = 0; i < n; i++)
        if (str_is(names[i], s, len)) return i;
    if (severity)
        for (size_t i = 0; i < sizeof severity_aliases / sizeof *severity_aliases; i++)
            if (str_is(severity_aliases[i].name, s, len)) return severity_aliases[i].code;
    return -1;
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
    /* Events mostly repeat a few names: the last one is kept, by kind. */
    static __thread struct {
        size_t len;
        char name[16];
        int code;
    } last[2];
    if (last[severity].len != len || !same_bytes(last[severity].name, s, len)) {
        last[severity].code = code_by_name(s, len, names, n, severity);
        memcpy(last[severity].name, s, len);
        last[severity].len = len;
    }
    return last[severity].code >= 0 ? last[severity].code : def;
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

/* Room for n more bytes, checked here before calling out. */
static inline void
room(sluice_buf *out, size_t n)
{
    if (out->cap - out->len < n) sluice_buf_reserve(out, n);
}

/* Append n bytes; short constant ones compile to a store. */
static inline void
add(sluice_buf *out, const char *s, size_t n)
{
    room(out, n);
    memcpy(out->data + out->len, s, n);
    out->len += n;
}

/* Whether the word x is all printable US-ASCII (33..126), with none of an
 * SD-NAME's exclusions = ] " when `sd_name`. */
static inline int
printable8(uint64_t x, int sd_name)
{
    uint64_t bad = (x & SWAR_HIGHS) | swar_has_less(x, 0x21) | swar_has_byte(x, 0x7f);
    if (sd_name) bad |= swar_has_byte(x, '=') | swar_has_byte(x, ']') | swar_has_byte(x, '"');
    return !bad;
}

/* Whether each of the n bytes at s passes printable8. */
static inline int
all_printable_as(const char *s, size_t n, int sd_name)
{
    uint64_t x;
    if (n < 8) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!header_ok[c] || (sd_name && (c == '=' || c == ']' || c == '"'))) return 0;
        }
        return 1;
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        if (!printable8(x, sd_name)) return 0;
    }
    if (i == n) return 1;
    memcpy(&x, s + n - 8, 8); /* the last 8, overlapping */
    return printable8(x, sd_name);
}

static inline int
all_printable(const char *s, size_t n)
{
    return all_printable_as(s, n, 0);
}

/* Printable US-ASCII (33..126) of a string field, or of `fallback`, at
 * most `max` bytes, leaving out bytes in `skip`; "-" when nothing is left. */
static void
header_field(sluice_buf *out, const msgpack_object *v, const char *fallback, size_t max,
             const char *skip)
{
    const char *s = fallback;
    size_t n;
    if (v && v->type == MSGPACK_OBJECT_STR && v->via.str.size) {
        s = v->via.str.ptr;
        n = v->via.str.size;
    } else {
        n = fallback ? strlen(fallback) : 0;
    }
    size_t m = n < max ? n : max;
    room(out, m);
    size_t w = 0;
    char *d = out->data + out->len;
    if (m && !skip && all_printable(s, m)) {
        memcpy(d, s, m);
        w = m;
    } else if (skip) {
        for (size_t i = 0; i < n && w < max; i++) {
            unsigned char c = (unsigned char)s[i];
            if (header_ok[c] && !strchr(skip, c)) d[w++] = (char)c;
        }
    } else {
        /* Each byte is stored, and kept when it is printable. */
        for (size_t i = 0; i < n && w < max; i++) {
            unsigned char c = (unsigned char)s[i];
            d[w] = (char)c;
            w += header_ok[c];
        }
    }
    out->len += w;
    if (w == 0) sluice_buf_putc(out, '-');
}

/* Whether the 8 bytes at p are all C_PLAIN: 0x20..0x7e, and in a
 * PARAM-VALUE none of " \\ ]. */
static inline int
plain8(const unsigned char *p, int sd)
{
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t bad = (x & SWAR_HIGHS) | swar_has_less(x, 0x20) | swar_has_byte(x, 0x7f);
    if (sd) bad |= swar_has_byte(x, '"') | swar_has_byte(x, '\\') | swar_has_byte(x, ']');
    return !bad;
}

/* Text as valid UTF-8 with control characters as #ooo; in a PARAM-VALUE
 * (`sd`), " \\ and ] get a backslash. Runs of plain ASCII are copied whole,
 * into room kept for the rest of the input (and for one escape). */
static void
syslog_text(sluice_buf *out, const char *s, size_t n, int sd)
{
    const unsigned char *cls = char_class[sd];
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    room(out, n);
    while (p < end) {
        const unsigned char *run = p;
        while (end - p >= 8 && plain8(p, sd))
            p += 8;
        while (p < end && cls[*p] == C_PLAIN)
            p++;
        if (p > run) {
            memcpy(out->data + out->len, run, (size_t)(p - run));
            out->len += (size_t)(p - run);
        }
        if (p == end) break;
        /* An escape takes at most 4 bytes for 1. */
        room(out, 4 + (size_t)(end - p));
        char *d = out->data + out->len;
        switch (cls[*p]) {
        case C_CONTROL:
            d[0] = '#';
            d[1] = (char)('0' + (*p >> 6));
            d[2] = (char)('0' + ((*p >> 3) & 7));
            d[3] = (char)('0' + (*p & 7));
            out->len += 4;
            p++;
            break;
        case C_ESCAPE:
            d[0] = '\\';
            d[1] = (char)*p;
            out->len += 2;
            p++;
            break;
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
    add(out, d + i, sizeof d - (size_t)i);
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
    room(out, n);
    char *d = out->data + out->len;
    if (all_printable_as(k->via.str.ptr, n, 1)) {
        memcpy(d, k->via.str.ptr, n);
        out->len += n;
        return;
    }
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
    add(out, "=\"", 2);
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
    /* sluice_format_rfc3339's "...:SS.nnnnnnnnnZ" cut to "...:SS.uuuuuuZ";
     * its text up to the fraction is kept for the second. */
    static __thread int cached;
    static __thread sluice_time_t cached_sec;
    static __thread char prefix[20];
    sluice_time_t sec = t / SLUICE_NSEC_PER_SEC, ns = t % SLUICE_NSEC_PER_SEC;
    if (ns < 0) {
        sec--;
        ns += SLUICE_NSEC_PER_SEC;
    }
    if (!cached || sec != cached_sec) {
        char text[32];
        sluice_buf b = {text, 0, sizeof text};
        sluice_format_rfc3339(&b, t);
        memcpy(prefix, text, sizeof prefix);
        cached_sec = sec;
        cached = 1;
    }
    room(out, 27);
    char *d = out->data + out->len;
    memcpy(d, prefix, sizeof prefix);
    unsigned v = (unsigned)(ns / us);
    for (int i = 25; i >= 20; i--, v /= 10)
        d[i] = (char)('0' + v % 10);
    d[26] = 'Z';
    out->len += 27;
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
    add(out, cached, sizeof cached);
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
        add(out, ": ", 2);
        message(out, f[F_MSG], &ev->body);
        return;
    }
    /* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [SP MSG] */
    add(out, "1 ", 2);
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

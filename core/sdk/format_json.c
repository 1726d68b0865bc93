/* MessagePack to JSON: strings escaped per RFC 8259, invalid UTF-8 replaced
 * byte by byte with U+FFFD, non-finite floats as null, binary as a string of
 * its bytes (Latin-1), extension types as null except EventTime (RFC 3339). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/format.h"
#include "format_internal.h"
#include "swar.h"
#include "utf8.h"

void
sluice_json_string(sluice_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n == 0) { /* msgpack-c gives "" a NULL pointer */
        sluice_buf_append(out, "\"\"", 2);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    sluice_buf_reserve(out, n + 2);
    sluice_buf_putc(out, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (end - p >= 8 && swar_json_plain8((const char *)p))
            p += 8;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            sluice_buf_append(out, run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            p += utf8_put(out, p, (size_t)(end - p));
            continue;
        }
        p++;
        switch (c) {
        case '"': sluice_buf_append(out, "\\\"", 2); break;
        case '\\': sluice_buf_append(out, "\\\\", 2); break;
        case '\n': sluice_buf_append(out, "\\n", 2); break;
        case '\r': sluice_buf_append(out, "\\r", 2); break;
        case '\t': sluice_buf_append(out, "\\t", 2); break;
        case '\b': sluice_buf_append(out, "\\b", 2); break;
        case '\f': sluice_buf_append(out, "\\f", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sluice_buf_append(out, esc, 6);
        }
        }
    }
    sluice_buf_putc(out, '"');
}

/* Decimal digits of v (with a minus sign if neg), without printf. */
static void
put_uint(sluice_buf *out, uint64_t v, int neg)
{
    char tmp[21];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        tmp[sizeof tmp - 1 - n++] = '-';
    sluice_buf_append(out, tmp + sizeof tmp - n, (size_t)n);
}

static void
put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* The proleptic Gregorian date of a day counted from 1970-01-01, by
 * Howard Hinnant's days-to-civil algorithm: what gmtime_r gives, without
 * its locking and time zone bookkeeping, for timestamps that change second
 * on every event. */
static void
civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

void
sluice_format_rfc3339(sluice_buf *out, sluice_time_t t)
{
    /* Events of a chunk mostly share their second: its text is kept. */
    static __thread time_t cached_sec = -1;
    static __thread char cached[20];
    time_t sec = (time_t)(t / SLUICE_NSEC_PER_SEC);
    long nsec = (long)(t % SLUICE_NSEC_PER_SEC);
    if (nsec < 0) {
        sec--;
        nsec += SLUICE_NSEC_PER_SEC;
    }
    if (sec != cached_sec) {
        int64_t days = sec / 86400, sod = sec % 86400;
        if (sod < 0) {
            sod += 86400;
            days--;
        }
        int64_t year;
        unsigned month, day;
        civil_from_days(days, &year, &month, &day);
        put_digits(cached, (unsigned)(year % 10000 + 10000) % 10000, 4);
        cached[4] = '-';
        put_digits(cached + 5, month, 2);
        cached[7] = '-';
        put_digits(cached + 8, day, 2);
        cached[10] = 'T';
        put_digits(cached + 11, (unsigned)(sod / 3600), 2);
        cached[13] = ':';
        put_digits(cached + 14, (unsigned)(sod / 60 % 60), 2);
        cached[16] = ':';
        put_digits(cached + 17, (unsigned)(sod % 60), 2);
        cached[19] = '.';
        cached_sec = sec;
    }
    sluice_buf_reserve(out, 30);
    char *p = out->data + out->len;
    memcpy(p, cached, 20);
    put_digits(p + 20, (unsigned)nsec, 9);
    p[29] = 'Z';
    out->len += 30;
}

/* Most doubles in logs have few decimals (46.62, 0.005): if a * 10^k is an
 * integer r below 2^53 whose r / 10^k is exactly the double again, "r with
 * k decimals" reads back exactly, and the first such k is the shortest such
 * text. No printf, no strtod. */
static int
short_decimal(double d, char out[32])
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15)) /* where %g would not use an exponent */
        return 0;
    for (int k = 0; k < 10; k++) {
        double m = a * p10[k];
        if (m >= 9007199254740992.0)
            return 0;
        double r = nearbyint(m);
        if (r / p10[k] != a)
            continue;
        char digits[24];
        int n = 0;
        for (uint64_t v = (uint64_t)r; v || n <= k; v /= 10)
            digits[n++] = (char)('0' + v % 10);
        int len = 0;
        if (d < 0)
            out[len++] = '-';
        for (int i = n - 1; i >= 0; i--) {
            out[len++] = digits[i];
            if (i == k && k > 0)
                out[len++] = '.';
        }
        out[len] = '\0';
        return len;
    }
    return 0;
}

int
sluice_double_text(double d, char out[32])
{
    int n = short_decimal(d, out);
    if (n)
        return n;
    /* The shortest of 15, 16 or 17 significant digits that reads back
     * exactly: 0.35, not 0.34999999999999998. */
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return n;
}

static void
json_double(sluice_buf *out, double d)
{
    if (!isfinite(d)) {
        sluice_buf_append(out, "null", 4);
        return;
    }
    char tmp[32];
    int n = sluice_double_text(d, tmp);
    /* Keep a float a float when read back: 1 -> 1.0 */
    sluice_buf_append(out, tmp, (size_t)n);
    if (!strpbrk(tmp, ".eE"))
        sluice_buf_append(out, ".0", 2);
}

void
json_pair(sluice_buf *out, const msgpack_object_kv *kv)
{
    if (kv->key.type == MSGPACK_OBJECT_STR) {
        sluice_json_string(out, kv->key.via.str.ptr, kv->key.via.str.size);
    } else {
        /* JSON keys are strings: render the key, then quote it. */
        sluice_buf k = SLUICE_BUF_INIT;
        sluice_json_value(&k, &kv->key);
        sluice_json_string(out, k.data, k.len);
        sluice_buf_free(&k);
    }
    sluice_buf_putc(out, ':');
    sluice_json_value(out, &kv->val);
}

void
sluice_json_value(sluice_buf *out, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        sluice_buf_append(out, "null", 4);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        if (o->via.boolean)
            sluice_buf_append(out, "true", 4);
        else
            sluice_buf_append(out, "false", 5);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        put_uint(out, o->via.u64, 0);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        put_uint(out, 0 - (uint64_t)o->via.i64, 1);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        json_double(out, o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        sluice_json_string(out, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN: {
        /* Bytes as code points U+0000..U+00FF. */
        sluice_buf_putc(out, '"');
        for (uint32_t i = 0; i < o->via.bin.size; i++) {
            unsigned char c = (unsigned char)o->via.bin.ptr[i];
            if (c < 0x80 && c >= 0x20 && c != '"' && c != '\\') {
                sluice_buf_putc(out, (char)c);
            } else if (c >= 0x80) {
                char u[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};
                sluice_buf_append(out, u, 2);
            } else {
                sluice_buf_printf(out, "\\u%04x", c);
            }
        }
        sluice_buf_putc(out, '"');
        break;
    }
    case MSGPACK_OBJECT_ARRAY:
        sluice_buf_putc(out, '[');
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                sluice_buf_putc(out, ',');
            sluice_json_value(out, &o->via.array.ptr[i]);
        }
        sluice_buf_putc(out, ']');
        break;
    case MSGPACK_OBJECT_MAP:
        sluice_buf_putc(out, '{');
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (i)
                sluice_buf_putc(out, ',');
            json_pair(out, kv);
        }
        sluice_buf_putc(out, '}');
        break;
    case MSGPACK_OBJECT_EXT:
        if (o->via.ext.type == SLUICE_EVENT_TIME_EXT && o->via.ext.size == 8) {
            sluice_buf_putc(out, '"');
            sluice_format_rfc3339(out, sluice_time_decode(o->via.ext.ptr));
            sluice_buf_putc(out, '"');
        } else {
            sluice_buf_append(out, "null", 4);
        }
        break;
    }
}

const char *
sluice_json_text(const msgpack_object *v, sluice_buf *scratch, size_t *len)
{
    if (v->type == MSGPACK_OBJECT_STR) {
        *len = v->via.str.size;
        return v->via.str.ptr ? v->via.str.ptr : "";
    }
    sluice_buf_reset(scratch);
    sluice_json_value(scratch, v);
    *len = scratch->len;
    return scratch->data ? scratch->data : "";
}

void
sluice_prom_label_value(sluice_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            sluice_buf_putc(out, '\\');
        if (s[i] == '\n')
            sluice_buf_append(out, "\\n", 2);
        else
            sluice_buf_putc(out, s[i]);
    }
}

void
sluice_prom_value(sluice_buf *out, double v)
{
    char tmp[32];
    if (isnan(v))
        sluice_buf_append(out, "NaN", 3);
    else if (isinf(v))
        sluice_buf_append(out, v > 0 ? "+Inf" : "-Inf", 4);
    else
        sluice_buf_append(out, tmp, (size_t)sluice_double_text(v, tmp));
}

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

void
sluice_format_rfc3339(sluice_buf *out, sluice_time_t t)
{
    time_t sec = (time_t)(t / SLUICE_NSEC_PER_SEC);
    long nsec = (long)(t % SLUICE_NSEC_PER_SEC);
    if (nsec < 0) {
        sec--;
        nsec += SLUICE_NSEC_PER_SEC;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    sluice_buf_reserve(out, 40);
    int n = snprintf(out->data + out->len, out->cap - out->len,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
    if (n > 0)
        out->len += (size_t)n;
}

int
sluice_double_text(double d, char out[32])
{
    /* The shortest of 15, 16 or 17 significant digits that reads back
     * exactly: 0.35, not 0.34999999999999998. */
    int n = 0;
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
    char tmp[32];
    int n;
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
        n = snprintf(tmp, sizeof tmp, "%" PRIu64, o->via.u64);
        sluice_buf_append(out, tmp, (size_t)n);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        n = snprintf(tmp, sizeof tmp, "%" PRId64, o->via.i64);
        sluice_buf_append(out, tmp, (size_t)n);
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

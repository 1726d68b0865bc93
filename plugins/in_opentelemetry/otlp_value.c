/* OTLP values as sluice sees them: AnyValue and attribute lists packed as
 * MessagePack (maps stay maps, bytes become base64 text), values as tag
 * text, ids as hex, and the counting of rejected items. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sluice/event.h>
#include <sluice/format.h>
#include <sluice/json.h>

#include "otlp_internal.h"

#define CASE(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static int
any_depth_ok(const otlp_any *v, int depth)
{
    if (!v) return 1;
    if (depth > OTLP_MAX_VALUE_DEPTH) return 0;
    if (v->value_case == CASE(ARRAY_VALUE) && v->array_value) {
        for (size_t i = 0; i < v->array_value->n_values; i++)
            if (!any_depth_ok(v->array_value->values[i], depth + 1)) return 0;
    } else if (v->value_case == CASE(KVLIST_VALUE) && v->kvlist_value) {
        for (size_t i = 0; i < v->kvlist_value->n_values; i++)
            if (!any_depth_ok(v->kvlist_value->values[i]->value, depth + 1)) return 0;
    }
    return 1;
}

int
otlp_any_fits(const otlp_any *v)
{
    return any_depth_ok(v, 1);
}

int
otlp_kvs_fit(otlp_kv *const *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!any_depth_ok(kv[i]->value, 2)) return 0;
    return 1;
}

static void
pack_base64(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    sluice_buf b = SLUICE_BUF_INIT;
    otlp_base64(&b, p, n);
    sluice_pack_str(pk, b.data, b.len);
    sluice_buf_free(&b);
}

void
otlp_pack_any(msgpack_packer *pk, const otlp_any *v)
{
    switch (v ? v->value_case : CASE(_NOT_SET)) {
    case CASE(STRING_VALUE):
        sluice_pack_cstr(pk, v->string_value);
        return;
    case CASE(BOOL_VALUE):
        if (v->bool_value)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return;
    case CASE(INT_VALUE):
        msgpack_pack_int64(pk, v->int_value);
        return;
    case CASE(DOUBLE_VALUE):
        msgpack_pack_double(pk, v->double_value);
        return;
    case CASE(ARRAY_VALUE):
        if (!v->array_value) break;
        msgpack_pack_array(pk, (uint32_t)v->array_value->n_values);
        for (size_t i = 0; i < v->array_value->n_values; i++)
            otlp_pack_any(pk, v->array_value->values[i]);
        return;
    case CASE(KVLIST_VALUE):
        if (!v->kvlist_value) break;
        otlp_pack_kvs(pk, v->kvlist_value->values, v->kvlist_value->n_values);
        return;
    case CASE(BYTES_VALUE):
        pack_base64(pk, v->bytes_value.data, v->bytes_value.len);
        return;
    default:
        break;
    }
    msgpack_pack_nil(pk);
}

void
otlp_pack_kvs(msgpack_packer *pk, otlp_kv *const *kv, size_t n)
{
    msgpack_pack_map(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        sluice_pack_cstr(pk, kv[i]->key);
        otlp_pack_any(pk, kv[i]->value);
    }
}

void
otlp_any_text(const otlp_any *v, sluice_buf *out)
{
    sluice_buf_reset(out);
    switch (v ? v->value_case : CASE(_NOT_SET)) {
    case CASE(STRING_VALUE):
        sluice_buf_append(out, v->string_value, strlen(v->string_value));
        return;
    case CASE(BOOL_VALUE):
        sluice_buf_printf(out, "%s", v->bool_value ? "true" : "false");
        return;
    case CASE(INT_VALUE):
        sluice_buf_printf(out, "%lld", (long long)v->int_value);
        return;
    case CASE(DOUBLE_VALUE): {
        char num[32];
        double d = v->double_value;
        int n = isnan(d)   ? snprintf(num, sizeof num, "NaN")
                : isinf(d) ? snprintf(num, sizeof num, "%cInf", d < 0 ? '-' : '+')
                           : sluice_double_text(d, num);
        sluice_buf_append(out, num, (size_t)n);
        return;
    }
    case CASE(BYTES_VALUE):
        otlp_base64(out, v->bytes_value.data, v->bytes_value.len);
        return;
    case CASE(ARRAY_VALUE):
    case CASE(KVLIST_VALUE): {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        otlp_pack_any(&pk, v);
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS)
            sluice_json_value(out, &up.data);
        msgpack_unpacked_destroy(&up);
        msgpack_sbuffer_destroy(&sb);
        return;
    }
    default:
        return;
    }
}

size_t
otlp_hex_id(const uint8_t *id, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    int zero = 1;
    for (size_t i = 0; i < len; i++) {
        zero &= id[i] == 0;
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[zero ? 0 : 2 * len] = '\0';
    return zero ? 0 : 2 * len;
}

/* ==== Base64 ==== */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
otlp_base64(sluice_buf *out, const uint8_t *p, size_t n)
{
    if (n == 0) return;
    sluice_buf_reserve(out, (n + 2) / 3 * 4);
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = b64[x >> 18];
        *o++ = b64[x >> 12 & 63];
        *o++ = b64[x >> 6 & 63];
        *o++ = b64[x & 63];
    }
    if (i < n) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = b64[x >> 18];
        *o++ = b64[x >> 12 & 63];
        *o++ = i + 1 < n ? b64[x >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->data);
}

static int
b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

long
otlp_base64_decode(const char *s, size_t n, uint8_t *out)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1) return -1;
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)len;
}

void
otlp_reject(otlp_result *res, uint64_t n, const char *fmt, ...)
{
    if (res->rejected == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->message, sizeof res->message, fmt, ap);
        va_end(ap);
    }
    res->rejected += n;
}

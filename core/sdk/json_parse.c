/* JSON to MessagePack (see include/sluice/json.h). Two passes: a validating
 * scan that records on a tape each container's item count (MessagePack
 * wants it first) and each string's decoded length, then the packing, which
 * reads the tape instead of scanning again. Nothing is packed unless the
 * whole input is valid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/event.h"
#include "sluice/json.h"
#include "utf8.h"

/* What the scan learns for the packing, in the order the packing meets
 * it: a container's item count, a string's decoded length and whether it
 * can be copied as it is. */
typedef struct tape_entry {
    uint32_t n;     /* items, or decoded bytes */
    uint32_t plain; /* strings: no escapes, no invalid UTF-8 */
} tape_entry;

typedef struct jp {
    const char *p, *end, *start;
    const char *err;
    const char *err_at;
    tape_entry *tape;
    size_t n_tape, cap_tape, next;
    tape_entry inline_tape[64];
} jp;

static size_t
tape_push(jp *j, uint32_t n, uint32_t plain)
{
    if (j->n_tape == j->cap_tape) {
        size_t cap = j->cap_tape * 2;
        tape_entry *t = malloc(cap * sizeof *t);
        memcpy(t, j->tape, j->n_tape * sizeof *t);
        if (j->tape != j->inline_tape)
            free(j->tape);
        j->tape = t;
        j->cap_tape = cap;
    }
    j->tape[j->n_tape] = (tape_entry){n, plain};
    return j->n_tape++;
}

/* Byte classes inside a string: 0 plain ASCII, 1 '"', 2 '\\', 3 control,
 * 4 the start of a multi-byte sequence. */
static const unsigned char string_class[256] = {
    [0 ... 31] = 3, ['"'] = 1, ['\\'] = 2, [128 ... 255] = 4,
};

static int
fail(jp *j, const char *at, const char *what)
{
    if (!j->err) {
        j->err = what;
        j->err_at = at;
    }
    return -1;
}

static const char *
ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int
hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

/* ==== Scanning (validation, counts, decoded string lengths) ==== */

static int scan_value(jp *j, const char **pp, int depth);

/* A string starting at the quote: checks it and records its decoded length
 * on the tape. */
static int
scan_string(jp *j, const char **pp)
{
    const char *p = *pp + 1, *end = j->end;
    size_t n = 0;
    int plain = 1;
    for (;;) {
        const char *run = p;
        while (p < end && string_class[(unsigned char)*p] == 0)
            p++;
        n += (size_t)(p - run);
        if (p >= end)
            return fail(j, *pp, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(j, p, "control character in a string");
        if (c == '\\') {
            plain = 0;
            if (p + 1 >= end)
                return fail(j, p, "unterminated escape");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                n++;
                p += 2;
                continue;
            case 'u': {
                unsigned u;
                if (end - p < 6 || hex4(p + 2, &u) < 0)
                    return fail(j, p, "bad \\u escape");
                p += 6;
                if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                    unsigned lo;
                    if (hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                        p += 6;
                        n += 4;
                        continue;
                    }
                }
                n += u < 0x80 ? 1 : u < 0x800 ? 2 : 3; /* lone surrogates: U+FFFD, 3 */
                continue;
            }
            default:
                return fail(j, p, "bad escape");
            }
        }
        size_t k = utf8_seq((const unsigned char *)p, (size_t)(end - p));
        if (!k)
            plain = 0;
        n += k ? k : 3;
        p += k ? k : 1;
    }
    if (n > UINT32_MAX)
        return fail(j, *pp, "string too long");
    tape_push(j, (uint32_t)n, (uint32_t)plain);
    *pp = p + 1;
    return 0;
}

static int
scan_number(jp *j, const char **pp)
{
    const char *p = *pp, *end = j->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !(*p >= '0' && *p <= '9'))
        return fail(j, *pp, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !(*p >= '0' && *p <= '9'))
            return fail(j, p, "bad fraction");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !(*p >= '0' && *p <= '9'))
            return fail(j, p, "bad exponent");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    *pp = p;
    return 0;
}

static int
literal(jp *j, const char **pp, const char *word, size_t n)
{
    if ((size_t)(j->end - *pp) < n || memcmp(*pp, word, n) != 0)
        return fail(j, *pp, "unexpected character");
    *pp += n;
    return 0;
}

/* A container from its bracket; *count gets its items (pairs for objects). */
static int
scan_container(jp *j, const char **pp, int depth, uint32_t *count)
{
    const char *p = *pp;
    char close = *p == '[' ? ']' : '}';
    if (depth >= SLUICE_JSON_MAX_DEPTH)
        return fail(j, p, "nested too deeply");
    p = ws(p + 1, j->end);
    uint32_t n = 0;
    size_t slot = tape_push(j, 0, 0);
    if (p < j->end && *p == close) {
        *pp = p + 1;
        *count = 0;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (p >= j->end || *p != '"')
                return fail(j, p, "expected a string key");
            if (scan_string(j, &p) < 0)
                return -1;
            p = ws(p, j->end);
            if (p >= j->end || *p != ':')
                return fail(j, p, "expected ':'");
            p = ws(p + 1, j->end);
        }
        if (scan_value(j, &p, depth + 1) < 0)
            return -1;
        n++;
        p = ws(p, j->end);
        if (p < j->end && *p == ',') {
            p = ws(p + 1, j->end);
            continue;
        }
        if (p < j->end && *p == close)
            break;
        return fail(j, p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
    *pp = p + 1;
    *count = n;
    j->tape[slot].n = n;
    return 0;
}

static int
scan_value(jp *j, const char **pp, int depth)
{
    const char *p = *pp;
    if (p >= j->end)
        return fail(j, p, "unexpected end");
    uint32_t count;
    switch (*p) {
    case '"': return scan_string(j, pp);
    case '[': case '{': return scan_container(j, pp, depth, &count);
    case 't': return literal(j, pp, "true", 4);
    case 'f': return literal(j, pp, "false", 5);
    case 'n': return literal(j, pp, "null", 4);
    default: return scan_number(j, pp);
    }
}

/* ==== Packing (input known valid) ==== */

static void
put_utf8(char *out, size_t *o, unsigned u)
{
    if (u < 0x80) {
        out[(*o)++] = (char)u;
    } else if (u < 0x800) {
        out[(*o)++] = (char)(0xc0 | (u >> 6));
        out[(*o)++] = (char)(0x80 | (u & 0x3f));
    } else if (u < 0x10000) {
        out[(*o)++] = (char)(0xe0 | (u >> 12));
        out[(*o)++] = (char)(0x80 | ((u >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (u & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | (u >> 18));
        out[(*o)++] = (char)(0x80 | ((u >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((u >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (u & 0x3f));
    }
}

/* Pack the JSON string at *pp (its opening quote), whose tape entry the
 * validating pass wrote, and move *pp past its closing quote. Plain
 * strings go out as the input's bytes; others are decoded: escapes,
 * surrogate pairs (a lone surrogate becomes U+FFFD), and invalid UTF-8
 * replaced by U+FFFD, into a stack buffer or, when longer, a heap one it
 * frees. Trusts the tape: the string was validated before. */
static void
pack_string(jp *j, const char **pp, msgpack_packer *pk)
{
    tape_entry t = j->tape[j->next++];
    size_t len = t.n;
    const char *p = *pp + 1;
    if (t.plain) {
        /* No escapes, valid UTF-8: the bytes as they are. */
        msgpack_pack_str_with_body(pk, p, len);
        *pp = p + len + 1;
        return;
    }
    char stackbuf[256];
    char *out = len <= sizeof stackbuf ? stackbuf : malloc(len);
    size_t o = 0;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': out[o++] = '\b'; break;
            case 'f': out[o++] = '\f'; break;
            case 'n': out[o++] = '\n'; break;
            case 'r': out[o++] = '\r'; break;
            case 't': out[o++] = '\t'; break;
            case 'u': {
                unsigned u, lo;
                hex4(p, &u);
                p += 4;
                if (u >= 0xd800 && u <= 0xdbff && j->end - p >= 6 && p[0] == '\\' &&
                    p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                } else if (u >= 0xd800 && u <= 0xdfff) {
                    u = 0xfffd;
                }
                put_utf8(out, &o, u);
                break;
            }
            default: out[o++] = e; break; /* " \ / */
            }
        } else if (c < 0x80) {
            out[o++] = (char)c;
            p++;
        } else {
            size_t k = utf8_seq((const unsigned char *)p, (size_t)(j->end - p));
            if (k) {
                memcpy(out + o, p, k);
                o += k;
                p += k;
            } else {
                memcpy(out + o, "\xef\xbf\xbd", 3);
                o += 3;
                p++;
            }
        }
    }
    msgpack_pack_str_with_body(pk, out, o);
    if (out != stackbuf)
        free(out);
    *pp = p + 1;
}

static void
pack_number_slow(const char *s, const char *e, msgpack_packer *pk)
{
    char buf[64];
    size_t n = (size_t)(e - s);
    int integer = !memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n);
    if (integer && n < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        errno = 0;
        if (*s == '-') {
            long long v = strtoll(buf, NULL, 10);
            if (!errno) {
                msgpack_pack_int64(pk, v);
                return;
            }
        } else {
            unsigned long long v = strtoull(buf, NULL, 10);
            if (!errno) {
                msgpack_pack_uint64(pk, v);
                return;
            }
        }
    }
    /* Too long or too big for an integer: a double (strtod needs a NUL). */
    char *tmp = n < sizeof buf ? buf : malloc(n + 1);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    msgpack_pack_double(pk, strtod(tmp, NULL));
    if (tmp != buf)
        free(tmp);
}

/* Integers of up to 19 digits, and decimals whose digits fit a double
 * exactly (15) scaled by at most 10^22: one exact operation, so correctly
 * rounded as strtod would (Clinger's fast path). Anything else: strtod. */
static void
pack_number(const char *s, const char *e, msgpack_packer *pk)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s;
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++, digits++)
        m = m * 10 + (uint64_t)(*p - '0');
    if (p == e) {
        if (digits > 19 || (neg && m > (uint64_t)INT64_MAX + 1))
            return pack_number_slow(s, e, pk);
        if (neg)
            msgpack_pack_int64(pk, m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m);
        else
            msgpack_pack_uint64(pk, m);
        return;
    }
    if (*p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++, digits++, frac++)
            m = m * 10 + (uint64_t)(*p - '0');
    int exp = 0;
    if (p < e) { /* an exponent */
        int eneg = 0;
        p++;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        for (; p < e && exp < 1000; p++)
            exp = exp * 10 + (*p - '0');
        if (p < e)
            return pack_number_slow(s, e, pk);
        exp = eneg ? -exp : exp;
    }
    exp -= frac;
    if (digits > 15 || exp < -22 || exp > 22)
        return pack_number_slow(s, e, pk);
    double v = exp < 0 ? (double)m / pow10[-exp] : (double)m * pow10[exp];
    msgpack_pack_double(pk, neg ? -v : v);
}

static void
pack_value(jp *j, const char **pp, msgpack_packer *pk)
{
    const char *p = *pp;
    uint32_t count;
    switch (*p) {
    case '"':
        pack_string(j, pp, pk);
        return;
    case 't':
        msgpack_pack_true(pk);
        *pp += 4;
        return;
    case 'f':
        msgpack_pack_false(pk);
        *pp += 5;
        return;
    case 'n':
        msgpack_pack_nil(pk);
        *pp += 4;
        return;
    case '[':
    case '{': {
        count = j->tape[j->next++].n;
        int obj = *p == '{';
        if (obj)
            msgpack_pack_map(pk, count);
        else
            msgpack_pack_array(pk, count);
        p = ws(p + 1, j->end);
        for (uint32_t i = 0; i < count; i++) {
            if (obj) {
                pack_string(j, &p, pk);
                p = ws(p, j->end);
                p = ws(p + 1, j->end); /* : */
            }
            pack_value(j, &p, pk);
            p = ws(p, j->end);
            if (*p == ',')
                p = ws(p + 1, j->end);
        }
        *pp = ws(p, j->end) + 1; /* the closing bracket */
        return;
    }
    default: {
        const char *e = p;
        scan_number(j, &e);
        pack_number(p, e, pk);
        *pp = e;
    }
    }
}

int
sluice_json_to_msgpack_at(const char *s, size_t n, msgpack_packer *pk, char *err, size_t errlen,
                          size_t *at)
{
    jp j = {.p = s, .end = s + n, .start = s};
    j.tape = j.inline_tape;
    j.cap_tape = sizeof j.inline_tape / sizeof *j.inline_tape;
    const char *p = ws(s, j.end);
    const char *start = p;
    if (scan_value(&j, &p, 0) == 0) {
        p = ws(p, j.end);
        if (p != j.end)
            fail(&j, p, "data after the value");
    }
    if (j.err) {
        if (err)
            snprintf(err, errlen, "%s", j.err);
        *at = (size_t)(j.err_at - s);
        if (j.tape != j.inline_tape)
            free(j.tape);
        return -1;
    }
    pack_value(&j, &start, pk);
    if (j.tape != j.inline_tape)
        free(j.tape);
    return 0;
}

int
sluice_json_to_msgpack(const char *s, size_t n, msgpack_packer *pk, char *err, size_t errlen)
{
    char what[128];
    size_t at;
    if (sluice_json_to_msgpack_at(s, n, pk, what, sizeof what, &at) == 0)
        return 0;
    if (err)
        snprintf(err, errlen, "%s at byte %zu", what, at);
    return -1;
}

int
sluice_json_object(const char *s, size_t n, msgpack_sbuffer *scratch, sluice_json_members *out,
                   char *err, size_t errlen)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(scratch);
    msgpack_packer_init(&pk, scratch, msgpack_sbuffer_write);
    if (sluice_json_to_msgpack(s, n, &pk, err, errlen) < 0)
        return -1;
    size_t head;
    if (!sluice_map_header(scratch->data, scratch->size, &out->count, &head)) {
        if (err)
            snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    out->data = scratch->data + head;
    out->len = scratch->size - head;
    return 0;
}

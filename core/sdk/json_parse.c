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
#include "swar.h"
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
    size_t bound; /* at most this many bytes of MessagePack come out */
    /* Members of the top-level object left out (sluice_json_object_without). */
    const char *const *drop;
    const size_t *drop_len;
    size_t n_drop;
    tape_entry inline_tape[64];
} jp;

static __attribute__((noinline)) void
tape_grow(jp *j)
{
    size_t cap = j->cap_tape * 2;
    tape_entry *t = malloc(cap * sizeof *t);
    if (!t)
        abort();
    memcpy(t, j->tape, j->n_tape * sizeof *t);
    if (j->tape != j->inline_tape)
        free(j->tape);
    j->tape = t;
    j->cap_tape = cap;
}

static inline size_t
tape_push(jp *j, uint32_t n, uint32_t plain)
{
    if (j->n_tape == j->cap_tape)
        tape_grow(j);
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
        while (end - p >= 8 && swar_json_plain8(p))
            p += 8;
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
    j->bound += n + 5;
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
    j->bound += 9;
    *pp = p;
    return 0;
}

static int
literal(jp *j, const char **pp, const char *word, size_t n)
{
    if ((size_t)(j->end - *pp) < n || memcmp(*pp, word, n) != 0)
        return fail(j, *pp, "unexpected character");
    j->bound++;
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
    j->bound += 5;
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

/* ==== Packing (input known valid) ====
 * Straight into a buffer the scan sized (j->bound), in MessagePack's
 * smallest forms as msgpack-c packs them, and handed to the caller's
 * packer in one write: a write per token through the packer's callback
 * cost as much as the parsing. */

static inline char *
put_be(char *o, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *o++ = (char)(v >> (8 * i));
    return o;
}

static inline char *
put_container(char *o, uint32_t n, int map)
{
    if (n < 16) {
        *o++ = (char)((map ? 0x80 : 0x90) | n);
        return o;
    }
    *o++ = (char)(n <= 0xffff ? (map ? 0xde : 0xdc) : (map ? 0xdf : 0xdd));
    return put_be(o, n, n <= 0xffff ? 2 : 4);
}

static inline char *
put_str_head(char *o, size_t n)
{
    if (n < 32) {
        *o++ = (char)(0xa0 | n);
    } else if (n <= 0xff) {
        *o++ = (char)0xd9;
        *o++ = (char)n;
    } else {
        *o++ = (char)(n <= 0xffff ? 0xda : 0xdb);
        o = put_be(o, n, n <= 0xffff ? 2 : 4);
    }
    return o;
}

static inline char *
put_str(char *o, const char *s, size_t n)
{
    o = put_str_head(o, n);
    memcpy(o, s, n);
    return o + n;
}

static char *
put_uint(char *o, uint64_t v)
{
    if (v < 128) {
        *o++ = (char)v;
        return o;
    }
    int bytes = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;
    *o++ = (char)(bytes == 1 ? 0xcc : bytes == 2 ? 0xcd : bytes == 4 ? 0xce : 0xcf);
    return put_be(o, v, bytes);
}

static char *
put_int(char *o, int64_t v)
{
    if (v >= 0)
        return put_uint(o, (uint64_t)v);
    if (v >= -32) {
        *o++ = (char)v;
        return o;
    }
    int bytes = v >= -128 ? 1 : v >= -32768 ? 2 : v >= INT32_MIN ? 4 : 8;
    *o++ = (char)(bytes == 1 ? 0xd0 : bytes == 2 ? 0xd1 : bytes == 4 ? 0xd2 : 0xd3);
    return put_be(o, (uint64_t)v, bytes);
}

static char *
put_double(char *o, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    *o++ = (char)0xcb;
    return put_be(o, bits, 8);
}

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
static char *
pack_string(jp *j, const char **pp, char *o)
{
    tape_entry t = j->tape[j->next++];
    size_t len = t.n;
    const char *p = *pp + 1;
    if (t.plain) {
        /* No escapes, valid UTF-8: the bytes as they are. */
        *pp = p + len + 1;
        return put_str(o, p, len);
    }
    /* Decoded in place after the largest header; moved down if the
     * header is shorter. */
    char *out = o + 5;
    size_t n = 0;
    while (*p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
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
                put_utf8(out, &n, u);
                break;
            }
            default: out[n++] = e; break; /* " \ / */
            }
        } else if (c < 0x80) {
            out[n++] = (char)c;
            p++;
        } else {
            size_t k = utf8_seq((const unsigned char *)p, (size_t)(j->end - p));
            if (k) {
                memcpy(out + n, p, k);
                n += k;
                p += k;
            } else {
                memcpy(out + n, "\xef\xbf\xbd", 3);
                n += 3;
                p++;
            }
        }
    }
    *pp = p + 1;
    char head[5];
    size_t hl = (size_t)(put_str_head(head, n) - head);
    memmove(o + hl, out, n);
    memcpy(o, head, hl);
    return o + hl + n;
}

static char *
pack_number_slow(const char *s, const char *e, char *o)
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
            if (!errno)
                return put_int(o, v);
        } else {
            unsigned long long v = strtoull(buf, NULL, 10);
            if (!errno)
                return put_uint(o, v);
        }
    }
    /* Too long or too big for an integer: a double (strtod needs a NUL). */
    char *tmp = n < sizeof buf ? buf : malloc(n + 1);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    o = put_double(o, strtod(tmp, NULL));
    if (tmp != buf)
        free(tmp);
    return o;
}

/* Integers of up to 19 digits, and decimals whose digits fit a double
 * exactly (15) scaled by at most 10^22: one exact operation, so correctly
 * rounded as strtod would (Clinger's fast path). Anything else: strtod. */
static char *
pack_number(const char *s, const char *e, char *o)
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
            return pack_number_slow(s, e, o);
        if (neg)
            return put_int(o, m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m);
        return put_uint(o, m);
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
            return pack_number_slow(s, e, o);
        exp = eneg ? -exp : exp;
    }
    exp -= frac;
    if (digits > 15 || exp < -22 || exp > 22)
        return pack_number_slow(s, e, o);
    double v = exp < 0 ? (double)m / pow10[-exp] : (double)m * pow10[exp];
    return put_double(o, neg ? -v : v);
}

static char *pack_value(jp *j, const char **pp, char *o);

/* Whether the key packed at [k, e) is one of j->drop. */
static int
dropped_key(const jp *j, const char *k, const char *e)
{
    unsigned char b = (unsigned char)k[0];
    size_t head = b >= 0xa0 && b <= 0xbf ? 1 : b == 0xd9 ? 2 : b == 0xda ? 3 : 5;
    size_t n = (size_t)(e - k) - head;
    for (size_t i = 0; i < j->n_drop; i++)
        if (j->drop_len[i] == n && memcmp(j->drop[i], k + head, n) == 0)
            return 1;
    return 0;
}

/* The top-level object without the members j->drop names: each is packed,
 * then taken back; the header is rewritten if the count shrank. Kept out
 * of line: the common path, without a drop list, stays as it was. */
static __attribute__((noinline)) char *
pack_object_without(jp *j, const char **pp, char *o)
{
    const char *p = *pp;
    uint32_t count = j->tape[j->next++].n, kept = 0;
    char *head = o;
    o = put_container(o, count, 1);
    size_t head_len = (size_t)(o - head);
    p = ws(p + 1, j->end);
    for (uint32_t i = 0; i < count; i++) {
        char *key = o;
        o = pack_string(j, &p, o);
        char *key_end = o;
        p = ws(p, j->end);
        p = ws(p + 1, j->end); /* : */
        o = pack_value(j, &p, o);
        if (dropped_key(j, key, key_end))
            o = key;
        else
            kept++;
        p = ws(p, j->end);
        if (*p == ',')
            p = ws(p + 1, j->end);
    }
    *pp = ws(p, j->end) + 1; /* the closing brace */
    if (kept == count)
        return o;
    char h[5];
    size_t hl = (size_t)(put_container(h, kept, 1) - h);
    memmove(head + hl, head + head_len, (size_t)(o - head - (ptrdiff_t)head_len));
    memcpy(head, h, hl);
    return o - (head_len - hl);
}

static char *
pack_value(jp *j, const char **pp, char *o)
{
    const char *p = *pp;
    uint32_t count;
    switch (*p) {
    case '"':
        return pack_string(j, pp, o);
    case 't':
        *pp += 4;
        *o++ = (char)0xc3;
        return o;
    case 'f':
        *pp += 5;
        *o++ = (char)0xc2;
        return o;
    case 'n':
        *pp += 4;
        *o++ = (char)0xc0;
        return o;
    case '[':
    case '{': {
        count = j->tape[j->next++].n;
        int obj = *p == '{';
        o = put_container(o, count, obj);
        p = ws(p + 1, j->end);
        for (uint32_t i = 0; i < count; i++) {
            if (obj) {
                o = pack_string(j, &p, o);
                p = ws(p, j->end);
                p = ws(p + 1, j->end); /* : */
            }
            o = pack_value(j, &p, o);
            p = ws(p, j->end);
            if (*p == ',')
                p = ws(p + 1, j->end);
        }
        *pp = ws(p, j->end) + 1; /* the closing bracket */
        return o;
    }
    default: {
        const char *e = p;
        scan_number(j, &e);
        *pp = e;
        return pack_number(p, e, o);
    }
    }
}

/* sluice_json_to_msgpack_at, leaving out the top-level object's members
 * named in `drop`. */
static int
to_msgpack(const char *s, size_t n, msgpack_packer *pk, const char *const *drop, size_t n_drop,
           char *err, size_t errlen, size_t *at)
{
    jp j = {.p = s, .end = s + n, .start = s};
    size_t drop_len[SLUICE_JSON_MAX_DROP];
    if (n_drop) {
        j.drop = drop;
        j.drop_len = drop_len;
        j.n_drop = n_drop < SLUICE_JSON_MAX_DROP ? n_drop : SLUICE_JSON_MAX_DROP;
        for (size_t i = 0; i < j.n_drop; i++)
            drop_len[i] = drop[i] ? strlen(drop[i]) : SIZE_MAX;
    }
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
    char stackbuf[4096];
    char *buf = j.bound <= sizeof stackbuf ? stackbuf : malloc(j.bound);
    if (!buf)
        abort();
    char *o = j.n_drop && *start == '{' ? pack_object_without(&j, &start, buf)
                                         : pack_value(&j, &start, buf);
    size_t len = (size_t)(o - buf);
    pk->callback(pk->data, buf, len);
    if (buf != stackbuf)
        free(buf);
    if (j.tape != j.inline_tape)
        free(j.tape);
    return 0;
}

int
sluice_json_to_msgpack_at(const char *s, size_t n, msgpack_packer *pk, char *err, size_t errlen,
                          size_t *at)
{
    return to_msgpack(s, n, pk, NULL, 0, err, errlen, at);
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
    return sluice_json_object_without(s, n, NULL, 0, scratch, out, err, errlen);
}

int
sluice_json_object_without(const char *s, size_t n, const char *const *drop, size_t n_drop,
                           msgpack_sbuffer *scratch, sluice_json_members *out, char *err,
                           size_t errlen)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(scratch);
    msgpack_packer_init(&pk, scratch, msgpack_sbuffer_write);
    char what[128];
    size_t at;
    if (to_msgpack(s, n, &pk, drop, n_drop, what, sizeof what, &at) < 0) {
        if (err)
            snprintf(err, errlen, "%s at byte %zu", what, at);
        return -1;
    }
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

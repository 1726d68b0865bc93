/* The StatsD line parser (see statsd_parse.h). One pass over the line
 * with memchr; numbers by Clinger's fast path, strtod only for the rare
 * long or large one. */
#include "statsd_parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const statsd_type_names[STATSD_TYPES] = {"counter", "gauge", "timing", "set"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return STATSD_LINE_BAD;
}

/* ==== Numbers ==== */

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int
statsd_parse_number(const char *p, size_t n, double *out)
{
    const char *s = p, *end = p + n;
    int neg = 0;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    uint64_t mant = 0;
    int digits = 0, exp10 = 0, seen = 0, exact = 1;
    for (; s < end && *s >= '0' && *s <= '9'; s++, seen++) {
        if (mant == 0 && *s == '0')
            continue;
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(*s - '0');
            digits++;
        } else {
            exp10++;
            exact = 0;
        }
    }
    if (s < end && *s == '.') {
        s++;
        for (; s < end && *s >= '0' && *s <= '9'; s++, seen++) {
            if (mant == 0 && *s == '0') {
                exp10--;
                continue;
            }
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*s - '0');
                digits++;
                exp10--;
            } else {
                exact = 0;
            }
        }
    }
    if (!seen)
        return -1;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        int eneg = 0, e = 0, edigits = 0;
        if (s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        for (; s < end && *s >= '0' && *s <= '9'; s++, edigits++)
            if (e < 100000)
                e = e * 10 + (*s - '0');
        if (!edigits)
            return -1;
        exp10 += eneg ? -e : e;
    }
    if (s != end)
        return -1;
    double d;
    if (exact && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        d = (double)mant;
        d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
    } else if (mant == 0) {
        d = 0;
    } else {
        char buf[64];
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        d = strtod(buf, NULL);
        if (!isfinite(d))
            return -1;
        *out = d;
        return 0;
    }
    if (!isfinite(d))
        return -1;
    *out = neg ? -d : d;
    return 0;
}

/* ==== Tags ==== */

static int
add_tag(statsd_line *out, const char *k, size_t kn, const char *v, size_t vn, char *err,
        size_t errlen)
{
    if (kn == 0)
        return fail(err, errlen, "a tag without a name");
    if (out->n_tags == STATSD_MAX_TAGS)
        return fail(err, errlen, "more than %d tags", STATSD_MAX_TAGS);
    out->tags[out->n_tags++] = (statsd_tag){{k, kn}, {v, vn}};
    return 0;
}

/* InfluxDB style, after the name: k=v,k2=v2 */
static int
influx_tags(statsd_line *out, const char *p, const char *end, char *err, size_t errlen)
{
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (item_end > p) {
            const char *eq = memchr(p, '=', (size_t)(item_end - p));
            if (!eq)
                return fail(err, errlen, "tag '%.*s' in the name has no '='",
                            (int)(item_end - p > 64 ? 64 : item_end - p), p);
            if (eq + 1 == item_end)
                return fail(err, errlen, "tag '%.*s' in the name has no value",
                            (int)(eq - p > 64 ? 64 : eq - p), p);
            if (add_tag(out, p, (size_t)(eq - p), eq + 1, (size_t)(item_end - eq - 1), err, errlen))
                return STATSD_LINE_BAD;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

/* DogStatsD style, after '#': k:v,flag */
static int
dog_tags(statsd_line *out, const char *p, const char *end, char *err, size_t errlen)
{
    while (p < end) {
        const char *item_end = p, *colon = NULL;
        for (; item_end < end && *item_end != ','; item_end++)
            if (*item_end == ':' && !colon)
                colon = item_end;
        const char *comma = item_end < end ? item_end : NULL;
        if (item_end > p) {
            int r = colon ? add_tag(out, p, (size_t)(colon - p), colon + 1,
                                    (size_t)(item_end - colon - 1), err, errlen)
                          : add_tag(out, p, (size_t)(item_end - p), "true", 4, err, errlen);
            if (r)
                return STATSD_LINE_BAD;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

static int
span_cmp(sd_span a, sd_span b)
{
    int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* Sort by key (stably), then keep the last of each run of equal keys. */
static void
sort_tags(statsd_line *out)
{
    statsd_tag *t = out->tags;
    size_t n = out->n_tags;
    for (size_t i = 1; i < n; i++) {
        statsd_tag x = t[i];
        size_t j = i;
        while (j > 0 && span_cmp(t[j - 1].key, x.key) > 0) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && span_cmp(t[i].key, t[i + 1].key) == 0)
            continue;
        t[w++] = t[i];
    }
    out->n_tags = w;
}

/* ==== Lines ==== */

static int
parse_type(const char *p, size_t n, statsd_type *t)
{
    if (n == 1) {
        switch (*p) {
        case 'c': *t = STATSD_COUNTER; return 0;
        case 'g': *t = STATSD_GAUGE; return 0;
        case 'h':
        case 'd': *t = STATSD_TIMER; return 0;
        case 's': *t = STATSD_SET; return 0;
        }
    } else if (n == 2 && p[0] == 'm' && p[1] == 's') {
        *t = STATSD_TIMER;
        return 0;
    }
    return -1;
}

/* The value(s) of one segment, [p, end) separated by ':', as `type` at
 * `rate`. */
static int
add_values(statsd_line *out, const char *p, const char *end, statsd_type type, double rate,
           char *err, size_t errlen)
{
    for (;;) {
        const char *vend = p;
        while (vend < end && *vend != ':')
            vend++;
        const char *colon = vend < end ? vend : NULL;
        size_t n = (size_t)(vend - p);
        if (n == 0)
            return fail(err, errlen, "an empty value");
        if (out->n_values == STATSD_MAX_VALUES)
            return fail(err, errlen, "more than %d values in one line", STATSD_MAX_VALUES);
        statsd_value *v = &out->values[out->n_values];
        *v = (statsd_value){.type = type, .rate = rate, .text = {p, n}};
        if (type != STATSD_SET) {
            if (statsd_parse_number(p, n, &v->value) != 0)
                return fail(err, errlen, "value '%.*s' is not a finite number",
                            (int)(n > 64 ? 64 : n), p);
            v->delta = type == STATSD_GAUGE && (*p == '+' || *p == '-');
        }
        out->n_values++;
        if (!colon)
            return 0;
        p = colon + 1;
    }
}

int
statsd_parse_line(const char *line, size_t len, statsd_line *out, char *err, size_t errlen)
{
    const char *end = line + len;
    out->n_tags = out->n_values = 0;
    if (len >= 3 && memcmp(line, "_e{", 3) == 0) {
        fail(err, errlen, "a DogStatsD event");
        return STATSD_LINE_UNSUPPORTED;
    }
    if (len >= 4 && memcmp(line, "_sc|", 4) == 0) {
        fail(err, errlen, "a DogStatsD service check");
        return STATSD_LINE_UNSUPPORTED;
    }
    const char *colon = line, *comma = NULL;
    for (; colon < end && *colon != ':'; colon++)
        if (*colon == ',' && !comma)
            comma = colon;
    if (colon == end)
        return fail(err, errlen, "no ':' after the name");
    const char *name_end = comma ? comma : colon;
    if (name_end == line)
        return fail(err, errlen, "no name before ':'");
    out->name = (sd_span){line, (size_t)(name_end - line)};
    if (comma && influx_tags(out, comma + 1, colon, err, errlen))
        return STATSD_LINE_BAD;

    /* DogStatsD tags run from "|#" to the next '|': they may hold ':'. */
    const char *body = colon + 1, *tags = NULL, *tags_end = NULL;
    for (const char *q = body; (q = memchr(q, '#', (size_t)(end - q))) != NULL; q++)
        if (q[-1] == '|') {
            tags = q + 1;
            tags_end = memchr(tags, '|', (size_t)(end - tags));
            if (!tags_end)
                tags_end = end;
            if (dog_tags(out, tags, tags_end, err, errlen))
                return STATSD_LINE_BAD;
            break;
        }

    const char *q = body;
    for (;;) {
        const char *bar = memchr(q, '|', (size_t)(end - q));
        if (!bar)
            return fail(err, errlen, "no '|type' after the value");
        const char *values = q, *values_end = bar;
        q = bar + 1;
        const char *t = q;
        while (q < end && *q != '|' && *q != ':')
            q++;
        statsd_type type;
        if (parse_type(t, (size_t)(q - t), &type) != 0)
            return fail(err, errlen, "unknown type '%.*s' (c, g, ms, h, d or s)",
                        (int)(q - t > 16 ? 16 : q - t), t);
        double rate = 1;
        while (q < end && *q == '|') {
            const char *f = ++q;
            if (f < end && *f == '@') {
                while (q < end && *q != '|' && *q != ':')
                    q++;
                if (statsd_parse_number(f + 1, (size_t)(q - f - 1), &rate) != 0 || !(rate > 0) ||
                    rate > 1)
                    return fail(err, errlen, "sample rate '%.*s' is not in (0, 1]",
                                (int)(q - f > 32 ? 32 : q - f), f);
            } else if (f < end && *f == '#') {
                if (f + 1 != tags)
                    return fail(err, errlen, "a second '|#' tag section");
                q = tags_end;
            } else if (f + 1 < end && f[0] == 'c' && f[1] == ':') {
                while (q < end && *q != '|')
                    q++;
            } else if (f < end && *f == 'T') {
                q = f + 1;
                while (q < end && *q >= '0' && *q <= '9')
                    q++;
                if (q == f + 1 || (q < end && *q != '|' && *q != ':'))
                    return fail(err, errlen, "timestamp field '|T' without a number");
            } else {
                return fail(err, errlen, "unknown field '|%.*s'",
                            (int)(end - f > 16 ? 16 : end - f), f);
            }
        }
        if (add_values(out, values, values_end, type, rate, err, errlen))
            return STATSD_LINE_BAD;
        if (q == end)
            break;
        q++; /* ':' — Telegraf's next value|type */
    }
    if (out->n_tags > 1)
        sort_tags(out);
    return STATSD_LINE_OK;
}

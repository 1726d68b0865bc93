/* Reading the exposition formats (exposition.h), line by line:
 *
 *   # HELP name text          # TYPE name type          # UNIT name unit
 *   name{label="value",...} value [timestamp] [# exemplar]
 *   # EOF                      (OpenMetrics: required, and last)
 *
 * The text format's timestamps are milliseconds, OpenMetrics's seconds.
 * Label values are unescaped (\\, \", \n). A sample belongs to the family
 * of the last # TYPE when its name is the family's with a suffix its type
 * allows (x_bucket, x_sum, x_count of a histogram...); else it is a family
 * of its own, unknown. Any other line is an error naming it. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "exposition.h"

#define MAX_NAME 1024

typedef struct parser {
    const char *p, *end; /* the rest of the current line */
    long line;
    int om;
    char family[MAX_NAME + 1];
    exp_type type;
    sluice_buf text;    /* this line's names and unescaped values */
    size_t *offs;       /* label name, value offsets in text */
    exp_label *labels;
    size_t n_labels, cap;
    char *err;
    size_t errlen;
} parser;

static int
fail(parser *ps, const char *fmt, ...)
{
    int n = snprintf(ps->err, ps->errlen, "line %ld: ", ps->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Characters of names: 1 may start a label name, 2 a metric name, 4 may
 * follow in a label name, 8 in a metric name. */
static const unsigned char name_class[256] = {
    [':'] = 2 | 8, ['_'] = 15,
    ['0'] = 12, ['1'] = 12, ['2'] = 12, ['3'] = 12, ['4'] = 12,
    ['5'] = 12, ['6'] = 12, ['7'] = 12, ['8'] = 12, ['9'] = 12,
#define L(c) [c] = 15
    L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'), L('j'), L('k'),
    L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'), L('s'), L('t'), L('u'), L('v'),
    L('w'), L('x'), L('y'), L('z'), L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'),
    L('H'), L('I'), L('J'), L('K'), L('L'), L('M'), L('N'), L('O'), L('P'), L('Q'), L('R'),
    L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'), L('Z'),
#undef L
};

static int
name_start(char c, int metric)
{
    return name_class[(unsigned char)c] & (metric ? 2 : 1);
}

static int
name_char(char c, int metric)
{
    return name_class[(unsigned char)c] & (metric ? 8 : 4);
}

static void
skip_blanks(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

/* A name at p, copied into text; its offset, or -1. */
static long
read_name(parser *ps, int metric)
{
    const char *s = ps->p;
    if (s >= ps->end || !name_start(*s, metric))
        return -1;
    while (ps->p < ps->end && name_char(*ps->p, metric))
        ps->p++;
    if ((size_t)(ps->p - s) > MAX_NAME)
        return -1;
    long off = (long)ps->text.len;
    sluice_buf_append(&ps->text, s, (size_t)(ps->p - s));
    sluice_buf_putc(&ps->text, '\0');
    return off;
}

/* A space-separated token at p (after blanks): [*tok, *tok+len). */
static size_t
token(parser *ps, const char **tok)
{
    skip_blanks(ps);
    *tok = ps->p;
    while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t')
        ps->p++;
    return (size_t)(ps->p - *tok);
}

static const char *const type_names[] = {"unknown",        "counter", "gauge", "histogram",
                                         "gaugehistogram", "summary", "info",  "stateset"};

static int
type_of(const char *s, size_t n, int om, exp_type *out)
{
    for (int t = 0; t < 8; t++)
        if (strlen(type_names[t]) == n && memcmp(s, type_names[t], n) == 0 &&
            (om || t <= EXP_GAUGE || t == EXP_HISTOGRAM || t == EXP_SUMMARY)) {
            *out = (exp_type)t;
            return 0;
        }
    if (!om && n == 7 && memcmp(s, "untyped", 7) == 0) {
        *out = EXP_UNKNOWN;
        return 0;
    }
    return -1;
}

/* "# ..." lines. Returns 1 for # EOF, 0, or -1. */
static int
comment(parser *ps)
{
    ps->p++;
    const char *kw;
    size_t kn = token(ps, &kw);
    int help = kn == 4 && memcmp(kw, "HELP", 4) == 0;
    int type = kn == 4 && memcmp(kw, "TYPE", 4) == 0;
    int unit = kn == 4 && memcmp(kw, "UNIT", 4) == 0;
    if (ps->om && kn == 3 && memcmp(kw, "EOF", 3) == 0) {
        skip_blanks(ps);
        return ps->p == ps->end ? 1 : fail(ps, "text after # EOF");
    }
    if (!help && !type && !unit)
        return ps->om ? fail(ps, "unknown comment '# %.*s'", (int)(kn > 20 ? 20 : kn), kw) : 0;
    skip_blanks(ps);
    ps->text.len = 0;
    long name = read_name(ps, 1);
    if (name < 0)
        return fail(ps, "# %.4s without a valid metric name", kw);
    if (!type)
        return 0;
    const char *t;
    size_t tn = token(ps, &t);
    exp_type ty;
    if (type_of(t, tn, ps->om, &ty) < 0)
        return fail(ps, "unknown type '%.*s'", (int)(tn > 30 ? 30 : tn), t);
    skip_blanks(ps);
    if (ps->p != ps->end)
        return fail(ps, "text after the type");
    memcpy(ps->family, ps->text.data + name, strlen(ps->text.data + name) + 1);
    ps->type = ty;
    return 0;
}

/* A quoted label value at p, unescaped into text. */
static long
read_value(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return -1;
    ps->p++;
    long off = (long)ps->text.len;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\') {
            if (ps->p >= ps->end)
                return -1;
            char e = *ps->p++;
            if (e == 'n')
                c = '\n';
            else if (e == '\\' || e == '"')
                c = e;
            else
                return -2;
        }
        sluice_buf_putc(&ps->text, c);
    }
    if (ps->p >= ps->end)
        return -1;
    ps->p++;
    sluice_buf_putc(&ps->text, '\0');
    return off;
}

static int
read_labels(parser *ps)
{
    ps->p++; /* { */
    for (;;) {
        skip_blanks(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return 0;
        }
        long name = read_name(ps, 0);
        if (name < 0)
            return fail(ps, "a label name expected");
        skip_blanks(ps);
        if (ps->p >= ps->end || *ps->p != '=')
            return fail(ps, "'=' expected after label %s", ps->text.data + name);
        ps->p++;
        skip_blanks(ps);
        long value = read_value(ps);
        if (value == -2)
            return fail(ps, "label %s: an escape other than \\\\, \\\" or \\n",
                        ps->text.data + name);
        if (value < 0)
            return fail(ps, "label %s: a quoted value expected", ps->text.data + name);
        if (ps->n_labels == ps->cap) {
            ps->cap = ps->cap ? 2 * ps->cap : 16;
            ps->offs = sluice_realloc(ps->offs, 2 * ps->cap * sizeof *ps->offs);
            ps->labels = sluice_realloc(ps->labels, ps->cap * sizeof *ps->labels);
        }
        ps->offs[2 * ps->n_labels] = (size_t)name;
        ps->offs[2 * ps->n_labels + 1] = (size_t)value;
        ps->n_labels++;
        skip_blanks(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return 0;
        }
        return fail(ps, "',' or '}' expected after label %s", ps->text.data + name);
    }
}

static int
number(const char *s, size_t n, double *out)
{
    /* Most values are small whole numbers: exact without strtod. */
    if (n && n <= 15) {
        uint64_t v = 0;
        size_t i = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (uint64_t)(s[i++] - '0');
        if (i == n) {
            *out = (double)v;
            return 0;
        }
    }
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    *out = strtod(tmp, &end);
    return *end || (errno == ERANGE && !isinf(*out) && *out != 0) ? -1 : 0;
}

/* The text format's timestamps: whole milliseconds. */
static int
integer(const char *s, size_t n)
{
    size_t i = n && (*s == '-' || *s == '+');
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

const char *
exp_suffix(const char *name, const char *family, exp_type type, int om)
{
    static const char *const counter[] = {"", "_total", "_created", NULL};
    static const char *const plain[] = {"", NULL};
    static const char *const info[] = {"", "_info", NULL};
    static const char *const histogram[] = {"_bucket", "_sum", "_count", "_created", NULL};
    static const char *const gaugehistogram[] = {"_bucket", "_gsum", "_gcount", NULL};
    static const char *const summary[] = {"", "_sum", "_count", "_created", NULL};
    const char *const *allowed[] = {plain, counter, plain, histogram, gaugehistogram,
                                    summary, info,  plain};
    (void)om;
    size_t fl = strlen(family);
    if (strncmp(name, family, fl) != 0)
        return NULL;
    for (const char *const *s = allowed[type]; *s; s++)
        if (strcmp(name + fl, *s) == 0)
            return *s;
    return NULL;
}

static int
sample(parser *ps, exp_sample_fn fn, void *arg)
{
    ps->text.len = 0;
    ps->n_labels = 0;
    long name = read_name(ps, 1);
    if (name < 0)
        return fail(ps, "a metric name expected");
    if (ps->p < ps->end && *ps->p == '{' && read_labels(ps) < 0)
        return -1;
    if (ps->p >= ps->end || (*ps->p != ' ' && *ps->p != '\t'))
        return fail(ps, "a space and a value expected after %s", ps->text.data + name);
    const char *v;
    size_t vn = token(ps, &v);
    exp_sample s = {0};
    if (number(v, vn, &s.value) < 0)
        return fail(ps, "'%.*s' is not a number", (int)(vn > 40 ? 40 : vn), v);
    const char *t;
    size_t tn = token(ps, &t);
    if (tn && !(ps->om && *t == '#')) {
        double ts;
        if (number(t, tn, &ts) < 0 || (!ps->om && !integer(t, tn)))
            return fail(ps, "'%.*s' is not a timestamp", (int)(tn > 40 ? 40 : tn), t);
        if (!(ts > -9.2e15 && ts < 9.2e15))
            return fail(ps, "timestamp '%.*s' out of range", (int)(tn > 40 ? 40 : tn), t);
        s.has_time = 1;
        s.time_ms = ps->om ? (int64_t)llround(ts * 1000) : (int64_t)ts;
        tn = token(ps, &t);
    }
    if (tn && !(ps->om && *t == '#'))
        return fail(ps, "unexpected '%.*s' after the value", (int)(tn > 40 ? 40 : tn), t);
    /* What follows an OpenMetrics '#' is an exemplar: not kept. */
    for (size_t i = 0; i < ps->n_labels; i++) {
        ps->labels[i].name = ps->text.data + ps->offs[2 * i];
        ps->labels[i].value = ps->text.data + ps->offs[2 * i + 1];
        for (size_t k = 0; k < i; k++)
            if (strcmp(ps->labels[k].name, ps->labels[i].name) == 0)
                return fail(ps, "label %s twice", ps->labels[i].name);
    }
    s.name = ps->text.data + name;
    s.labels = ps->labels;
    s.n_labels = ps->n_labels;
    if (ps->family[0] && exp_suffix(s.name, ps->family, ps->type, ps->om)) {
        s.family = ps->family;
        s.type = ps->type;
    } else {
        s.family = s.name;
        s.type = EXP_UNKNOWN;
    }
    if (fn)
        fn(arg, &s);
    return 0;
}

long
exp_parse(const char *body, size_t len, int openmetrics, exp_sample_fn fn, void *arg, char *err,
          size_t errlen)
{
    parser ps = {.om = openmetrics, .err = err, .errlen = errlen};
    const char *p = body, *end = body + len;
    long n = 0;
    int rc = 0, eof = 0;
    const char *nul = memchr(body, '\0', len);
    if (nul) { /* names and values are C strings: the line is an error */
        for (const char *q = body; q < nul; q++)
            ps.line += *q == '\n';
        ps.line++;
        fail(&ps, "a NUL byte");
        return -1;
    }
    while (p < end && rc >= 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        ps.line++;
        ps.p = p;
        ps.end = le;
        p = nl ? nl + 1 : end;
        if (eof) {
            rc = fail(&ps, "text after # EOF");
            break;
        }
        if (!ps.om)
            skip_blanks(&ps);
        if (ps.p == ps.end)
            continue;
        if (*ps.p == '#') {
            rc = comment(&ps);
            eof = rc == 1;
        } else {
            rc = sample(&ps, fn, arg);
            n += rc == 0;
        }
    }
    if (rc >= 0 && ps.om && !eof) {
        ps.line++;
        rc = fail(&ps, "no # EOF at the end (OpenMetrics)");
    }
    sluice_buf_free(&ps.text);
    free(ps.offs);
    free(ps.labels);
    return rc < 0 ? -1 : n;
}

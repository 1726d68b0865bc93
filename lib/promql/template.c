/* The Go template subset of alert labels and annotations, rendered as
 * Prometheus renders them: {{ $labels.name }} (or .Labels.name),
 * {{ $value }} (Go's %v of a float64), {{ $externalLabels.x }},
 * {{ $externalURL }}, {{ $annotations.name }} in notification templates,
 * pipelines with `|`, if/else/end, trim markers
 * {{- -}}, comments, and the functions printf, humanize, humanize1024,
 * humanizePercentage, humanizeDuration, toUpper, toLower, title and index.
 * Anything else is an error: refused when the rules load, and rendered as
 * "<error expanding template: ...>" (never stopping evaluation). */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "sluice/alloc.h"

#define MAX_ARGS 8
#define TEMPLATE_MAX_OUTPUT (1 << 20)
#define PRINTF_MAX_WIDTH 1000000 /* Go fmt's own limit */
#define MAX_NESTING 16

typedef struct tval {
    int is_num;
    double num;
    char *str; /* owned */
} tval;

typedef struct tctx {
    const pq_lset *labels;
    double value;
    const pq_template_env *env;
    sluice_buf out;
    char err[256];
    int failed;
} tctx;

static int
terr(tctx *c, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return -1;
}

static tval
num(double v)
{
    return (tval){1, v, NULL};
}

static tval
str(const char *s, size_t n)
{
    return (tval){0, 0, sluice_strndup(s, n)};
}

/* ==== Go's number formatting ==== */

/* Go's %.4g: C's, but Inf and NaN as Go writes them. */
static void
g4(sluice_buf *b, double v, const char *suffix)
{
    if (isnan(v))
        sluice_buf_printf(b, "NaN%s", suffix);
    else if (isinf(v))
        sluice_buf_printf(b, "%sInf%s", v > 0 ? "+" : "-", suffix);
    else
        sluice_buf_printf(b, "%.4g%s", v, suffix);
}

static void
humanize(sluice_buf *b, double v)
{
    static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    if (v == 0 || isnan(v) || isinf(v)) {
        g4(b, v, "");
        return;
    }
    const char *prefix = "";
    if (fabs(v) >= 1) {
        for (int i = 0; i < 8 && fabs(v) >= 1000; i++) {
            prefix = big[i];
            v /= 1000;
        }
    } else {
        for (int i = 0; i < 8 && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
    }
    g4(b, v, prefix);
}

static void
humanize1024(sluice_buf *b, double v)
{
    static const char *const big[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
    if (fabs(v) <= 1 || isnan(v) || isinf(v)) {
        g4(b, v, "");
        return;
    }
    const char *prefix = "";
    for (int i = 0; i < 8 && fabs(v) >= 1024; i++) {
        prefix = big[i];
        v /= 1024;
    }
    g4(b, v, prefix);
}

static void
humanize_duration(sluice_buf *b, double v)
{
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    if (isnan(v) || isinf(v)) {
        g4(b, v, "");
        return;
    }
    if (v == 0) {
        g4(b, v, "s");
        return;
    }
    if (fabs(v) >= 1) {
        const char *sign = v < 0 ? "-" : "";
        v = fabs(v);
        /* Go's int64() of a float past its range is MinInt64 on amd64. */
        long long d = v < 9223372036854775808.0 ? (long long)v : LLONG_MIN;
        long long s = d % 60, m = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400;
        if (days)
            sluice_buf_printf(b, "%s%lldd %lldh %lldm %llds", sign, days, h, m, s);
        else if (h)
            sluice_buf_printf(b, "%s%lldh %lldm %llds", sign, h, m, s);
        else if (m)
            sluice_buf_printf(b, "%s%lldm %llds", sign, m, s);
        else {
            sluice_buf_printf(b, "%s", sign);
            g4(b, v, "s");
        }
        return;
    }
    const char *prefix = "";
    for (int i = 0; i < 8 && fabs(v) < 1; i++) {
        prefix = small[i];
        v *= 1000;
    }
    char suffix[8];
    snprintf(suffix, sizeof suffix, "%ss", prefix);
    g4(b, v, suffix);
}

static void
put_value(sluice_buf *b, const tval *v)
{
    if (v->is_num) {
        char s[40];
        pq_format_float(v->num, s, sizeof s);
        sluice_buf_append(b, s, strlen(s));
    } else {
        sluice_buf_append(b, v->str, strlen(v->str));
    }
}

/* Skip a width or precision; false when it exceeds Go's limit of a
 * million, which also keeps a rule file from asking for gigabytes. */
static int
printf_number(const char **p)
{
    long n = 0;
    int ok = 1;
    for (; isdigit((unsigned char)**p); (*p)++) {
        if (n > PRINTF_MAX_WIDTH)
            ok = 0;
        else
            n = n * 10 + (**p - '0');
    }
    return ok && n <= PRINTF_MAX_WIDTH;
}

/* Go's fmt.Sprintf for the verbs templates use: %v %s %d %f %e %g %q %x
 * %%, with flags, width and precision. */
static void
go_printf(sluice_buf *b, const char *fmt, const tval *args, size_t n)
{
    size_t a = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            sluice_buf_putc(b, *p);
            continue;
        }
        const char *start = p++;
        while (*p && strchr("+-# 0", *p))
            p++;
        const char *bad = NULL;
        if (!printf_number(&p))
            bad = "%!(BADWIDTH)";
        if (*p == '.') {
            p++;
            if (!printf_number(&p))
                bad = "%!(BADPREC)";
        }
        char verb = *p;
        if (!verb)
            break;
        if (verb == '%') {
            sluice_buf_putc(b, '%');
            continue;
        }
        if (bad) {
            sluice_buf_append(b, bad, strlen(bad));
            a++;
            continue;
        }
        if (a >= n) {
            sluice_buf_printf(b, "%%!%c(MISSING)", verb);
            continue;
        }
        const tval *v = &args[a++];
        char spec[32];
        size_t len = (size_t)(p - start);
        if (len > 24)
            len = 24;
        memcpy(spec, start, len);
        spec[len] = '\0';
        char c[40];
        switch (verb) {
        case 'v':
            put_value(b, v);
            break;
        case 's':
        case 'q':
            if (v->is_num) {
                pq_format_float(v->num, c, sizeof c);
                sluice_buf_printf(b, "%%!%c(float64=%s)", verb, c);
            } else if (verb == 'q') {
                sluice_buf_printf(b, "\"%s\"", v->str);
            } else {
                strcat(spec, "s");
                sluice_buf_printf(b, spec, v->str);
            }
            break;
        case 'd':
            if (v->is_num && v->num == floor(v->num) && fabs(v->num) < 9e18) {
                strcat(spec, "lld");
                sluice_buf_printf(b, spec, (long long)v->num);
            } else {
                put_value(b, v);
            }
            break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            if (!v->is_num) {
                sluice_buf_printf(b, "%%!%c(string=%s)", verb, v->str);
            } else if (isnan(v->num) || isinf(v->num)) {
                g4(b, v->num, "");
            } else {
                spec[len] = verb;
                spec[len + 1] = '\0';
                sluice_buf_printf(b, spec, v->num);
            }
            break;
        default:
            sluice_buf_printf(b, "%%!%c(unsupported)", verb);
        }
    }
}

/* ==== Pipelines ==== */

/* Split `s` into words at spaces, keeping quoted strings whole. */
static size_t
words(char *s, char **w, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        w[n++] = s;
        if (*s == '"' || *s == '`') {
            char q = *s++;
            while (*s && *s != q)
                s += (*s == '\\' && q == '"' && s[1]) ? 2 : 1;
            if (*s)
                s++;
        } else {
            while (*s && !isspace((unsigned char)*s))
                s++;
        }
        if (*s)
            *s++ = '\0';
    }
    return n;
}

static int
operand(tctx *c, const char *w, tval *out)
{
    const pq_lset *map = NULL;
    const char *key = NULL;
    if (strncmp(w, "$labels.", 8) == 0 || strncmp(w, ".Labels.", 8) == 0) {
        map = c->labels;
        key = w + 8;
    } else if (strncmp(w, "$externalLabels.", 16) == 0 ||
               strncmp(w, ".ExternalLabels.", 16) == 0) {
        map = c->env ? c->env->external_labels : NULL;
        key = w + 16;
    } else if (strncmp(w, "$annotations.", 13) == 0 || strncmp(w, ".Annotations.", 13) == 0) {
        if (!c->env || !c->env->annotations)
            return terr(c, "undefined variable \"$annotations\" (it exists in notification "
                           "templates only)");
        map = c->env->annotations;
        key = w + 13;
    }
    if (key) {
        const char *v = map ? pq_lset_get(map, key) : NULL;
        *out = str(v ? v : "", v ? strlen(v) : 0);
        return 0;
    }
    if (strcmp(w, "$value") == 0 || strcmp(w, ".Value") == 0) {
        *out = num(c->value);
        return 0;
    }
    if (strcmp(w, "$externalURL") == 0 || strcmp(w, ".ExternalURL") == 0) {
        const char *u = c->env && c->env->external_url ? c->env->external_url : "";
        *out = str(u, strlen(u));
        return 0;
    }
    if (*w == '"' || *w == '`') {
        size_t n = strlen(w);
        if (n < 2 || w[n - 1] != *w)
            return terr(c, "unterminated string %s", w);
        sluice_buf s = SLUICE_BUF_INIT;
        for (size_t i = 1; i + 1 < n; i++) {
            if (*w == '"' && w[i] == '\\' && i + 2 < n) {
                char e = w[++i];
                sluice_buf_putc(&s, e == 'n' ? '\n' : e == 't' ? '\t' : e);
            } else {
                sluice_buf_putc(&s, w[i]);
            }
        }
        sluice_buf_putc(&s, '\0');
        *out = (tval){0, 0, s.data};
        return 0;
    }
    char *end;
    double d = strtod(w, &end);
    if (end != w && !*end && (isdigit((unsigned char)*w) || *w == '-' || *w == '.')) {
        *out = num(d);
        return 0;
    }
    return terr(c, "unsupported operand '%s'", w);
}

static double
as_num(const tval *v)
{
    return v->is_num ? v->num : strtod(v->str, NULL);
}

/* One command: an operand, or a function and its arguments (the piped
 * value, if any, last). */
static int
command(tctx *c, char *text, tval *piped, tval *out)
{
    char *w[MAX_ARGS + 1];
    size_t n = words(text, w, MAX_ARGS);
    if (n == 0)
        return terr(c, "empty command");
    tval args[MAX_ARGS + 1];
    size_t na = 0;
    int rc = 0;
    const char *fn = w[0];
    int is_fn = isalpha((unsigned char)fn[0]);
    for (size_t i = is_fn ? 1 : 0; i < n && rc == 0; i++)
        rc = operand(c, w[i], &args[na++]) < 0 ? -1 : 0;
    if (rc == 0 && piped) {
        args[na++] = *piped;
        piped->str = NULL;
    }
    sluice_buf b = SLUICE_BUF_INIT;
    if (rc < 0) {
        na -= rc < 0 && na ? 1 : 0;
    } else if (!is_fn) {
        if (na != 1)
            rc = terr(c, "'%s' is not a function", fn);
        else {
            *out = args[0];
            args[0].str = NULL;
        }
    } else if (strcmp(fn, "printf") == 0) {
        if (na < 1 || args[0].is_num)
            rc = terr(c, "printf needs a format string");
        else
            go_printf(&b, args[0].str, args + 1, na - 1);
    } else if (strcmp(fn, "index") == 0) {
        rc = terr(c, "index is supported as $labels.name only");
    } else if (na != 1) {
        rc = terr(c, "%s takes one argument, got %zu", fn, na);
    } else if (strcmp(fn, "humanize") == 0) {
        humanize(&b, as_num(&args[0]));
    } else if (strcmp(fn, "humanize1024") == 0) {
        humanize1024(&b, as_num(&args[0]));
    } else if (strcmp(fn, "humanizePercentage") == 0) {
        g4(&b, as_num(&args[0]) * 100, "%");
    } else if (strcmp(fn, "humanizeDuration") == 0) {
        humanize_duration(&b, as_num(&args[0]));
    } else if (strcmp(fn, "toUpper") == 0 || strcmp(fn, "toLower") == 0 ||
               strcmp(fn, "title") == 0) {
        put_value(&b, &args[0]);
        int up = fn[2] == 'U', start = 1;
        for (size_t i = 0; i < b.len; i++) {
            unsigned char ch = (unsigned char)b.data[i];
            if (fn[0] == 't' && fn[1] == 'i')
                b.data[i] = (char)(start ? toupper(ch) : ch);
            else
                b.data[i] = (char)(up ? toupper(ch) : tolower(ch));
            start = isspace(ch);
        }
    } else {
        rc = terr(c, "function \"%s\" not defined (sluice supports printf, humanize, "
                     "humanize1024, humanizePercentage, humanizeDuration, toUpper, toLower, "
                     "title)",
                  fn);
    }
    for (size_t i = 0; i < na; i++)
        free(args[i].str);
    if (rc == 0 && is_fn) {
        sluice_buf_putc(&b, '\0');
        *out = (tval){0, 0, b.data};
    } else {
        sluice_buf_free(&b);
    }
    return rc;
}

static int
pipeline(tctx *c, char *text, tval *out)
{
    tval cur = {0};
    int have = 0;
    char *p = text;
    for (;;) {
        char *bar = p;
        char q = 0;
        while (*bar && (q || *bar != '|')) {
            if (q && *bar == '\\' && bar[1])
                bar++;
            else if (*bar == '"' || *bar == '`')
                q = q == *bar ? 0 : q ? q : *bar;
            bar++;
        }
        int last = !*bar;
        *bar = '\0';
        tval next;
        if (command(c, p, have ? &cur : NULL, &next) < 0) {
            free(cur.str);
            return -1;
        }
        free(cur.str);
        cur = next;
        have = 1;
        if (last)
            break;
        p = bar + 1;
    }
    *out = cur;
    return 0;
}

static int
truthy(const tval *v)
{
    return v->is_num ? v->num != 0 : *v->str != '\0';
}

/* ==== Rendering ==== */

/* Render template `t` into c->out: text as is, and each {{ action }}:
 * trim markers, comments, if/else/end (a stack of MAX_NESTING), pipelines;
 * constructs outside the subset fail. Stops at the first error, which the
 * caller renders as text or reports. */
static void
render(tctx *c, const char *t)
{
    int active[MAX_NESTING + 1] = {1}, taken[MAX_NESTING + 1] = {1};
    int depth = 0;
    const char *p = t;
    while (*p && !c->failed) {
        const char *open = strstr(p, "{{");
        if (!open) {
            if (active[depth])
                sluice_buf_append(&c->out, p, strlen(p));
            break;
        }
        if (active[depth])
            sluice_buf_append(&c->out, p, (size_t)(open - p));
        const char *inner = open + 2;
        if (*inner == '-' && isspace((unsigned char)inner[1])) {
            while (c->out.len && isspace((unsigned char)c->out.data[c->out.len - 1]))
                c->out.len--;
            inner++;
        }
        const char *close = strstr(inner, "}}");
        if (!close) {
            terr(c, "unclosed action");
            break;
        }
        const char *end = close;
        int trim_after = 0;
        if (end > inner && end[-1] == '-' && end - 1 > inner && isspace((unsigned char)end[-2])) {
            end--;
            trim_after = 1;
        }
        char *action = sluice_strndup(inner, (size_t)(end - inner));
        char *a = action;
        while (isspace((unsigned char)*a))
            a++;
        size_t al = strlen(a);
        while (al && isspace((unsigned char)a[al - 1]))
            a[--al] = '\0';
        if (strncmp(a, "/*", 2) == 0) {
            /* a comment */
        } else if (strncmp(a, "if ", 3) == 0) {
            if (depth == MAX_NESTING) {
                terr(c, "if nested too deep");
            } else {
                tval v = {0};
                int on = active[depth];
                if (pipeline(c, a + 3, &v) == 0) {
                    depth++;
                    taken[depth] = on && truthy(&v);
                    active[depth] = taken[depth];
                    if (!on)
                        taken[depth] = 1; /* an enclosing false: no branch runs */
                }
                free(v.str);
            }
        } else if (strcmp(a, "else") == 0) {
            if (depth == 0)
                terr(c, "else without if");
            else {
                active[depth] = !taken[depth] && active[depth - 1];
                taken[depth] = 1;
            }
        } else if (strcmp(a, "end") == 0) {
            if (depth == 0)
                terr(c, "end without if");
            else
                depth--;
        } else if (!strncmp(a, "range", 5) || !strncmp(a, "with", 4) ||
                   !strncmp(a, "define", 6) || !strncmp(a, "template", 8) ||
                   !strncmp(a, "block", 5) || strchr(a, ':') || strchr(a, '(')) {
            terr(c, "'%.20s' is outside the template subset sluice supports", a);
        } else {
            tval v = {0};
            if (pipeline(c, a, &v) == 0 && active[depth])
                put_value(&c->out, &v);
            free(v.str);
        }
        free(action);
        if (c->out.len > TEMPLATE_MAX_OUTPUT)
            terr(c, "expansion longer than %d bytes", TEMPLATE_MAX_OUTPUT);
        p = close + 2;
        if (trim_after)
            while (isspace((unsigned char)*p))
                p++;
    }
    if (!c->failed && depth)
        terr(c, "unexpected EOF: an if without end");
}

char *
pq_template_render(const char *tmpl, const pq_lset *labels, double value,
                   const pq_template_env *env)
{
    tctx c = {labels, value, env, SLUICE_BUF_INIT, "", 0};
    render(&c, tmpl);
    if (c.failed) {
        c.out.len = 0;
        sluice_buf_printf(&c.out, "<error expanding template: %s>", c.err);
    }
    sluice_buf_putc(&c.out, '\0');
    return c.out.data;
}

int
pq_template_check(const char *tmpl, int notification, char *err, size_t errlen)
{
    pq_lset none = {0};
    pq_template_env env = {NULL, NULL, notification ? &none : NULL};
    tctx c = {&none, 1, &env, SLUICE_BUF_INIT, "", 0};
    render(&c, tmpl);
    sluice_buf_free(&c.out);
    if (c.failed)
        snprintf(err, errlen, "%s", c.err);
    return c.failed ? -1 : 0;
}

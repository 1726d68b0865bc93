/* The PromQL parser: a hand-written lexer and a precedence-climbing parser
 * producing the typed tree of promql.h, with Prometheus 2.42's grammar,
 * precedences and type rules, and an error naming the offending construct
 * at its byte offset. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "promql.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"

#define PQ_MAX_DEPTH 128

typedef enum tok_kind {
    T_EOF,
    T_IDENT,
    T_NUMBER,
    T_STRING,
    T_LBRACE,
    T_RBRACE,
    T_LPAREN,
    T_RPAREN,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_COLON,
    T_ASSIGN, /* = */
    T_EQLC,   /* == */
    T_NEQ,    /* != */
    T_RE,     /* =~ */
    T_NRE,    /* !~ */
    T_LSS,
    T_LTE,
    T_GTR,
    T_GTE,
    T_ADD,
    T_SUB,
    T_MUL,
    T_DIV,
    T_MOD,
    T_POW,
    T_AT,
    T_ERROR,
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos, len;
    double number;
    char *text; /* T_STRING: the unquoted value, owned until the next token */
} token;

typedef struct parser {
    const char *src;
    size_t len, at;
    token tok;
    char *err;
    size_t errlen, err_pos;
    int failed;
    int depth;
} parser;

static int
fail(parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    p->err_pos = pos;
    p->failed = 1;
    return -1;
}

/* ==== Lexer ==== */

static int
ident_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int
ident_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

/* A Go-style quoted string at p->at (", ' or `) into tok.text. */
static void
lex_string(parser *p, token *t)
{
    char q = p->src[p->at];
    size_t i = p->at + 1;
    sluice_buf out = SLUICE_BUF_INIT;
    while (i < p->len && p->src[i] != q) {
        char c = p->src[i];
        if (q != '`' && c == '\n')
            break;
        if (q == '`' || c != '\\') {
            sluice_buf_putc(&out, c);
            i++;
            continue;
        }
        if (i + 1 >= p->len)
            break;
        char e = p->src[i + 1];
        i += 2;
        switch (e) {
        case 'a': sluice_buf_putc(&out, '\a'); break;
        case 'b': sluice_buf_putc(&out, '\b'); break;
        case 'f': sluice_buf_putc(&out, '\f'); break;
        case 'n': sluice_buf_putc(&out, '\n'); break;
        case 'r': sluice_buf_putc(&out, '\r'); break;
        case 't': sluice_buf_putc(&out, '\t'); break;
        case 'v': sluice_buf_putc(&out, '\v'); break;
        case '\\': case '"': case '\'': sluice_buf_putc(&out, e); break;
        case 'x': case 'u': case 'U': {
            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            unsigned long v = 0;
            for (int k = 0; k < digits; k++, i++) {
                if (i >= p->len || !isxdigit((unsigned char)p->src[i])) {
                    sluice_buf_free(&out);
                    fail(p, i, "invalid escape in string");
                    t->kind = T_ERROR;
                    return;
                }
                char h = p->src[i];
                v = v * 16 + (unsigned long)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
            }
            if (e == 'x') {
                sluice_buf_putc(&out, (char)v);
            } else if (v < 0x80) {
                sluice_buf_putc(&out, (char)v);
            } else if (v < 0x800) {
                sluice_buf_putc(&out, (char)(0xc0 | (v >> 6)));
                sluice_buf_putc(&out, (char)(0x80 | (v & 0x3f)));
            } else if (v < 0x10000) {
                sluice_buf_putc(&out, (char)(0xe0 | (v >> 12)));
                sluice_buf_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                sluice_buf_putc(&out, (char)(0x80 | (v & 0x3f)));
            } else {
                sluice_buf_putc(&out, (char)(0xf0 | (v >> 18)));
                sluice_buf_putc(&out, (char)(0x80 | ((v >> 12) & 0x3f)));
                sluice_buf_putc(&out, (char)(0x80 | ((v >> 6) & 0x3f)));
                sluice_buf_putc(&out, (char)(0x80 | (v & 0x3f)));
            }
            break;
        }
        default:
            sluice_buf_free(&out);
            fail(p, i - 2, "unknown escape sequence '\\%c' in string", e);
            t->kind = T_ERROR;
            return;
        }
    }
    if (i >= p->len || p->src[i] != q) {
        sluice_buf_free(&out);
        fail(p, p->at, "unterminated quoted string");
        t->kind = T_ERROR;
        return;
    }
    sluice_buf_putc(&out, '\0');
    t->kind = T_STRING;
    t->text = out.data;
    t->len = i + 1 - p->at;
}

/* A number: decimal, with fraction and exponent, or 0x hexadecimal. */
static void
lex_number(parser *p, token *t)
{
    const char *s = p->src + p->at;
    size_t i = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
        i = 2;
        while (isxdigit((unsigned char)s[i]))
            i++;
        t->number = (double)strtoull(s, NULL, 16);
    } else {
        while (isdigit((unsigned char)s[i]))
            i++;
        if (s[i] == '.') {
            i++;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
        if ((s[i] == 'e' || s[i] == 'E') &&
            (isdigit((unsigned char)s[i + 1]) ||
             ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
            i += 2;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
        char *num = sluice_strndup(s, i);
        t->number = strtod(num, NULL);
        free(num);
    }
    t->kind = T_NUMBER;
    t->len = i;
}

/* Read the next token into p->tok (freeing the previous one's text):
 * skips spaces and # comments; operators, strings (lex_string), numbers
 * (lex_number, and Inf/NaN as Prometheus reads them), identifiers
 * (metric names may hold ':'). Sets T_ERROR after fail() on a character
 * PromQL has no use for. */
static void
next(parser *p)
{
    free(p->tok.text);
    token *t = &p->tok;
    memset(t, 0, sizeof *t);
    for (;;) {
        while (p->at < p->len && isspace((unsigned char)p->src[p->at]))
            p->at++;
        if (p->at < p->len && p->src[p->at] == '#') {
            while (p->at < p->len && p->src[p->at] != '\n')
                p->at++;
            continue;
        }
        break;
    }
    t->pos = p->at;
    if (p->at >= p->len) {
        t->kind = T_EOF;
        return;
    }
    const char *s = p->src + p->at;
    char c = s[0], d = p->at + 1 < p->len ? s[1] : '\0';
    t->len = 1;
    switch (c) {
    case '{': t->kind = T_LBRACE; break;
    case '}': t->kind = T_RBRACE; break;
    case '(': t->kind = T_LPAREN; break;
    case ')': t->kind = T_RPAREN; break;
    case '[': t->kind = T_LBRACKET; break;
    case ']': t->kind = T_RBRACKET; break;
    case ',': t->kind = T_COMMA; break;
    case '+': t->kind = T_ADD; break;
    case '-': t->kind = T_SUB; break;
    case '*': t->kind = T_MUL; break;
    case '/': t->kind = T_DIV; break;
    case '%': t->kind = T_MOD; break;
    case '^': t->kind = T_POW; break;
    case '@': t->kind = T_AT; break;
    case '=':
        t->kind = d == '=' ? T_EQLC : d == '~' ? T_RE : T_ASSIGN;
        t->len = t->kind == T_ASSIGN ? 1 : 2;
        break;
    case '!':
        if (d != '=' && d != '~') {
            fail(p, p->at, "unexpected character '!'");
            t->kind = T_ERROR;
            return;
        }
        t->kind = d == '=' ? T_NEQ : T_NRE;
        t->len = 2;
        break;
    case '<':
        t->kind = d == '=' ? T_LTE : T_LSS;
        t->len = d == '=' ? 2 : 1;
        break;
    case '>':
        t->kind = d == '=' ? T_GTE : T_GTR;
        t->len = d == '=' ? 2 : 1;
        break;
    case ':':
        if (!ident_start((unsigned char)d) || d == ':') {
            t->kind = T_COLON;
            break;
        }
        /* A metric name may start with ':'. */
        __attribute__((fallthrough));
    default:
        if (c == '"' || c == '\'' || c == '`') {
            lex_string(p, t);
        } else if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)d))) {
            lex_number(p, t);
        } else if (ident_start((unsigned char)c)) {
            size_t i = 1;
            while (p->at + i < p->len && ident_char((unsigned char)s[i]))
                i++;
            t->kind = T_IDENT;
            t->len = i;
            if ((i == 3 && strncasecmp(s, "inf", 3) == 0) ||
                (i == 3 && strncasecmp(s, "nan", 3) == 0)) {
                t->kind = T_NUMBER;
                t->number = tolower((unsigned char)s[0]) == 'i' ? INFINITY : NAN;
            }
        } else {
            fail(p, p->at, "unexpected character '%c'", c);
            t->kind = T_ERROR;
            return;
        }
    }
    p->at += t->len;
}

static int
tok_is(const parser *p, const char *word)
{
    return p->tok.kind == T_IDENT && p->tok.len == strlen(word) &&
           strncasecmp(p->src + p->tok.pos, word, p->tok.len) == 0;
}

static char *
tok_dup(const parser *p)
{
    return sluice_strndup(p->src + p->tok.pos, p->tok.len);
}

static int
expect(parser *p, tok_kind k, const char *what)
{
    if (p->tok.kind == k) {
        next(p);
        return 0;
    }
    if (p->tok.kind == T_EOF)
        return fail(p, p->tok.pos, "unexpected end of input, expected %s", what);
    return fail(p, p->tok.pos, "unexpected '%.*s', expected %s", (int)p->tok.len,
                p->src + p->tok.pos, what);
}

/* ==== Durations ==== */

int64_t
pq_parse_duration(const char *s, size_t n)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
                 {"w", 604800000}, {"y", INT64_C(31536000000)}};
    size_t i = 0;
    int64_t total = 0;
    int last_unit = -1;
    if (n == 0)
        return -1;
    while (i < n) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        int64_t v = 0;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (v > INT64_MAX / 10)
                return -1;
            v = v * 10 + (s[i++] - '0');
        }
        int u = -1;
        for (int k = 0; k < 7 && u < 0; k++) {
            size_t ul = strlen(units[k].unit);
            if (i + ul <= n && strncmp(s + i, units[k].unit, ul) == 0 &&
                !(ul == 1 && s[i] == 'm' && i + 1 < n && s[i + 1] == 's'))
                u = k;
        }
        /* Units in descending order, each once: 1h30m, not 30m1h. */
        if (u < 0 || (last_unit >= 0 && units[u].ms >= units[last_unit].ms))
            return -1;
        if (v > (INT64_MAX - total) / units[u].ms)
            return -1;
        total += v * units[u].ms;
        i += strlen(units[u].unit);
        last_unit = u;
    }
    return total;
}

/* A duration token (inside [...] or after offset): its raw characters. */
static int
duration(parser *p, int64_t *ms, int allow_negative)
{
    int neg = 0;
    if (allow_negative && p->tok.kind == T_SUB) {
        neg = 1;
        next(p);
    }
    size_t start = p->tok.pos;
    if (p->tok.kind != T_NUMBER)
        return fail(p, start, "expected a duration such as 5m");
    /* The lexer read the digits as a number; the unit follows at once. */
    size_t end = start;
    while (end < p->len && isalnum((unsigned char)p->src[end]))
        end++;
    int64_t v = pq_parse_duration(p->src + start, end - start);
    if (v < 0)
        return fail(p, start, "invalid duration '%.*s'", (int)(end - start), p->src + start);
    p->at = end;
    next(p);
    *ms = neg ? -v : v;
    return 0;
}

/* ==== Tree ==== */

static pq_node *
node(pq_kind kind, pq_type type, size_t pos)
{
    pq_node *n = sluice_calloc(1, sizeof *n);
    n->kind = kind;
    n->type = type;
    n->pos = pos;
    return n;
}

static void
labels_free(pq_labels *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

void
pq_free(pq_node *n)
{
    if (!n)
        return;
    switch (n->kind) {
    case PQ_NUMBER:
        break;
    case PQ_STRING_LIT:
        free(n->string);
        break;
    case PQ_SELECTOR:
        free(n->sel.metric);
        for (size_t i = 0; i < n->sel.n_matchers; i++) {
            free(n->sel.matchers[i].name);
            free(n->sel.matchers[i].value);
            pcre2_code_free(n->sel.matchers[i].re);
        }
        free(n->sel.matchers);
        break;
    case PQ_CALL:
        for (size_t i = 0; i < n->call.n_args; i++)
            pq_free(n->call.args[i]);
        free(n->call.args);
        break;
    case PQ_AGGREGATE:
        labels_free(&n->agg.grouping);
        pq_free(n->agg.expr);
        break;
    case PQ_BINARY:
        pq_free(n->bin.lhs);
        pq_free(n->bin.rhs);
        labels_free(&n->bin.labels);
        labels_free(&n->bin.include);
        break;
    case PQ_UNARY_MINUS:
    case PQ_PAREN:
        pq_free(n->inner);
        break;
    }
    free(n);
}

static const char *const type_names[] = {"a scalar", "an instant vector", "a range vector",
                                          "a string"};

/* ==== Functions and aggregations ==== */

typedef struct func_info {
    const char *name;
    pq_func fn;
    pq_type ret;
    int n_args;
    pq_type args[2];
} func_info;

static const func_info functions[] = {
    {"rate", PQ_FN_RATE, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"irate", PQ_FN_IRATE, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"increase", PQ_FN_INCREASE, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"delta", PQ_FN_DELTA, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"idelta", PQ_FN_IDELTA, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"avg_over_time", PQ_FN_AVG_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"min_over_time", PQ_FN_MIN_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"max_over_time", PQ_FN_MAX_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"sum_over_time", PQ_FN_SUM_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"count_over_time", PQ_FN_COUNT_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"last_over_time", PQ_FN_LAST_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"absent", PQ_FN_ABSENT, PQ_VECTOR, 1, {PQ_VECTOR}},
    {"absent_over_time", PQ_FN_ABSENT_OVER_TIME, PQ_VECTOR, 1, {PQ_MATRIX}},
    {"histogram_quantile", PQ_FN_HISTOGRAM_QUANTILE, PQ_VECTOR, 2, {PQ_SCALAR, PQ_VECTOR}},
    {"abs", PQ_FN_ABS, PQ_VECTOR, 1, {PQ_VECTOR}},
    {"ceil", PQ_FN_CEIL, PQ_VECTOR, 1, {PQ_VECTOR}},
    {"floor", PQ_FN_FLOOR, PQ_VECTOR, 1, {PQ_VECTOR}},
    {"clamp_min", PQ_FN_CLAMP_MIN, PQ_VECTOR, 2, {PQ_VECTOR, PQ_SCALAR}},
    {"clamp_max", PQ_FN_CLAMP_MAX, PQ_VECTOR, 2, {PQ_VECTOR, PQ_SCALAR}},
    {"scalar", PQ_FN_SCALAR, PQ_SCALAR, 1, {PQ_VECTOR}},
    {"vector", PQ_FN_VECTOR, PQ_VECTOR, 1, {PQ_SCALAR}},
    {"time", PQ_FN_TIME, PQ_SCALAR, 0, {PQ_SCALAR}},
};

/* Prometheus 2.42's other functions: refused by name, not as unknown. */
static const char *const unsupported_functions[] = {
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "changes", "clamp", "cos", "cosh",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "deriv", "exp",
    "histogram_count", "histogram_fraction", "histogram_sum", "holt_winters", "hour",
    "label_join", "label_replace", "ln", "log10", "log2", "minute", "month", "pi",
    "predict_linear", "present_over_time", "quantile_over_time", "rad", "resets", "round",
    "sgn", "sin", "sinh", "sort", "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time",
    "tan", "tanh", "timestamp", "year", NULL};

static const char *const aggregations[] = {"sum", "avg", "count", "min", "max", "group",
                                           "stddev", "stdvar", NULL};
static const char *const unsupported_aggregations[] = {"topk", "bottomk", "quantile",
                                                       "count_values", NULL};

const char *
pq_aggop_name(pq_aggop op)
{
    return aggregations[op];
}

static int
word_in(const parser *p, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (tok_is(p, list[i]))
            return i;
    return -1;
}

/* Keywords that cannot start an expression or name a metric. */
static int
reserved(const parser *p)
{
    static const char *const words[] = {"and", "or", "unless", "atan2", "by", "without", "on",
                                        "ignoring", "group_left", "group_right", "bool",
                                        "offset", NULL};
    return word_in(p, words) >= 0 || word_in(p, aggregations) >= 0 ||
           word_in(p, unsupported_aggregations) >= 0;
}

/* ==== Parser ==== */

static pq_node *expr(parser *p, int min_prec);

/* ( label, ... ): names of labels; keywords are fine as label names. */
static int
label_list(parser *p, pq_labels *out)
{
    if (expect(p, T_LPAREN, "'(' and label names") < 0)
        return -1;
    while (p->tok.kind == T_IDENT) {
        const char *s = p->src + p->tok.pos;
        if (memchr(s, ':', p->tok.len))
            return fail(p, p->tok.pos, "'%.*s' is not a label name", (int)p->tok.len, s);
        out->v = sluice_realloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n++] = tok_dup(p);
        next(p);
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    return expect(p, T_RPAREN, "a label name or ')'");
}

/* The {name op "value", ...} of a selector into n->sel.matchers: compiles
 * regexes anchored as Prometheus anchors them (PCRE2, JIT), and refuses a
 * metric name given twice. Owns each matcher until it is stored; on error
 * frees what it holds and returns -1 after fail(). */
static int
matchers(parser *p, pq_node *n)
{
    next(p); /* { */
    while (p->tok.kind == T_IDENT) {
        size_t pos = p->tok.pos;
        const char *s = p->src + p->tok.pos;
        if (memchr(s, ':', p->tok.len))
            return fail(p, pos, "'%.*s' is not a label name", (int)p->tok.len, s);
        pq_matcher m = {.name = tok_dup(p)};
        next(p);
        switch (p->tok.kind) {
        case T_ASSIGN: m.op = PQ_EQ; break;
        case T_NEQ: m.op = PQ_NEQ; break;
        case T_RE: m.op = PQ_RE; break;
        case T_NRE: m.op = PQ_NRE; break;
        default:
            free(m.name);
            return fail(p, p->tok.pos, "expected a label matching operator (=, !=, =~, !~)");
        }
        next(p);
        if (p->tok.kind != T_STRING) {
            free(m.name);
            return fail(p, p->tok.pos, "expected a quoted label value");
        }
        m.value = p->tok.text;
        p->tok.text = NULL;
        if (m.op == PQ_RE || m.op == PQ_NRE) {
            /* Anchored as Prometheus anchors its RE2 expressions. */
            size_t len = strlen(m.value);
            char *anchored = sluice_malloc(len + 8);
            snprintf(anchored, len + 8, "^(?:%s)$", m.value);
            int code;
            PCRE2_SIZE off;
            m.re = pcre2_compile((PCRE2_SPTR)anchored, PCRE2_ZERO_TERMINATED, PCRE2_DOTALL, &code,
                                 &off, NULL);
            free(anchored);
            if (!m.re) {
                PCRE2_UCHAR msg[128];
                pcre2_get_error_message(code, msg, sizeof msg);
                fail(p, p->tok.pos, "invalid regular expression '%s': %s", m.value, (char *)msg);
                free(m.name);
                free(m.value);
                return -1;
            }
            pcre2_jit_compile(m.re, PCRE2_JIT_COMPLETE);
        }
        if (strcmp(m.name, "__name__") == 0 && n->sel.metric) {
            fail(p, pos, "metric name must not be set twice: '%s' or '%s'", n->sel.metric,
                 m.value);
            free(m.name);
            free(m.value);
            pcre2_code_free(m.re);
            return -1;
        }
        n->sel.matchers = sluice_realloc(n->sel.matchers,
                                         (n->sel.n_matchers + 1) * sizeof *n->sel.matchers);
        n->sel.matchers[n->sel.n_matchers++] = m;
        next(p);
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    return expect(p, T_RBRACE, "a label matcher or '}'");
}

/* Whether a matcher accepts the empty string (a missing label). */
static int
matches_empty(const pq_matcher *m)
{
    switch (m->op) {
    case PQ_EQ: return *m->value == '\0';
    case PQ_NEQ: return *m->value != '\0';
    default: {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
        int r = pcre2_match(m->re, (PCRE2_SPTR) "", 0, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        return (r >= 0) == (m->op == PQ_RE);
    }
    }
}

static pq_node *
selector(parser *p, char *metric, size_t pos)
{
    pq_node *n = node(PQ_SELECTOR, PQ_VECTOR, pos);
    n->sel.metric = metric;
    if (p->tok.kind == T_LBRACE && matchers(p, n) < 0) {
        pq_free(n);
        return NULL;
    }
    if (!n->sel.metric) {
        int nonempty = 0;
        for (size_t i = 0; i < n->sel.n_matchers; i++)
            nonempty |= !matches_empty(&n->sel.matchers[i]);
        if (!nonempty) {
            fail(p, pos, "vector selector must contain at least one non-empty matcher");
            pq_free(n);
            return NULL;
        }
    }
    return n;
}

static pq_node *
call(parser *p, const func_info *f, size_t pos)
{
    pq_node *n = node(PQ_CALL, f->ret, pos);
    n->call.fn = f->fn;
    n->call.name = f->name;
    next(p); /* ( */
    while (p->tok.kind != T_RPAREN && !p->failed) {
        pq_node *a = expr(p, 0);
        if (!a)
            break;
        n->call.args = sluice_realloc(n->call.args, (n->call.n_args + 1) * sizeof *n->call.args);
        n->call.args[n->call.n_args++] = a;
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    if (p->failed || expect(p, T_RPAREN, "',' or ')'") < 0) {
        pq_free(n);
        return NULL;
    }
    if ((int)n->call.n_args != f->n_args) {
        fail(p, pos, "%s() takes %d argument%s, got %zu", f->name, f->n_args,
             f->n_args == 1 ? "" : "s", n->call.n_args);
        pq_free(n);
        return NULL;
    }
    for (size_t i = 0; i < n->call.n_args; i++)
        if (n->call.args[i]->type != f->args[i]) {
            fail(p, n->call.args[i]->pos, "%s(): argument %zu must be %s, not %s", f->name,
                 i + 1, type_names[f->args[i]], type_names[n->call.args[i]->type]);
            pq_free(n);
            return NULL;
        }
    return n;
}

static pq_node *
aggregate(parser *p, pq_aggop op, size_t pos)
{
    pq_node *n = node(PQ_AGGREGATE, PQ_VECTOR, pos);
    n->agg.op = op;
    next(p); /* the operator */
    int grouped = 0;
    if (tok_is(p, "by") || tok_is(p, "without")) {
        n->agg.without = tok_is(p, "without");
        next(p);
        grouped = 1;
        if (label_list(p, &n->agg.grouping) < 0)
            goto bad;
    }
    if (expect(p, T_LPAREN, "'('") < 0)
        goto bad;
    size_t at = p->tok.pos;
    if (!(n->agg.expr = expr(p, 0)))
        goto bad;
    if (p->tok.kind == T_COMMA) {
        fail(p, p->tok.pos, "%s takes no parameter", aggregations[op]);
        goto bad;
    }
    if (expect(p, T_RPAREN, "')'") < 0)
        goto bad;
    if (n->agg.expr->type != PQ_VECTOR) {
        fail(p, at, "%s: expected an instant vector, found %s", aggregations[op],
             type_names[n->agg.expr->type]);
        goto bad;
    }
    if (!grouped && (tok_is(p, "by") || tok_is(p, "without"))) {
        n->agg.without = tok_is(p, "without");
        next(p);
        if (label_list(p, &n->agg.grouping) < 0)
            goto bad;
    }
    return n;
bad:
    pq_free(n);
    return NULL;
}

/* One operand: a number, a string, a parenthesised expression, a selector
 * (with or without a name), an aggregation or a function call. Refuses by
 * name the aggregations and functions outside the subset, and keywords
 * where an operand must be. Returns a node the caller owns, or NULL after
 * fail(). */
static pq_node *
primary(parser *p)
{
    size_t pos = p->tok.pos;
    pq_node *n;
    switch (p->tok.kind) {
    case T_NUMBER:
        n = node(PQ_NUMBER, PQ_SCALAR, pos);
        n->number = p->tok.number;
        next(p);
        return n;
    case T_STRING:
        n = node(PQ_STRING_LIT, PQ_STRING, pos);
        n->string = p->tok.text;
        p->tok.text = NULL;
        next(p);
        return n;
    case T_LPAREN:
        next(p);
        n = node(PQ_PAREN, PQ_SCALAR, pos);
        if (!(n->inner = expr(p, 0)) || expect(p, T_RPAREN, "')'") < 0) {
            pq_free(n);
            return NULL;
        }
        n->type = n->inner->type;
        return n;
    case T_LBRACE:
        return selector(p, NULL, pos);
    case T_IDENT: {
        int a = word_in(p, aggregations);
        if (a >= 0)
            return aggregate(p, (pq_aggop)a, pos);
        if (word_in(p, unsupported_aggregations) >= 0) {
            fail(p, pos, "the aggregation '%.*s' is not supported by sluice", (int)p->tok.len,
                 p->src + pos);
            return NULL;
        }
        if (reserved(p)) {
            fail(p, pos, "unexpected keyword '%.*s'", (int)p->tok.len, p->src + pos);
            return NULL;
        }
        char *name = tok_dup(p);
        next(p);
        if (p->tok.kind == T_LPAREN) {
            for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
                if (strcmp(functions[i].name, name) == 0) {
                    free(name);
                    return call(p, &functions[i], pos);
                }
            int known = 0;
            for (int i = 0; unsupported_functions[i] && !known; i++)
                known = strcmp(unsupported_functions[i], name) == 0;
            fail(p, pos, known ? "the function '%s' is not supported by sluice"
                               : "unknown function '%s'",
                 name);
            free(name);
            return NULL;
        }
        return selector(p, name, pos);
    }
    case T_EOF:
        fail(p, pos, "unexpected end of input, expected an expression");
        return NULL;
    default:
        fail(p, pos, "unexpected '%.*s', expected an expression", (int)p->tok.len,
             p->src + pos);
        return NULL;
    }
}

/* A primary and what may follow it: [range], offset, @. */
static pq_node *
postfix(parser *p)
{
    pq_node *n = primary(p);
    if (!n)
        return NULL;
    if (p->tok.kind == T_LBRACKET) {
        size_t at = p->tok.pos;
        next(p);
        int64_t range;
        if (duration(p, &range, 0) < 0)
            goto bad;
        if (p->tok.kind == T_COLON) {
            fail(p, at, "subqueries ([range:step]) are not supported by sluice");
            goto bad;
        }
        if (expect(p, T_RBRACKET, "']'") < 0)
            goto bad;
        if (n->kind != PQ_SELECTOR || n->sel.range_ms) {
            fail(p, at, "ranges are only allowed for vector selectors");
            goto bad;
        }
        if (range == 0) {
            fail(p, at, "a range must be longer than 0s");
            goto bad;
        }
        n->sel.range_ms = range;
        n->type = PQ_MATRIX;
    }
    if (tok_is(p, "offset")) {
        size_t at = p->tok.pos;
        next(p);
        if (n->kind != PQ_SELECTOR) {
            fail(p, at, "offset is only allowed on vector selectors");
            goto bad;
        }
        if (duration(p, &n->sel.offset_ms, 1) < 0)
            goto bad;
    }
    if (p->tok.kind == T_AT) {
        fail(p, p->tok.pos, "the @ modifier is not supported by sluice");
        goto bad;
    }
    return n;
bad:
    pq_free(n);
    return NULL;
}

static int
binop_of(const parser *p, pq_binop *op)
{
    switch (p->tok.kind) {
    case T_ADD: *op = PQ_ADD; return 1;
    case T_SUB: *op = PQ_SUB; return 1;
    case T_MUL: *op = PQ_MUL; return 1;
    case T_DIV: *op = PQ_DIV; return 1;
    case T_MOD: *op = PQ_MOD; return 1;
    case T_POW: *op = PQ_POW; return 1;
    case T_EQLC: *op = PQ_EQL; return 1;
    case T_NEQ: *op = PQ_NEQL; return 1;
    case T_LTE: *op = PQ_LTE; return 1;
    case T_LSS: *op = PQ_LSS; return 1;
    case T_GTE: *op = PQ_GTE; return 1;
    case T_GTR: *op = PQ_GTR; return 1;
    default: break;
    }
    if (tok_is(p, "and"))
        *op = PQ_AND;
    else if (tok_is(p, "or"))
        *op = PQ_OR;
    else if (tok_is(p, "unless"))
        *op = PQ_UNLESS;
    else if (tok_is(p, "atan2"))
        *op = PQ_ATAN2;
    else
        return 0;
    return 1;
}

/* Precedence, lowest 1: or; and unless; comparisons; + -; * / % atan2; ^. */
static int
precedence(pq_binop op)
{
    switch (op) {
    case PQ_OR: return 1;
    case PQ_AND: case PQ_UNLESS: return 2;
    case PQ_EQL: case PQ_NEQL: case PQ_LTE: case PQ_LSS: case PQ_GTE: case PQ_GTR: return 3;
    case PQ_ADD: case PQ_SUB: return 4;
    case PQ_MUL: case PQ_DIV: case PQ_MOD: case PQ_ATAN2: return 5;
    case PQ_POW: return 6;
    }
    return 0;
}

static int
is_comparison(pq_binop op)
{
    return op >= PQ_EQL && op <= PQ_GTR;
}

static int
is_set(pq_binop op)
{
    return op == PQ_AND || op == PQ_OR || op == PQ_UNLESS;
}

const char *
pq_binop_name(pq_binop op)
{
    static const char *const names[] = {"or", "and", "unless", "==", "!=", "<=", "<", ">=",
                                        ">", "+", "-", "*", "/", "%", "atan2", "^"};
    return names[op];
}

/* bool, on/ignoring (labels), group_left/group_right (labels). */
static int
modifiers(parser *p, pq_node *n)
{
    if (tok_is(p, "bool")) {
        if (!is_comparison(n->bin.op))
            return fail(p, p->tok.pos, "bool modifier can only be used on comparison operators");
        n->bin.bool_mod = 1;
        next(p);
    }
    if (tok_is(p, "on") || tok_is(p, "ignoring")) {
        n->bin.matching = 1;
        n->bin.on = tok_is(p, "on");
        next(p);
        if (label_list(p, &n->bin.labels) < 0)
            return -1;
        if (tok_is(p, "group_left") || tok_is(p, "group_right")) {
            size_t at = p->tok.pos;
            if (is_set(n->bin.op))
                return fail(p, at, "no grouping allowed for '%s' operation",
                            pq_binop_name(n->bin.op));
            return fail(p, at, "%.*s (many-to-one matching) is not supported by sluice",
                        (int)p->tok.len, p->src + at);
        }
    }
    return 0;
}

/* The type rules of Prometheus's checkAST for a binary operation. */
static int
check_binary(parser *p, pq_node *n, size_t op_pos)
{
    pq_type l = n->bin.lhs->type, r = n->bin.rhs->type;
    const char *name = pq_binop_name(n->bin.op);
    if ((l != PQ_SCALAR && l != PQ_VECTOR) || (r != PQ_SCALAR && r != PQ_VECTOR))
        return fail(p, op_pos, "binary expression must contain only scalar and instant vector "
                               "types");
    if (is_set(n->bin.op) && (l != PQ_VECTOR || r != PQ_VECTOR))
        return fail(p, op_pos, "set operator '%s' not allowed in binary scalar expression",
                    name);
    if (is_comparison(n->bin.op) && l == PQ_SCALAR && r == PQ_SCALAR && !n->bin.bool_mod)
        return fail(p, op_pos, "comparisons between scalars must use BOOL modifier");
    if (n->bin.matching && (l != PQ_VECTOR || r != PQ_VECTOR))
        return fail(p, op_pos, "vector matching only allowed between instant vectors");
    n->type = l == PQ_SCALAR && r == PQ_SCALAR ? PQ_SCALAR : PQ_VECTOR;
    return 0;
}

static pq_node *
unary(parser *p)
{
    if (p->tok.kind != T_SUB && p->tok.kind != T_ADD)
        return postfix(p);
    size_t pos = p->tok.pos;
    int minus = p->tok.kind == T_SUB;
    next(p);
    /* As Prometheus: a unary operator binds like '*', so -a^b is -(a^b). */
    pq_node *inner = expr(p, precedence(PQ_POW));
    if (!inner)
        return NULL;
    if (inner->type != PQ_SCALAR && inner->type != PQ_VECTOR) {
        fail(p, pos, "unary expression only allowed on expressions of type scalar or instant "
                     "vector");
        pq_free(inner);
        return NULL;
    }
    if (!minus)
        return inner;
    if (inner->kind == PQ_NUMBER) {
        inner->number = -inner->number;
        inner->pos = pos;
        return inner;
    }
    pq_node *n = node(PQ_UNARY_MINUS, inner->type, pos);
    n->inner = inner;
    return n;
}

static pq_node *
expr(parser *p, int min_prec)
{
    if (++p->depth > PQ_MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested deeper than %d", PQ_MAX_DEPTH);
        p->depth--;
        return NULL;
    }
    pq_node *lhs = unary(p);
    pq_binop op;
    while (lhs && binop_of(p, &op) && precedence(op) >= min_prec) {
        size_t op_pos = p->tok.pos;
        next(p);
        pq_node *n = node(PQ_BINARY, PQ_VECTOR, lhs->pos);
        n->bin.op = op;
        n->bin.lhs = lhs;
        lhs = n;
        if (modifiers(p, n) < 0) {
            pq_free(n);
            lhs = NULL;
            break;
        }
        /* ^ is right-associative, the rest left-associative. */
        n->bin.rhs = expr(p, op == PQ_POW ? precedence(op) : precedence(op) + 1);
        if (!n->bin.rhs || check_binary(p, n, op_pos) < 0) {
            pq_free(n);
            lhs = NULL;
        }
    }
    p->depth--;
    return lhs;
}

pq_node *
pq_parse(const char *src, char *err, size_t errlen, size_t *err_pos)
{
    parser p = {.src = src, .len = strlen(src), .err = err, .errlen = errlen};
    next(&p);
    pq_node *n = p.failed ? NULL : expr(&p, 0);
    if (n && p.tok.kind != T_EOF) {
        fail(&p, p.tok.pos, "unexpected '%.*s' after the expression", (int)p.tok.len,
             src + p.tok.pos);
        pq_free(n);
        n = NULL;
    }
    free(p.tok.text);
    if (!n && err_pos)
        *err_pos = p.err_pos;
    return n;
}

int64_t
pq_lookback_ms(const pq_node *n)
{
    if (!n)
        return 0;
    int64_t m = 0, x;
    switch (n->kind) {
    case PQ_SELECTOR:
        return n->sel.range_ms + (n->sel.offset_ms > 0 ? n->sel.offset_ms : 0);
    case PQ_CALL:
        for (size_t i = 0; i < n->call.n_args; i++)
            if ((x = pq_lookback_ms(n->call.args[i])) > m)
                m = x;
        return m;
    case PQ_AGGREGATE:
        return pq_lookback_ms(n->agg.expr);
    case PQ_BINARY:
        m = pq_lookback_ms(n->bin.lhs);
        x = pq_lookback_ms(n->bin.rhs);
        return x > m ? x : m;
    case PQ_UNARY_MINUS:
    case PQ_PAREN:
        return pq_lookback_ms(n->inner);
    default:
        return 0;
    }
}

/* `sluice rules test`: promtool's unit-test files (rule_files,
 * evaluation_interval, group_eval_order, tests of input_series with
 * alert_rule_test and promql_expr_test), run the way `promtool test rules`
 * 2.42 runs them, with the same verdicts: the groups are evaluated every
 * evaluation_interval from 0 to the last eval_time, alerts are compared
 * (firing ones, labels and annotations) at the evaluation that covers each
 * eval_time, expressions are queried at their eval_time afterwards. */
#include <glob.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "rules.h"
#include "rules_test.h"
#include "sluice/alloc.h"

typedef struct suite {
    const char *path;
    FILE *out;
    sluice_buf fails; /* what failed, promtool's way */
    int64_t eval_interval;
} suite;

static void
failf(suite *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
failf(suite *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sluice_buf_printf(&s->fails, "%s\n", msg);
}

static int64_t
duration(suite *s, const yt_node *n, int64_t def, const char *what)
{
    if (!n)
        return def;
    int64_t v = n->kind == YT_SCALAR ? pq_parse_duration(n->value, strlen(n->value)) : -1;
    if (v < 0) {
        failf(s, "    %s:%d:%d: %s: not a duration", s->path, n->line, n->col, what);
        return def;
    }
    return v;
}

/* ==== Input series ==== */

static int
parse_number(const char *t, size_t n, double *v)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return *end ? -1 : 0;
}

/* One word of the expanding notation into `out`: a number, _ (none),
 * stale, AxN, A+BxN, A-BxN, _xN. */
static int
expand_word(const char *w, pq_sample **out, size_t *n, size_t *cap, int64_t *t, int64_t step)
{
#define ADD(val)                                                                                   \
    do {                                                                                           \
        if (*n == *cap) {                                                                          \
            *cap = *cap ? *cap * 2 : 64;                                                           \
            *out = sluice_realloc(*out, *cap * sizeof **out);                                      \
        }                                                                                          \
        (*out)[(*n)++] = (pq_sample){*t, (val)};                                                   \
    } while (0)
    size_t len = strlen(w);
    if (strcmp(w, "_") == 0) {
        *t += step;
        return 0;
    }
    if (strcmp(w, "stale") == 0) {
        ADD(pq_stale());
        *t += step;
        return 0;
    }
    const char *x = strrchr(w, 'x');
    if (!x) {
        double v;
        if (parse_number(w, len, &v) < 0)
            return -1;
        ADD(v);
        *t += step;
        return 0;
    }
    char *end;
    long times = strtol(x + 1, &end, 10);
    if (*end || x[1] == '\0' || times < 0)
        return -1;
    if (x - w == 1 && w[0] == '_') {
        *t += step * times;
        return 0;
    }
    /* A, then +B or -B: the operator is the first + or - after A's
     * first character that is not an exponent's sign. */
    const char *op = NULL;
    for (const char *p = w + 1; p < x && !op; p++)
        if ((*p == '+' || *p == '-') && p[-1] != 'e' && p[-1] != 'E')
            op = p;
    double a, b = 0;
    if (parse_number(w, (size_t)((op ? op : x) - w), &a) < 0)
        return -1;
    if (op && parse_number(op + 1, (size_t)(x - op - 1), &b) < 0)
        return -1;
    if (op && *op == '-')
        b = -b;
    for (long i = 0; i <= times; i++) {
        ADD(a + b * (double)i);
        *t += step;
    }
    return 0;
#undef ADD
}

static int
load_series(suite *s, pq_store *st, const yt_node *list, int64_t step)
{
    for (size_t i = 0; list && i < list->n; i++) {
        const yt_node *n = list->items[i];
        const yt_node *series = yt_get(n, "series"), *values = yt_get(n, "values");
        char err[512];
        pq_lset l;
        if (!series || series->kind != YT_SCALAR ||
            pq_lset_parse(series->value, &l, err, sizeof err) < 0) {
            failf(s, "    %s:%d:%d: %s", s->path, n->line, n->col,
                  series ? err : "input_series: needs `series`");
            return -1;
        }
        pq_series *ps = pq_store_series(st, &l);
        pq_lset_free(&l);
        if (!values || values->kind != YT_SCALAR)
            continue;
        char *text = sluice_strdup(values->value);
        pq_sample *samples = NULL;
        size_t ns = 0, cap = 0;
        int64_t t = 0;
        int bad = 0;
        for (char *w = strtok(text, " \t\n"); w && !bad; w = strtok(NULL, " \t\n"))
            if (expand_word(w, &samples, &ns, &cap, &t, step) < 0) {
                failf(s, "    %s:%d:%d: values: cannot read '%s'", s->path, values->line,
                      values->col, w);
                bad = 1;
            }
        for (size_t k = 0; k < ns; k++)
            pq_series_append(ps, samples[k].t, samples[k].v);
        free(samples);
        free(text);
        if (bad)
            return -1;
    }
    return 0;
}

/* ==== Comparing ==== */

/* "{a=\"b\"} {c=\"d\"}": labels and annotations, sorted, for messages and
 * for comparing sets of alerts as promtool does. */
static char *
alert_string(const pq_lset *labels, const pq_lset *ann)
{
    char *l = pq_lset_string(labels), *a = pq_lset_string(ann);
    char *s = sluice_asprintf("Labels:%s Annotations:%s", l, a);
    free(l);
    free(a);
    return s;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A set of samples or alerts, each as a string. */
typedef struct strs {
    char **v;
    size_t n;
} strs;

static void
strs_add(strs *s, char *owned)
{
    s->v = sluice_realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = owned;
}

static char *
joined(strs *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_putc(&b, '[');
    for (size_t i = 0; i < s->n; i++)
        sluice_buf_printf(&b, "%s%s", i ? ", " : "", s->v[i]);
    sluice_buf_putc(&b, ']');
    sluice_buf_putc(&b, '\0');
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
    return b.data;
}

/* Whether the two sets differ, as promtool compares them (sorted, exactly);
 * both are freed, and their joined forms are left for the message. */
static int
differ(strs *got, strs *want, char **gs, char **ws)
{
    *gs = joined(got);
    *ws = joined(want);
    return strcmp(*gs, *ws) != 0;
}

static pq_lset
string_map(const yt_node *m)
{
    pq_lset l = {0};
    for (size_t i = 0; m && m->kind == YT_MAP && i + 1 < m->n; i += 2)
        if (m->items[i + 1]->kind == YT_SCALAR)
            lset_set(&l, m->items[i]->value, m->items[i + 1]->value);
    return l;
}

static void
check_alerts(suite *s, pq_ruleset *rs, const yt_node *tc, int64_t eval_time)
{
    const yt_node *name = yt_get(tc, "alertname"), *exp = yt_get(tc, "exp_alerts");
    const char *alertname = name && name->kind == YT_SCALAR ? name->value : "";
    strs got = {0}, want = {0};
    for (size_t g = 0; g < rs->n; g++)
        for (size_t r = 0; r < rs->groups[g].n_rules; r++) {
            const pq_rule *ru = &rs->groups[g].rules[r];
            if (!ru->alert || strcmp(ru->alert, alertname) != 0)
                continue;
            for (size_t a = 0; a < ru->n_active; a++)
                if (ru->active[a].state == PQ_FIRING)
                    strs_add(&got, alert_string(&ru->active[a].labels, &ru->active[a].annotations));
        }
    for (size_t i = 0; exp && exp->kind == YT_SEQ && i < exp->n; i++) {
        pq_lset l = string_map(yt_get(exp->items[i], "exp_labels"));
        lset_set(&l, "alertname", alertname);
        pq_lset a = string_map(yt_get(exp->items[i], "exp_annotations"));
        strs_add(&want, alert_string(&l, &a));
        pq_lset_free(&l);
        pq_lset_free(&a);
    }
    char *gs, *ws;
    if (differ(&got, &want, &gs, &ws))
        failf(s, "    alertname: %s, time: %lldms, \n        exp:%s, \n        got:%s", alertname,
              (long long)eval_time, ws, gs);
    free(gs);
    free(ws);
}

static void
check_expr(suite *s, const pq_store *st, const yt_node *tc)
{
    const yt_node *expr = yt_get(tc, "expr"), *exp = yt_get(tc, "exp_samples");
    int64_t t = duration(s, yt_get(tc, "eval_time"), 0, "eval_time");
    const char *text = expr && expr->kind == YT_SCALAR ? expr->value : "";
    char err[512];
    size_t pos;
    pq_node *n = pq_parse(text, err, sizeof err, &pos);
    if (!n) {
        failf(s, "    expr: \"%s\", time: %lldms, err: %s", text, (long long)t, err);
        return;
    }
    pq_value v;
    if (pq_eval(n, st, t, &v, err, sizeof err) < 0) {
        failf(s, "    expr: \"%s\", time: %lldms, err: %s", text, (long long)t, err);
        pq_free(n);
        return;
    }
    strs got = {0}, want = {0};
    char num[64];
    if (v.type == PQ_SCALAR) {
        pq_format_float(v.scalar, num, sizeof num);
        strs_add(&got, sluice_asprintf("{} %s", num));
    }
    for (size_t i = 0; i < v.n; i++) {
        char *l = pq_lset_string(&v.v[i].labels);
        pq_format_float(v.v[i].v, num, sizeof num);
        /* NaN never equals NaN in promtool's comparison. */
        strs_add(&got, sluice_asprintf("%s %s%s", l, num, isnan(v.v[i].v) ? "(got)" : ""));
        free(l);
    }
    int bad = 0;
    for (size_t i = 0; exp && exp->kind == YT_SEQ && i < exp->n && !bad; i++) {
        const yt_node *ln = yt_get(exp->items[i], "labels"), *vn = yt_get(exp->items[i], "value");
        pq_lset l = {0};
        double d = 0;
        if (ln && ln->kind == YT_SCALAR && *ln->value &&
            pq_lset_parse(ln->value, &l, err, sizeof err) < 0) {
            failf(s, "    expr: \"%s\", time: %lldms, err: %s", text, (long long)t, err);
            bad = 1;
            break;
        }
        if (vn && vn->kind == YT_SCALAR)
            parse_number(vn->value, strlen(vn->value), &d);
        char *ls = pq_lset_string(&l);
        pq_format_float(d, num, sizeof num);
        strs_add(&want, sluice_asprintf("%s %s", ls, num));
        free(ls);
        pq_lset_free(&l);
    }
    char *gs, *ws;
    if (differ(&got, &want, &gs, &ws) && !bad)
        failf(s, "    expr: \"%s\", time: %lldms,\n        exp: %s\n        got: %s", text,
              (long long)t, ws, gs);
    free(gs);
    free(ws);
    pq_value_free(&v);
    pq_free(n);
}

/* ==== A test group ==== */

static int
load_rules(suite *s, const yt_node *root, pq_ruleset *rs)
{
    const yt_node *files = yt_get(root, "rule_files");
    char *copy = sluice_strdup(s->path);
    char *dir = dirname(copy);
    int bad = 0;
    for (size_t i = 0; files && files->kind == YT_SEQ && i < files->n; i++) {
        const char *f = files->items[i]->value;
        if (!f)
            continue;
        char *pattern = f[0] == '/' ? sluice_strdup(f) : sluice_asprintf("%s/%s", dir, f);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0) {
            failf(s, "  %s: no rule file matches", pattern);
            bad = 1;
        } else {
            for (size_t k = 0; k < g.gl_pathc; k++) {
                sluice_buf errs = SLUICE_BUF_INIT;
                if (pq_rules_load_file(rs, g.gl_pathv[k], &errs) > 0) {
                    sluice_buf_putc(&errs, '\0');
                    failf(s, "%s", errs.data);
                    bad = 1;
                }
                sluice_buf_free(&errs);
            }
            globfree(&g);
        }
        free(pattern);
    }
    free(copy);
    return bad ? -1 : 0;
}

static int64_t
max_eval_time(suite *s, const yt_node *tg)
{
    int64_t m = 0;
    const char *lists[] = {"alert_rule_test", "promql_expr_test"};
    for (int k = 0; k < 2; k++) {
        const yt_node *l = yt_get(tg, lists[k]);
        for (size_t i = 0; l && l->kind == YT_SEQ && i < l->n; i++) {
            int64_t t = duration(s, yt_get(l->items[i], "eval_time"), 0, "eval_time");
            if (t > m)
                m = t;
        }
    }
    return m;
}

static int
by_eval_time(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void
run_group(suite *s, const yt_node *root, const yt_node *tg)
{
    pq_ruleset rs = {0};
    pq_store st = {0};
    if (load_rules(s, root, &rs) < 0)
        goto done;
    /* promtool 2.42 does not default `interval` to evaluation_interval:
     * without it every sample is at time 0, and the first one counts. */
    int64_t step = duration(s, yt_get(tg, "interval"), 0, "interval");
    if (load_series(s, &st, yt_get(tg, "input_series"), step) < 0)
        goto done;
    pq_lset ext = string_map(yt_get(tg, "external_labels"));
    const yt_node *url = yt_get(tg, "external_url");
    pq_template_env env = {&ext, url && url->kind == YT_SCALAR ? url->value : NULL, NULL};

    const yt_node *alerts = yt_get(tg, "alert_rule_test");
    size_t na = alerts && alerts->kind == YT_SEQ ? alerts->n : 0;
    int64_t *times = sluice_calloc(na + 1, sizeof *times);
    for (size_t i = 0; i < na; i++)
        times[i] = duration(s, yt_get(alerts->items[i], "eval_time"), 0, "eval_time");
    int64_t *sorted = sluice_calloc(na + 1, sizeof *sorted);
    memcpy(sorted, times, na * sizeof *times);
    qsort(sorted, na, sizeof *sorted, by_eval_time);

    int64_t maxt = max_eval_time(s, tg);
    size_t curr = 0;
    int failed_eval = 0;
    for (int64_t ts = 0; ts <= maxt && !failed_eval; ts += s->eval_interval) {
        for (size_t g = 0; g < rs.n; g++) {
            char err[512];
            if (pq_group_eval(&rs.groups[g], &st, ts, &env, err, sizeof err) < 0) {
                failf(s, "    rule: %s, time: %lldms, err: %s", rs.groups[g].name,
                      (long long)ts, err);
                failed_eval = 1;
            }
        }
        while (!failed_eval && curr < na && ts <= sorted[curr] &&
               sorted[curr] < ts + s->eval_interval) {
            for (size_t i = 0; i < na; i++)
                if (times[i] == sorted[curr])
                    check_alerts(s, &rs, alerts->items[i], times[i]);
            int64_t t = sorted[curr];
            while (curr < na && sorted[curr] == t)
                curr++;
        }
    }
    const yt_node *exprs = yt_get(tg, "promql_expr_test");
    for (size_t i = 0; !failed_eval && exprs && exprs->kind == YT_SEQ && i < exprs->n; i++)
        check_expr(s, &st, exprs->items[i]);
    free(times);
    free(sorted);
    pq_lset_free(&ext);
done:
    pq_rules_free(&rs);
    pq_store_free(&st);
}

int
pq_rules_unit_test(const char *path, FILE *out)
{
    suite s = {path, out, SLUICE_BUF_INIT, 60000};
    fprintf(out, "Unit Testing:  %s\n", path);
    char err[512];
    yt_node *root = yt_load_file(path, err, sizeof err);
    if (!root) {
        fprintf(out, "  FAILED:\n    %s\n\n", err);
        return 1;
    }
    s.eval_interval = duration(&s, yt_get(root, "evaluation_interval"), 60000,
                               "evaluation_interval");
    if (s.eval_interval <= 0)
        s.eval_interval = 60000;
    const yt_node *tests = yt_get(root, "tests");
    for (size_t i = 0; tests && tests->kind == YT_SEQ && i < tests->n; i++)
        run_group(&s, root, tests->items[i]);
    yt_free(root);
    int failed = s.fails.len > 0;
    if (failed) {
        sluice_buf_putc(&s.fails, '\0');
        fprintf(out, "  FAILED:\n%s\n", s.fails.data);
    } else {
        fprintf(out, "  SUCCESS\n\n");
    }
    sluice_buf_free(&s.fails);
    return failed;
}

int
pq_rules_check(const char *path, FILE *out)
{
    pq_ruleset rs = {0};
    sluice_buf errs = SLUICE_BUF_INIT;
    fprintf(out, "Checking %s\n", path);
    int n = pq_rules_load_file(&rs, path, &errs);
    size_t rules = 0;
    for (size_t g = 0; g < rs.n; g++)
        rules += rs.groups[g].n_rules;
    if (n) {
        sluice_buf_putc(&errs, '\0');
        fprintf(out, "  FAILED:\n%s\n", errs.data);
    } else {
        fprintf(out, "  SUCCESS: %zu rules found\n\n", rules);
    }
    sluice_buf_free(&errs);
    pq_rules_free(&rs);
    return n ? 1 : 0;
}

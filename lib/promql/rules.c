/* Rule groups (see rules.h): loading Prometheus rule files with their
 * checks, and evaluating a group as Prometheus 2.42's rule manager does. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "rules.h"
#include "sluice/alloc.h"

#define RESOLVED_RETENTION_MS (15 * 60 * 1000)

/* ==== Loading ==== */

typedef struct loader {
    const char *file;
    sluice_buf *errs;
    int n;
} loader;

static void
lerr(loader *l, const yt_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sluice_buf_printf(l->errs, "%s:%d:%d: ", l->file, at ? at->line : 0, at ? at->col : 0);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sluice_buf_printf(l->errs, "%s\n", msg);
    l->n++;
}

static int
known_keys(loader *l, const yt_node *map, const char *const *keys, const char *what)
{
    int bad = 0;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        int ok = 0;
        for (size_t k = 0; keys[k] && !ok; k++)
            ok = strcmp(keys[k], map->items[i]->value) == 0;
        if (!ok) {
            lerr(l, map->items[i], "unknown key '%s' in %s", map->items[i]->value, what);
            bad = 1;
        }
    }
    return bad;
}

static int
valid_name(const char *s, int metric)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                 (metric && *p == ':') || (p > s && *p >= '0' && *p <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static int
duration_of(loader *l, const yt_node *n, const char *what, int64_t *ms)
{
    if (!n)
        return 0;
    int64_t v = n->kind == YT_SCALAR ? pq_parse_duration(n->value, strlen(n->value)) : -1;
    if (v < 0) {
        lerr(l, n, "%s: not a duration: '%s'", what, n->kind == YT_SCALAR ? n->value : "");
        return -1;
    }
    *ms = v;
    return 0;
}

static int
string_map(loader *l, const yt_node *n, const char *what, int templates, pq_lset *out)
{
    if (!n)
        return 0;
    if (n->kind != YT_MAP) {
        lerr(l, n, "%s: expected a map of strings", what);
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const yt_node *k = n->items[i], *v = n->items[i + 1];
        char err[256];
        if (v->kind != YT_SCALAR) {
            lerr(l, v, "%s.%s: expected a string", what, k->value);
            bad = 1;
        } else if (!valid_name(k->value, 0)) {
            lerr(l, k, "%s: invalid label name '%s'", what, k->value);
            bad = 1;
        } else if (templates && pq_template_check(v->value, 0, err, sizeof err) < 0) {
            lerr(l, v, "%s.%s: template: %s", what, k->value, err);
            bad = 1;
        } else {
            lset_set(out, k->value, v->value);
        }
    }
    return bad ? -1 : 0;
}

static void
load_rule(loader *l, const yt_node *n, pq_rule *r)
{
    static const char *const keys[] = {"alert", "record", "expr", "for", "keep_firing_for",
                                       "labels", "annotations", NULL};
    r->line = n->line;
    r->col = n->col;
    if (n->kind != YT_MAP) {
        lerr(l, n, "a rule must be a map");
        return;
    }
    known_keys(l, n, keys, "a rule");
    const yt_node *alert = yt_get(n, "alert"), *record = yt_get(n, "record"),
                  *expr = yt_get(n, "expr");
    if (!!alert == !!record) {
        lerr(l, n, "one of 'record' or 'alert' must be set");
        return;
    }
    const yt_node *name = alert ? alert : record;
    if (name->kind != YT_SCALAR || !*name->value) {
        lerr(l, name, "the rule's name must be a non-empty string");
        return;
    }
    if (record && !valid_name(record->value, 1))
        lerr(l, record, "invalid recording rule name: %s", record->value);
    (alert ? &r->alert : &r->record)[0] = sluice_strdup(name->value);
    if (!expr || expr->kind != YT_SCALAR || !*expr->value) {
        lerr(l, expr ? expr : n, "field 'expr' must be set in rule");
        return;
    }
    r->expr_text = sluice_strdup(expr->value);
    char err[256];
    size_t pos = 0;
    r->expr = pq_parse(expr->value, err, sizeof err, &pos);
    if (!r->expr) {
        /* The position in the expression, on the file's line when the
         * expression is written on its key's line. */
        int col = expr->col + (expr->plain && !strchr(expr->value, '\n') ? (int)pos : 0);
        yt_node at = {.line = expr->line, .col = col};
        lerr(l, &at, "%s: %s (at character %zu of the expression)", name->value, err, pos + 1);
    } else if (r->expr->type != PQ_VECTOR && r->expr->type != PQ_SCALAR) {
        lerr(l, expr, "%s: the expression must return an instant vector or a scalar, not a "
                      "range vector",
             name->value);
    }
    const yt_node *f = yt_get(n, "for"), *kf = yt_get(n, "keep_firing_for");
    if (record && (f || kf || yt_get(n, "annotations")))
        lerr(l, f ? f : kf ? kf : yt_get(n, "annotations"),
             "invalid field '%s' in recording rule", f ? "for" : kf ? "keep_firing_for"
                                                                   : "annotations");
    duration_of(l, f, "for", &r->for_ms);
    duration_of(l, kf, "keep_firing_for", &r->keep_firing_for_ms);
    string_map(l, yt_get(n, "labels"), "labels", alert != NULL, &r->labels);
    string_map(l, yt_get(n, "annotations"), "annotations", 1, &r->annotations);
}

int
pq_rules_load_tree(pq_ruleset *rs, const yt_node *root, const char *file, sluice_buf *errs)
{
    loader l = {file, errs, 0};
    static const char *const top_keys[] = {"groups", NULL};
    static const char *const group_keys[] = {"name", "interval", "rules", NULL};
    if (!root || root->kind != YT_MAP) {
        lerr(&l, root, "a rule file is a map with `groups:`");
        return l.n;
    }
    known_keys(&l, root, top_keys, "a rule file");
    const yt_node *groups = yt_get(root, "groups");
    if (!groups)
        return l.n;
    if (groups->kind != YT_SEQ) {
        lerr(&l, groups, "groups: expected a list");
        return l.n;
    }
    size_t first = rs->n;
    for (size_t i = 0; i < groups->n; i++) {
        const yt_node *g = groups->items[i];
        if (g->kind != YT_MAP) {
            lerr(&l, g, "a group must be a map");
            continue;
        }
        if (yt_get(g, "limit")) {
            lerr(&l, yt_get(g, "limit"), "limit is not supported by sluice");
            continue;
        }
        known_keys(&l, g, group_keys, "a group");
        const yt_node *name = yt_get(g, "name"), *rules = yt_get(g, "rules");
        if (!name || name->kind != YT_SCALAR || !*name->value) {
            lerr(&l, g, "groupname must not be empty");
            continue;
        }
        for (size_t k = first; k < rs->n; k++)
            if (strcmp(rs->groups[k].name, name->value) == 0)
                lerr(&l, name, "groupname: \"%s\" is repeated in the same file", name->value);
        rs->groups = sluice_realloc(rs->groups, (rs->n + 1) * sizeof *rs->groups);
        pq_group *pg = &rs->groups[rs->n++];
        memset(pg, 0, sizeof *pg);
        pg->name = sluice_strdup(name->value);
        pg->file = sluice_strdup(file);
        duration_of(&l, yt_get(g, "interval"), "interval", &pg->interval_ms);
        if (!rules)
            continue;
        if (rules->kind != YT_SEQ) {
            lerr(&l, rules, "rules: expected a list");
            continue;
        }
        pg->rules = sluice_calloc(rules->n + 1, sizeof *pg->rules);
        for (size_t r = 0; r < rules->n; r++)
            load_rule(&l, rules->items[r], &pg->rules[pg->n_rules++]);
    }
    return l.n;
}

int
pq_rules_load_file(pq_ruleset *rs, const char *path, sluice_buf *errs)
{
    char err[512];
    yt_node *root = yt_load_file(path, err, sizeof err);
    if (!root) {
        sluice_buf_printf(errs, "%s\n", err);
        return 1;
    }
    int n = pq_rules_load_tree(rs, root, path, errs);
    yt_free(root);
    return n;
}

pq_group *
pq_ruleset_add_group(pq_ruleset *rs, const char *name, int64_t interval_ms, const char *origin)
{
    rs->groups = sluice_realloc(rs->groups, (rs->n + 1) * sizeof *rs->groups);
    pq_group *g = &rs->groups[rs->n++];
    *g = (pq_group){.name = sluice_strdup(name), .file = sluice_strdup(origin),
                    .interval_ms = interval_ms};
    return g;
}

pq_rule *
pq_group_add_rule(pq_group *g)
{
    g->rules = sluice_realloc(g->rules, (g->n_rules + 1) * sizeof *g->rules);
    pq_rule *r = &g->rules[g->n_rules++];
    memset(r, 0, sizeof *r);
    return r;
}

static void
lset_add_all(pq_lset *to, const pq_lset *from)
{
    for (size_t i = 0; from && i < from->n; i++)
        lset_set(to, from->kv[2 * i], from->kv[2 * i + 1]);
}

int
pq_rule_set(pq_rule *r, const char *alert, const char *record, const char *expr, int64_t for_ms,
            int64_t keep_firing_for_ms, const pq_lset *labels, const pq_lset *annotations,
            char *err, size_t errlen)
{
    r->alert = alert ? sluice_strdup(alert) : NULL;
    r->record = record ? sluice_strdup(record) : NULL;
    r->expr_text = sluice_strdup(expr);
    r->for_ms = for_ms;
    r->keep_firing_for_ms = keep_firing_for_ms;
    lset_add_all(&r->labels, labels);
    lset_add_all(&r->annotations, annotations);
    size_t pos;
    char why[256];
    if (!(r->expr = pq_parse(expr, why, sizeof why, &pos))) {
        snprintf(err, errlen, "%s (at character %zu of the expression)", why, pos + 1);
        return -1;
    }
    if (r->expr->type != PQ_VECTOR && r->expr->type != PQ_SCALAR) {
        snprintf(err, errlen, "the expression must return an instant vector or a scalar, not a "
                              "range vector");
        return -1;
    }
    return 0;
}

static void
alert_free(pq_alert *a)
{
    pq_lset_free(&a->labels);
    pq_lset_free(&a->annotations);
}

void
pq_rules_free(pq_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        pq_group *g = &rs->groups[i];
        for (size_t r = 0; r < g->n_rules; r++) {
            pq_rule *ru = &g->rules[r];
            free(ru->alert);
            free(ru->record);
            free(ru->expr_text);
            pq_free(ru->expr);
            pq_lset_free(&ru->labels);
            pq_lset_free(&ru->annotations);
            for (size_t k = 0; k < ru->n_active; k++)
                alert_free(&ru->active[k]);
            free(ru->active);
            for (size_t k = 0; k < ru->n_before; k++)
                pq_lset_free(&ru->before[k]);
            free(ru->before);
        }
        free(g->rules);
        free(g->name);
        free(g->file);
    }
    free(rs->groups);
    memset(rs, 0, sizeof *rs);
}

/* ==== Evaluation ==== */

/* A set of label-set hashes, each with a number (an index), by open
 * addressing: what keeps an evaluation linear in its alerts and series. */
typedef struct hindex {
    uint64_t *key; /* 0: empty (a hash of 0 is stored as 1) */
    size_t *val;
    size_t cap;
} hindex;

static void
hindex_init(hindex *h, size_t n)
{
    h->cap = 16;
    while (h->cap < 2 * n + 2)
        h->cap *= 2;
    h->key = sluice_calloc(h->cap, sizeof *h->key);
    h->val = sluice_calloc(h->cap, sizeof *h->val);
}

static size_t *
hindex_slot(const hindex *h, uint64_t k, int *found)
{
    k = k ? k : 1;
    size_t i = (size_t)k & (h->cap - 1);
    while (h->key[i] && h->key[i] != k)
        i = (i + 1) & (h->cap - 1);
    *found = h->key[i] == k;
    return &h->val[i];
}

/* Add k -> v; 0 if k was there already (v not stored). */
static int
hindex_add(hindex *h, uint64_t k, size_t v)
{
    int found;
    size_t *slot = hindex_slot(h, k, &found);
    if (found)
        return 0;
    h->key[slot - h->val] = k ? k : 1;
    *slot = v;
    return 1;
}

static int
hindex_get(const hindex *h, uint64_t k, size_t *v)
{
    int found;
    size_t *slot = hindex_slot(h, k, &found);
    if (found)
        *v = *slot;
    return found;
}

static void
hindex_free(hindex *h)
{
    free(h->key);
    free(h->val);
}

/* Write a sample of a rule's output, and remember the series for
 * end_writes. */
static void
write_series(pq_rule *r, pq_store *st, const pq_lset *l, int64_t t, double v)
{
    pq_series_append(pq_store_series(st, l), t, v);
    r->now = sluice_realloc(r->now, (r->n_now + 1) * sizeof *r->now);
    r->now[r->n_now++] = lset_copy(l);
}

/* As Prometheus: a series the rule wrote last time and not this time gets
 * a staleness marker, so that it is gone at once rather than after the
 * 5-minute lookback. */
static void
end_writes(pq_rule *r, pq_store *st, int64_t t)
{
    hindex now;
    hindex_init(&now, r->n_now);
    for (size_t k = 0; k < r->n_now; k++)
        hindex_add(&now, lset_hash(&r->now[k]), k);
    for (size_t i = 0; i < r->n_before; i++) {
        size_t k;
        if (!hindex_get(&now, lset_hash(&r->before[i]), &k) ||
            !lset_equal(&r->before[i], &r->now[k]))
            pq_series_append(pq_store_series(st, &r->before[i]), t, pq_stale());
        pq_lset_free(&r->before[i]);
    }
    hindex_free(&now);
    free(r->before);
    r->before = r->now;
    r->n_before = r->n_now;
    r->now = NULL;
    r->n_now = 0;
}

static void
alerts_series(pq_rule *r, const pq_alert *a, pq_store *st, int64_t t, double v)
{
    pq_lset l = lset_copy(&a->labels);
    lset_set(&l, "__name__", "ALERTS");
    lset_set(&l, "alertstate", a->state == PQ_FIRING ? "firing" : "pending");
    write_series(r, st, &l, t, v);
    pq_lset_free(&l);
}

/* One alerting rule at `t`: Prometheus's AlertingRule.Eval. */
static int
eval_alert(pq_rule *r, pq_store *st, const pq_value *res, int64_t t, const pq_template_env *env,
           char *err, size_t errlen)
{
    hindex seen, active;
    hindex_init(&seen, res->n);
    hindex_init(&active, r->n_active);
    for (size_t i = 0; i < r->n_active; i++)
        hindex_add(&active, r->active[i].hash, i);
    int rc = 0;
    for (size_t i = 0; i < res->n; i++) {
        const pq_elem *s = &res->v[i];
        pq_lset l = lset_copy(&s->labels);
        lset_drop_name(&l);
        for (size_t k = 0; k < r->labels.n; k++) {
            char *v = pq_template_render(r->labels.kv[2 * k + 1], &s->labels, s->v, env);
            lset_set(&l, r->labels.kv[2 * k], v);
            free(v);
        }
        lset_set(&l, "alertname", r->alert);
        pq_lset ann = {0};
        for (size_t k = 0; k < r->annotations.n; k++) {
            char *v = pq_template_render(r->annotations.kv[2 * k + 1], &s->labels, s->v, env);
            lset_set(&ann, r->annotations.kv[2 * k], v);
            free(v);
        }
        uint64_t h = lset_hash(&l);
        if (!hindex_add(&seen, h, i)) {
            snprintf(err, errlen, "%s: vector contains metrics with the same labelset after "
                                  "applying alert labels",
                     r->alert);
            rc = -1;
            pq_lset_free(&l);
            pq_lset_free(&ann);
            continue;
        }
        size_t at;
        pq_alert *a = hindex_get(&active, h, &at) && lset_equal(&r->active[at].labels, &l)
                          ? &r->active[at]
                          : NULL;
        if (a && a->state != PQ_INACTIVE) {
            a->restored = 0;
            a->value = s->v;
            pq_lset_free(&a->annotations);
            a->annotations = ann;
            pq_lset_free(&l);
            continue;
        }
        if (a) { /* resolved and back: a new alert in its place */
            alert_free(a);
        } else {
            r->active = sluice_realloc(r->active, (r->n_active + 1) * sizeof *r->active);
            a = &r->active[r->n_active++];
        }
        *a = (pq_alert){.labels = l, .annotations = ann, .hash = h, .state = PQ_PENDING,
                        .active_at = t, .value = s->v};
    }
    size_t o = 0;
    for (size_t i = 0; i < r->n_active; i++) {
        pq_alert *a = &r->active[i];
        size_t where;
        int present = hindex_get(&seen, a->hash, &where);
        int drop = 0;
        if (!present && a->restored && t < r->restore_until) {
            r->active[o++] = *a;
            continue;
        }
        if (!present) {
            int keep_firing = 0;
            if (a->state == PQ_FIRING && r->keep_firing_for_ms > 0) {
                if (!a->keep_firing_since)
                    a->keep_firing_since = t;
                keep_firing = t - a->keep_firing_since < r->keep_firing_for_ms;
            }
            if (!keep_firing) {
                if (a->state == PQ_PENDING ||
                    (a->resolved_at && t - a->resolved_at > RESOLVED_RETENTION_MS))
                    drop = 1;
                if (a->state != PQ_INACTIVE) {
                    a->state = PQ_INACTIVE;
                    a->resolved_at = t;
                }
            }
        } else {
            a->keep_firing_since = 0;
        }
        if (!drop && a->state == PQ_PENDING && t - a->active_at >= r->for_ms) {
            a->state = PQ_FIRING;
            a->fired_at = t;
        }
        if (drop) {
            alert_free(a);
            continue;
        }
        if (a->state != PQ_INACTIVE)
            alerts_series(r, a, st, t, 1);
        r->active[o++] = *a;
    }
    r->n_active = o;
    hindex_free(&seen);
    hindex_free(&active);
    return rc;
}

int
pq_group_eval(pq_group *g, pq_store *st, int64_t t, const pq_template_env *env, char *err,
              size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < g->n_rules; i++) {
        pq_rule *r = &g->rules[i];
        if (!r->expr)
            continue;
        pq_value v;
        char why[512];
        if (pq_eval(r->expr, st, t, &v, why, sizeof why) < 0) {
            if (rc == 0)
                snprintf(err, errlen, "%s: %s", r->alert ? r->alert : r->record, why);
            rc = -1;
            continue;
        }
        if (v.type == PQ_SCALAR) { /* as a vector of one sample without labels */
            double s = v.scalar;
            memset(&v, 0, sizeof v);
            v.type = PQ_VECTOR;
            v.v = sluice_calloc(1, sizeof *v.v);
            v.v[0].v = s;
            v.n = 1;
        }
        if (r->record) {
            for (size_t k = 0; k < v.n; k++) {
                pq_lset l = lset_copy(&v.v[k].labels);
                lset_set(&l, "__name__", r->record);
                for (size_t j = 0; j < r->labels.n; j++)
                    lset_set(&l, r->labels.kv[2 * j], r->labels.kv[2 * j + 1]);
                write_series(r, st, &l, t, v.v[k].v);
                pq_lset_free(&l);
            }
        } else if (eval_alert(r, st, &v, t, env, why, sizeof why) < 0 && rc == 0) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
        }
        pq_value_free(&v);
        end_writes(r, st, t);
    }
    return rc;
}

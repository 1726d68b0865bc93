/* Prometheus rule files: groups of recording and alerting rules, loaded
 * with every problem placed at its file:line:col, evaluated as Prometheus
 * 2.42's rule manager does (pending until `for`, firing, resolved and kept
 * 15 minutes, `keep_firing_for`, ALERTS series), and the Go template
 * subset of labels and annotations. */
#ifndef SLUICE_PQ_RULES_H
#define SLUICE_PQ_RULES_H

#include "promql_eval.h"
#include "sluice/buf.h"
#include "yaml_tree.h"

typedef enum pq_alert_state { PQ_INACTIVE, PQ_PENDING, PQ_FIRING } pq_alert_state;

typedef struct pq_alert {
    pq_lset labels;      /* the identity: sample labels, rule labels, alertname */
    pq_lset annotations; /* rendered at the last evaluation */
    uint64_t hash;
    pq_alert_state state;
    int64_t active_at, fired_at, resolved_at, keep_firing_since; /* ms; 0: not */
    double value;
    /* Notification, kept by whoever sends it (the alert filter): what was
     * last sent (0 nothing, 1 firing, 2 resolved) and when. */
    int sent;
    int64_t sent_at;
    int restored; /* read back after a restart, and not seen since */
} pq_alert;

typedef struct pq_rule {
    char *alert, *record;
    char *expr_text;
    pq_node *expr;
    int64_t for_ms, keep_firing_for_ms;
    pq_lset labels, annotations; /* templates */
    int line, col;
    pq_alert *active;
    size_t n_active;
    pq_lset *before, *now; /* series written at the last evaluation, and at this one */
    size_t n_before, n_now;
    /* Until then, a restored alert the expression does not return yet is
     * kept as it was: after a restart the samples its ranges need are not
     * there yet. */
    int64_t restore_until;
} pq_rule;

typedef struct pq_group {
    char *name, *file;
    int64_t interval_ms; /* 0: the default */
    pq_rule *rules;
    size_t n_rules;
} pq_group;

typedef struct pq_ruleset {
    pq_group *groups;
    size_t n;
} pq_ruleset;

/* Add the groups of a rule file (its `groups:` tree, or the file). Every
 * problem is appended to `errs` as "file:line:col: what\n"; returns their
 * number (0: loaded). */
int pq_rules_load_tree(pq_ruleset *rs, const yt_node *root, const char *file, sluice_buf *errs);
int pq_rules_load_file(pq_ruleset *rs, const char *path, sluice_buf *errs);
void pq_rules_free(pq_ruleset *rs);

/* Rules built from a configuration rather than a file (checked by the
 * caller): a new group, and a rule in it. pq_rule_set parses `expr` and
 * copies everything; it returns 0, or -1 with why in `err`. */
pq_group *pq_ruleset_add_group(pq_ruleset *rs, const char *name, int64_t interval_ms,
                               const char *origin);
pq_rule *pq_group_add_rule(pq_group *g);
int pq_rule_set(pq_rule *r, const char *alert, const char *record, const char *expr,
                int64_t for_ms, int64_t keep_firing_for_ms, const pq_lset *labels,
                const pq_lset *annotations, char *err, size_t errlen);

/* What templates see besides the alert's labels and value. */
typedef struct pq_template_env {
    const pq_lset *external_labels;
    const char *external_url;
    /* Notification templates only (the slack output): the alert's
     * annotations, as $annotations.x. Rule templates refuse $annotations,
     * as Prometheus does. */
    const pq_lset *annotations;
} pq_template_env;

/* Evaluate a group at `t` (ms): recording rules write their series into
 * `st` (visible to the rules after them), alerting rules update their
 * alerts and the ALERTS series. Returns 0, or -1 with the first rule's
 * failure in `err` (the other rules still ran). */
int pq_group_eval(pq_group *g, pq_store *st, int64_t t, const pq_template_env *env, char *err,
                  size_t errlen);

/* Render a template; an error renders as text and never fails. */
char *pq_template_render(const char *tmpl, const pq_lset *labels, double value,
                         const pq_template_env *env);
/* Whether `tmpl` uses only the supported subset: 0, or -1 with why.
 * With `notification`, $annotations is allowed. */
int pq_template_check(const char *tmpl, int notification, char *err, size_t errlen);

#endif

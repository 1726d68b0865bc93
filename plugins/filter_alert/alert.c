/* filter_alert: Prometheus alerting and recording rules over the metric
 * events that pass (lib/promql, docs/alerting.md).
 *
 * Every metric event's numeric fields become samples of the series
 * Prometheus would name (promql_metric.h), kept as long as the longest
 * range of the rules needs. Every group is evaluated on its interval (a
 * collector: paused with the pipeline, stopped with it). What changes is
 * emitted, as log events, into `emit_to` (default: on past this filter):
 *
 *   {alertname, status: firing|resolved, labels, annotations, startsAt,
 *    endsAt, value, generatorURL (with external_url)}
 *
 * once when an alert fires or resolves and again every resend_delay while
 * it fires (and for 15 minutes once resolved), with endsAt = now + 4 x
 * max(interval, resend_delay) while firing, as Prometheus sends alerts to
 * Alertmanager; and, every evaluation, ALERTS{alertname, alertstate}
 * metric events. Alert state (active since, fired at, what was sent) is
 * saved under service.storage.path after each evaluation, so that after a
 * restart `for` goes on and a firing alert is not sent as new. Metric
 * events pass on unchanged; log events pass untouched. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "alert_state.h"
#include "promql_metric.h"
#include "rules.h"

typedef struct inline_rule {
    char *alert, *record, *expr;
    int64_t for_ns, keep_firing_for_ns;
    sluice_bytes labels, annotations;
} inline_rule;

typedef struct inline_group {
    char *name;
    int64_t interval;
    sluice_list rules;
} inline_group;

typedef struct alert_config {
    sluice_list groups;
    sluice_strlist rule_files;
    int64_t interval, resend_delay;
    char *emit_to;
    int64_t max_series;
    sluice_bytes external_labels;
    char *external_url;
    int keep_state;
} alert_config;

/* ==== Inline groups: the rule-file format under `groups:` ==== */

static int
check_expr(const void *value, char *err, size_t errlen)
{
    char why[200];
    size_t pos;
    pq_node *n = pq_parse(*(char *const *)value, why, sizeof why, &pos);
    if (!n) {
        snprintf(err, errlen, "%s (at character %zu of the expression)", why, pos + 1);
        return -1;
    }
    int range = n->type == PQ_MATRIX || n->type == PQ_STRING;
    pq_free(n);
    if (range)
        snprintf(err, errlen, "the expression must return an instant vector or a scalar");
    return range ? -1 : 0;
}

static int
check_record_name(const void *value, char *err, size_t errlen)
{
    const char *s = *(char *const *)value;
    int ok = *s && !(*s >= '0' && *s <= '9');
    for (const char *p = s; *p && ok; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '_' || *p == ':';
    if (!ok)
        snprintf(err, errlen, "invalid recording rule name: %s", s);
    return ok ? 0 : -1;
}

/* labels and annotations: a map of strings whose values are templates. */
static int
check_templates(const void *value, char *err, size_t errlen)
{
    pq_lset l;
    if (alert_state_labels_strict((const sluice_bytes *)value, &l, err, errlen) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        char why[200];
        if (pq_template_check(l.kv[2 * i + 1], 0, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: template: %s", l.kv[2 * i], why);
            rc = -1;
        }
    }
    pq_lset_free(&l);
    return rc;
}

static int
check_strings(const void *value, char *err, size_t errlen)
{
    pq_lset l;
    if (alert_state_labels_strict((const sluice_bytes *)value, &l, err, errlen) < 0)
        return -1;
    pq_lset_free(&l);
    return 0;
}

static const sluice_option rule_options[] = {
    {.name = "alert", .type = SLUICE_OPT_STR, .offset = offsetof(inline_rule, alert),
     .help = "Alerting rule: the alert's name."},
    {.name = "record", .type = SLUICE_OPT_STR, .check = check_record_name,
     .offset = offsetof(inline_rule, record), .help = "Recording rule: the series written."},
    {.name = "expr", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED, .check = check_expr,
     .offset = offsetof(inline_rule, expr), .help = "The PromQL expression."},
    {.name = "for", .type = SLUICE_OPT_DURATION, .def = "0", .offset = offsetof(inline_rule, for_ns),
     .help = "How long the expression must return a series before it fires."},
    {.name = "keep_firing_for", .type = SLUICE_OPT_DURATION, .def = "0",
     .offset = offsetof(inline_rule, keep_firing_for_ns),
     .help = "How long it goes on firing once the expression no longer returns it."},
    {.name = "labels", .type = SLUICE_OPT_MAP, .def = "{}", .check = check_templates,
     .offset = offsetof(inline_rule, labels), .help = "Labels added (templates)."},
    {.name = "annotations", .type = SLUICE_OPT_MAP, .def = "{}", .check = check_templates,
     .offset = offsetof(inline_rule, annotations), .help = "Annotations (templates)."},
    SLUICE_OPTIONS_END,
};

static const sluice_option group_options[] = {
    {.name = "name", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(inline_group, name), .help = "The group's name."},
    {.name = "interval", .type = SLUICE_OPT_DURATION, .def = "0",
     .offset = offsetof(inline_group, interval),
     .help = "How often the group is evaluated; 0: evaluation_interval."},
    {.name = "rules", SLUICE_OPT_LIST_OF(inline_rule), .flags = SLUICE_OPT_REQUIRED,
     .sub = rule_options, .offset = offsetof(inline_group, rules),
     .help = "Alerting and recording rules, as in a rule file."},
    SLUICE_OPTIONS_END,
};

static const sluice_option alert_options[] = {
    {.name = "groups", SLUICE_OPT_LIST_OF(inline_group), .sub = group_options,
     .offset = offsetof(alert_config, groups),
     .help = "Rule groups written here, in the rule-file format (name, interval, rules)."},
    {.name = "rule_files", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(alert_config, rule_files),
     .help = "Prometheus rule files (globs), as Prometheus's rule_files; `sluice rules check` "
             "checks them."},
    {.name = "evaluation_interval", .type = SLUICE_OPT_DURATION, .def = "15s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC / 10, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(alert_config, interval),
     .help = "How often groups without an `interval` of their own are evaluated."},
    {.name = "resend_delay", .type = SLUICE_OPT_DURATION, .def = "1m", .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_SEC / 10, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(alert_config, resend_delay),
     .help = "A firing alert is sent again this often (and a resolved one, for 15 minutes)."},
    {.name = "emit_to", .type = SLUICE_OPT_STR, .offset = offsetof(alert_config, emit_to),
     .help = "Pipeline the alert events enter (a pipeline of notifiers); default: this one, "
             "after this filter."},
    {.name = "max_series", .type = SLUICE_OPT_INT, .def = "100000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000000, .offset = offsetof(alert_config, max_series),
     .help = "Most series kept; samples of new series past it are refused, counted and logged."},
    {.name = "external_labels", .type = SLUICE_OPT_MAP, .def = "{}", .check = check_strings,
     .offset = offsetof(alert_config, external_labels),
     .help = "$externalLabels of templates (Prometheus's global.external_labels)."},
    {.name = "external_url", .type = SLUICE_OPT_STR, .offset = offsetof(alert_config, external_url),
     .help = "$externalURL of templates, and the base of each alert's generatorURL."},
    {.name = "keep_state", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(alert_config, keep_state),
     .help = "Save alert state under service.storage.path, so that `for` survives a restart."},
    SLUICE_OPTIONS_END,
};

typedef struct alert_ctx {
    sluice_instance *ins;
    const alert_config *cfg;
    pq_ruleset rules;
    pq_store store;
    pq_lset external;
    pq_template_env env;
    sluice_emitter *to;
    int64_t *due;       /* per group: when it is evaluated next (ms) */
    int64_t keep_ms;    /* samples older than now - keep_ms are forgotten */
    char *state_path;
    sluice_buf scratch;
    int64_t sample_ms; /* the time of the event being read */
    uint64_t samples, refused, refused_logged, failures, sent;
} alert_ctx;

/* ==== Samples ==== */

static void
on_sample(void *arg, const pq_lset *labels, double v)
{
    alert_ctx *c = arg;
    pq_series *s = pq_store_find(&c->store, labels);
    if (!s) {
        if (c->store.n >= (size_t)c->cfg->max_series) {
            if (c->refused++ == c->refused_logged) {
                char *name = pq_lset_string(labels);
                sluice_warn(c->ins, "max_series (%lld) reached: refusing %s (%llu series "
                                    "refused so far)",
                            (long long)c->cfg->max_series, name,
                            (unsigned long long)c->refused);
                free(name);
                c->refused_logged = c->refused_logged * 2 + 1;
            }
            return;
        }
        s = pq_store_series(&c->store, labels);
    }
    pq_series_append(s, c->sample_ms, v);
    c->samples++;
}

static int
alert_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    alert_ctx *c = ctx;
    (void)out;
    if (in->kind != SLUICE_EVENT_METRIC)
        return SLUICE_FILTER_NOTOUCH;
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        c->sample_ms = ev.time / SLUICE_NSEC_PER_MSEC;
        pq_metric_samples(&ev.body, on_sample, c);
    }
    sluice_event_iter_destroy(&it);
    return SLUICE_FILTER_NOTOUCH;
}

/* ==== Notifications ==== */

static void
pack_lset(msgpack_packer *pk, const pq_lset *l)
{
    msgpack_pack_map(pk, (uint32_t)l->n);
    for (size_t i = 0; i < l->n; i++) {
        sluice_pack_cstr(pk, l->kv[2 * i]);
        sluice_pack_cstr(pk, l->kv[2 * i + 1]);
    }
}

static void
pack_time(alert_ctx *c, msgpack_packer *pk, const char *key, int64_t ms)
{
    sluice_pack_cstr(pk, key);
    sluice_buf_reset(&c->scratch);
    sluice_format_rfc3339(&c->scratch, ms * SLUICE_NSEC_PER_MSEC);
    msgpack_pack_str_with_body(pk, c->scratch.data, c->scratch.len);
}

/* Prometheus's generatorURL: the expression as a graph link. */
static void
pack_generator_url(alert_ctx *c, msgpack_packer *pk, const pq_rule *r)
{
    sluice_buf_reset(&c->scratch);
    sluice_buf_url_base(&c->scratch, c->cfg->external_url);
    sluice_buf_printf(&c->scratch, "/graph?g0.expr=");
    sluice_buf_url_escape(&c->scratch, r->expr_text);
    sluice_buf_printf(&c->scratch, "&g0.tab=1");
    sluice_pack_cstr(pk, "generatorURL");
    msgpack_pack_str_with_body(pk, c->scratch.data, c->scratch.len);
}

static void
send_alert(alert_ctx *c, const pq_group *g, const pq_rule *r, pq_alert *a, int64_t now)
{
    int firing = a->state == PQ_FIRING;
    int64_t interval = g->interval_ms ? g->interval_ms : c->cfg->interval / SLUICE_NSEC_PER_MSEC;
    int64_t resend = c->cfg->resend_delay / SLUICE_NSEC_PER_MSEC;
    int64_t ends = firing ? now + 4 * (interval > resend ? interval : resend) : a->resolved_at;
    msgpack_packer *pk = sluice_emit_begin(c->to, SLUICE_EVENT_LOG,
                                           now * SLUICE_NSEC_PER_MSEC);
    msgpack_pack_map(pk, c->cfg->external_url ? 8 : 7);
    sluice_pack_cstr(pk, "alertname");
    sluice_pack_cstr(pk, r->alert);
    sluice_pack_cstr(pk, "status");
    sluice_pack_cstr(pk, firing ? "firing" : "resolved");
    sluice_pack_cstr(pk, "labels");
    pack_lset(pk, &a->labels);
    sluice_pack_cstr(pk, "annotations");
    pack_lset(pk, &a->annotations);
    pack_time(c, pk, "startsAt", a->fired_at ? a->fired_at : a->active_at);
    pack_time(c, pk, "endsAt", ends);
    sluice_pack_cstr(pk, "value");
    msgpack_pack_double(pk, a->value);
    if (c->cfg->external_url)
        pack_generator_url(c, pk, r);
    sluice_emit_end(c->to);
    a->sent = firing ? 1 : 2;
    a->sent_at = now;
    c->sent++;
}

/* What Prometheus sends to Alertmanager: a firing alert when it fires and
 * every resend_delay; a resolved one when it resolves and every
 * resend_delay while it is kept (15 minutes). */
static void
notify(alert_ctx *c, const pq_group *g, pq_rule *r, int64_t now)
{
    int64_t resend = c->cfg->resend_delay / SLUICE_NSEC_PER_MSEC;
    for (size_t i = 0; i < r->n_active; i++) {
        pq_alert *a = &r->active[i];
        if (a->state == PQ_FIRING &&
            (a->sent != 1 || now - a->sent_at >= resend))
            send_alert(c, g, r, a, now);
        else if (a->state == PQ_INACTIVE && a->sent &&
                 (a->sent == 1 || now - a->sent_at >= resend))
            send_alert(c, g, r, a, now);
    }
}

/* ALERTS{alertname, alertstate, ...} = 1 for every pending or firing alert. */
static void
emit_alerts_series(alert_ctx *c, const pq_rule *r, int64_t now)
{
    for (size_t i = 0; i < r->n_active; i++) {
        const pq_alert *a = &r->active[i];
        if (a->state == PQ_INACTIVE)
            continue;
        msgpack_packer *pk = sluice_emit_begin(c->to, SLUICE_EVENT_METRIC,
                                               now * SLUICE_NSEC_PER_MSEC);
        msgpack_pack_map(pk, 4);
        sluice_pack_cstr(pk, "name");
        sluice_pack_cstr(pk, "ALERTS");
        sluice_pack_cstr(pk, "kind");
        sluice_pack_cstr(pk, "gauge");
        sluice_pack_cstr(pk, "tags");
        msgpack_pack_map(pk, (uint32_t)a->labels.n + 1);
        for (size_t k = 0; k < a->labels.n; k++) {
            sluice_pack_cstr(pk, a->labels.kv[2 * k]);
            sluice_pack_cstr(pk, a->labels.kv[2 * k + 1]);
        }
        sluice_pack_cstr(pk, "alertstate");
        sluice_pack_cstr(pk, a->state == PQ_FIRING ? "firing" : "pending");
        sluice_pack_cstr(pk, "fields");
        msgpack_pack_map(pk, 1);
        sluice_pack_cstr(pk, "value");
        msgpack_pack_uint64(pk, 1);
        sluice_emit_end(c->to);
    }
}

/* ==== Evaluation ==== */

static void
collect(sluice_instance *ins, void *arg)
{
    alert_ctx *c = arg;
    (void)ins;
    int64_t now = sluice_time_now() / SLUICE_NSEC_PER_MSEC;
    int64_t def = c->cfg->interval / SLUICE_NSEC_PER_MSEC;
    int evaluated = 0;
    pq_store_trim(&c->store, now - c->keep_ms);
    for (size_t i = 0; i < c->rules.n; i++) {
        pq_group *g = &c->rules.groups[i];
        if (now < c->due[i])
            continue;
        int64_t every = g->interval_ms ? g->interval_ms : def;
        c->due[i] = (c->due[i] ? c->due[i] : now) + every;
        if (c->due[i] <= now)
            c->due[i] = now + every;
        char err[512];
        if (pq_group_eval(g, &c->store, now, &c->env, err, sizeof err) < 0 &&
            c->failures++ % 100 == 0)
            sluice_warn(c->ins, "group %s: %s (%llu failed evaluations so far)", g->name, err,
                        (unsigned long long)c->failures);
        for (size_t r = 0; r < g->n_rules; r++)
            if (g->rules[r].alert) {
                notify(c, g, &g->rules[r], now);
                emit_alerts_series(c, &g->rules[r], now);
            }
        evaluated = 1;
    }
    if (evaluated && c->state_path && alert_state_save(&c->rules, c->state_path) < 0)
        sluice_warn(c->ins, "cannot save alert state to %s: %s", c->state_path, strerror(errno));
}

/* ==== Life cycle ==== */

/* The groups under `groups:`; their values were checked as they were read. */
static int
load_inline(alert_ctx *c)
{
    const inline_group *groups = c->cfg->groups.items;
    int bad = 0;
    for (size_t g = 0; g < c->cfg->groups.n; g++) {
        for (size_t k = 0; k < g; k++)
            if (strcmp(groups[k].name, groups[g].name) == 0) {
                char opt[48];
                snprintf(opt, sizeof opt, "groups[%zu].name", g);
                sluice_option_error(c->ins, opt, "groupname: \"%s\" is repeated", groups[g].name);
                bad = 1;
            }
        pq_group *pg = pq_ruleset_add_group(&c->rules, groups[g].name,
                                            groups[g].interval / SLUICE_NSEC_PER_MSEC, "groups");
        const inline_rule *rules = groups[g].rules.items;
        for (size_t r = 0; r < groups[g].rules.n; r++) {
            const inline_rule *ir = &rules[r];
            char opt[64], err[256];
            snprintf(opt, sizeof opt, "groups[%zu].rules[%zu]", g, r);
            if (!ir->alert == !ir->record) {
                sluice_option_error(c->ins, opt, "one of 'record' or 'alert' must be set");
                bad = 1;
                continue;
            }
            if (ir->record && (ir->for_ns || ir->keep_firing_for_ns)) {
                sluice_option_error(c->ins, opt, "a recording rule has no for or keep_firing_for");
                bad = 1;
                continue;
            }
            pq_lset labels, annotations;
            alert_state_labels(&ir->labels, &labels);
            alert_state_labels(&ir->annotations, &annotations);
            if (pq_rule_set(pq_group_add_rule(pg), ir->alert, ir->record, ir->expr,
                            ir->for_ns / SLUICE_NSEC_PER_MSEC,
                            ir->keep_firing_for_ns / SLUICE_NSEC_PER_MSEC, &labels, &annotations,
                            err, sizeof err) < 0) {
                sluice_option_error(c->ins, opt, "%s", err);
                bad = 1;
            }
            pq_lset_free(&labels);
            pq_lset_free(&annotations);
        }
    }
    return bad ? -1 : 0;
}

static int
load_rules(alert_ctx *c)
{
    const alert_config *cfg = c->cfg;
    int bad = load_inline(c) < 0;
    for (size_t i = 0; i < cfg->rule_files.n; i++) {
        char opt[48];
        snprintf(opt, sizeof opt, "rule_files[%zu]", i);
        glob_t g;
        if (glob(cfg->rule_files.v[i], 0, NULL, &g) != 0) {
            sluice_option_error(c->ins, opt, "no file matches '%s'", cfg->rule_files.v[i]);
            bad = 1;
            continue;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            sluice_instance_depends_on(c->ins, g.gl_pathv[k]);
            sluice_buf errs = SLUICE_BUF_INIT;
            if (pq_rules_load_file(&c->rules, g.gl_pathv[k], &errs) > 0) {
                sluice_buf_putc(&errs, '\0');
                for (char *line = strtok(errs.data, "\n"); line; line = strtok(NULL, "\n"))
                    sluice_option_error(c->ins, opt, "%s", line);
                bad = 1;
            }
            sluice_buf_free(&errs);
        }
        globfree(&g);
    }
    return bad ? -1 : 0;
}

static void
alert_exit(void *ctx)
{
    alert_ctx *c = ctx;
    if (c->samples || c->sent)
        sluice_info(c->ins, "%llu samples, %llu series kept, %llu refused (max_series); %llu "
                            "alert events sent; %llu failed evaluations",
                    (unsigned long long)c->samples, (unsigned long long)c->store.n,
                    (unsigned long long)c->refused, (unsigned long long)c->sent,
                    (unsigned long long)c->failures);
    pq_rules_free(&c->rules);
    pq_store_free(&c->store);
    pq_lset_free(&c->external);
    sluice_buf_free(&c->scratch);
    free(c->due);
    free(c->state_path);
    free(c);
}

/* Load the rules (inline groups and rule files), size what must be kept
 * of each series from their longest range, find where alert events go,
 * restore saved alert state (held until the rules' ranges have samples
 * again) and start the evaluation collector at the shortest interval. */
static int
alert_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const alert_config *cfg = config;
    alert_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    if (load_rules(c) < 0)
        return SLUICE_ERROR;
    size_t n_rules = 0;
    int64_t longest = 0, slowest = cfg->interval / SLUICE_NSEC_PER_MSEC;
    for (size_t g = 0; g < c->rules.n; g++) {
        if (c->rules.groups[g].interval_ms > slowest)
            slowest = c->rules.groups[g].interval_ms;
        for (size_t r = 0; r < c->rules.groups[g].n_rules; r++) {
            int64_t l = pq_lookback_ms(c->rules.groups[g].rules[r].expr);
            longest = l > longest ? l : longest;
            n_rules++;
        }
    }
    if (n_rules == 0) {
        sluice_option_error(ins, NULL, "no rule: write `groups:` here, or give `rule_files`");
        return SLUICE_ERROR;
    }
    /* The longest range, the 5-minute lookback, and one evaluation late. */
    c->keep_ms = longest + 5 * 60 * 1000 + slowest;
    alert_state_labels(&cfg->external_labels, &c->external);
    c->env = (pq_template_env){&c->external, cfg->external_url, NULL};
    c->due = sluice_calloc(c->rules.n, sizeof *c->due);
    c->to = cfg->emit_to ? sluice_pipeline_route(ins, "emit_to", cfg->emit_to)
                         : sluice_input_emitter(ins);
    if (!c->to)
        return SLUICE_ERROR;
    if (cfg->keep_state) {
        char *dir = sluice_storage_dir(ins, "alert");
        if (!dir)
            return SLUICE_ERROR;
        c->state_path = sluice_asprintf("%s/%s.state", dir, sluice_instance_id(ins));
        free(dir);
        int restored = alert_state_load(&c->rules, c->state_path);
        if (restored > 0)
            sluice_info(ins, "restored %d alerts from %s", restored, c->state_path);
        /* Restored alerts wait for the samples their ranges need. */
        int64_t now = sluice_time_now() / SLUICE_NSEC_PER_MSEC;
        for (size_t g = 0; g < c->rules.n; g++)
            for (size_t r = 0; r < c->rules.groups[g].n_rules; r++) {
                pq_rule *ru = &c->rules.groups[g].rules[r];
                int64_t every = c->rules.groups[g].interval_ms ? c->rules.groups[g].interval_ms
                                                               : slowest;
                ru->restore_until = now + pq_lookback_ms(ru->expr) + 2 * every;
            }
    }
    int64_t tick = cfg->interval;
    for (size_t g = 0; g < c->rules.n; g++)
        if (c->rules.groups[g].interval_ms &&
            c->rules.groups[g].interval_ms * SLUICE_NSEC_PER_MSEC < tick)
            tick = c->rules.groups[g].interval_ms * SLUICE_NSEC_PER_MSEC;
    sluice_collector_add(ins, tick, collect, c);
    sluice_info(ins, "%zu rules in %zu groups, evaluated every %lldms (groups without an "
                     "interval of their own)",
                n_rules, c->rules.n, (long long)(cfg->interval / SLUICE_NSEC_PER_MSEC));
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "alert",
    .description = "Prometheus alerting and recording rules over metric events; alert events "
                   "out.",
    .options = alert_options,
    .config_size = sizeof(alert_config),
    .accepts = SLUICE_ACCEPTS_METRICS,
    .emits = SLUICE_ACCEPTS_ALL,
    .init = alert_init,
    .exit = alert_exit,
    .filter = alert_filter,
};

/* Grouping for when there is no Alertmanager, with Alertmanager's meaning:
 * events with the same group_by values make one group; a new group is told
 * group_wait after it appears, then at most every group_interval, and only
 * when something changed (an alert fired or resolved, log events came) or,
 * for alerts still firing, after repeat_interval. A flood of error lines is
 * one message with a count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "slack.h"

static int
group_by_all(const slack_grouping *set)
{
    return set->group_by->n == 1 && strcmp(set->group_by->v[0], "...") == 0;
}

/* A field or label value as text. */
static char *
text_of(const msgpack_object *v)
{
    sluice_buf scratch = SLUICE_BUF_INIT;
    size_t n;
    const char *s = sluice_json_text(v, &scratch, &n);
    char *out = sluice_strndup(s, n);
    sluice_buf_free(&scratch);
    return out;
}

static void
lset_from_map(pq_lset *out, const msgpack_object *map)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        char *k = sluice_strndup(kv->key.via.str.ptr, kv->key.via.str.size);
        char *v = text_of(&kv->val);
        lset_set(out, k, v);
        free(k);
        free(v);
    }
}

static void
replace(char **dst, const msgpack_object *v)
{
    free(*dst);
    *dst = v && v->type == MSGPACK_OBJECT_STR ? sluice_strndup(v->via.str.ptr, v->via.str.size)
                                               : NULL;
}

static slack_group *
find_group(const slack_groups *gs, const char *key, int logs)
{
    for (size_t i = 0; i < gs->n; i++)
        if (gs->v[i]->logs == logs && strcmp(gs->v[i]->key, key) == 0)
            return gs->v[i];
    return NULL;
}

slack_group *
slack_group_new(slack_groups *gs, const char *key, int logs, int64_t now)
{
    slack_group *g = sluice_calloc(1, sizeof *g);
    g->key = sluice_strdup(key);
    g->logs = logs;
    g->created = now;
    g->next_flush = now + gs->set->group_wait;
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? 2 * gs->cap : 8;
        gs->v = sluice_realloc(gs->v, gs->cap * sizeof *gs->v);
    }
    gs->v[gs->n++] = g;
    return g;
}

slack_alert *
slack_group_alert(slack_groups *gs, slack_group *g, const pq_lset *labels)
{
    if (g->n_alerts == g->cap_alerts) {
        g->cap_alerts = g->cap_alerts ? 2 * g->cap_alerts : 4;
        g->alerts = sluice_realloc(g->alerts, g->cap_alerts * sizeof *g->alerts);
    }
    slack_alert *a = &g->alerts[g->n_alerts++];
    memset(a, 0, sizeof *a);
    a->labels = lset_copy(labels);
    gs->n_alerts++;
    return a;
}

static void
alert_free(slack_alert *a)
{
    pq_lset_free(&a->labels);
    pq_lset_free(&a->annotations);
    free(a->starts_at);
    free(a->ends_at);
    free(a->url);
}

static void
group_free(slack_group *g)
{
    for (size_t i = 0; i < g->n_alerts; i++)
        alert_free(&g->alerts[i]);
    for (size_t i = 0; i < g->n_samples; i++)
        free(g->samples[i]);
    free(g->alerts);
    pq_lset_free(&g->labels);
    free(g->key);
    free(g->thread_ts);
    free(g->channel_id);
    free(g);
}

static int
too_many_groups(const slack_groups *gs, char *why, size_t whylen)
{
    if (gs->n < gs->set->max_groups)
        return 0;
    snprintf(why, whylen, "slack: %zu groups are waiting already (max_groups); group by fewer "
                          "labels or raise max_groups", gs->n);
    return 1;
}

static int
absorb_alert(slack_groups *gs, const msgpack_object *body, const msgpack_object *labels,
             int firing, int64_t now, char *why, size_t whylen)
{
    pq_lset ls = {0}, gl = {0};
    lset_from_map(&ls, labels);
    if (group_by_all(gs->set)) {
        gl = lset_copy(&ls);
    } else {
        for (size_t i = 0; i < gs->set->group_by->n; i++) {
            const char *v = pq_lset_get(&ls, gs->set->group_by->v[i]);
            if (v)
                lset_set(&gl, gs->set->group_by->v[i], v);
        }
    }
    char *key = pq_lset_string(&gl);
    slack_group *g = find_group(gs, key, 0);
    slack_alert *a = NULL;
    for (size_t i = 0; g && i < g->n_alerts && !a; i++)
        if (lset_equal(&g->alerts[i].labels, &ls))
            a = &g->alerts[i];
    int rc = 0;
    if (!a && !firing) {
        /* Resolved and never seen, or told and forgotten already: the
         * alert filter re-sends resolved alerts for 15 minutes. */
    } else if (!g && too_many_groups(gs, why, whylen)) {
        rc = -1;
    } else if (!a && gs->n_alerts >= gs->set->max_alerts) {
        snprintf(why, whylen, "slack: %zu alerts are waiting already (max_alerts)", gs->n_alerts);
        rc = -1;
    } else {
        if (!g) {
            g = slack_group_new(gs, key, 0, now);
            g->labels = gl;
            gl = (pq_lset){0};
        }
        if (!a)
            a = slack_group_alert(gs, g, &ls);
        a->firing = firing;
        pq_lset_free(&a->annotations);
        const msgpack_object *ann = sluice_record_get(body, "annotations");
        if (ann && ann->type == MSGPACK_OBJECT_MAP)
            lset_from_map(&a->annotations, ann);
        replace(&a->starts_at, sluice_record_get(body, "startsAt"));
        replace(&a->ends_at, sluice_record_get(body, "endsAt"));
        a->ends_ms = slack_ends_ms(a->ends_at);
        replace(&a->url, sluice_record_get(body, "generatorURL"));
        const msgpack_object *v = sluice_record_get(body, "value");
        if (v && v->type == MSGPACK_OBJECT_FLOAT64)
            a->value = v->via.f64;
        else if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            a->value = (double)v->via.u64;
        else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            a->value = (double)v->via.i64;
    }
    free(key);
    pq_lset_free(&ls);
    pq_lset_free(&gl);
    return rc;
}

/* A log level's rank: 2 errors and worse, 1 warnings, 0 the rest. */
static int
level_rank(const msgpack_object *body)
{
    const msgpack_object *v = sluice_record_get(body, "level");
    if (!v)
        v = sluice_record_get(body, "severity");
    if (!v || v->type != MSGPACK_OBJECT_STR || !v->via.str.size)
        return 0;
    char c = (char)(v->via.str.ptr[0] | 0x20);
    if (c == 'e' || c == 'f' || c == 'c' || c == 'a') /* error, fatal, crit, alert, emerg */
        return 2;
    return c == 'w' ? 1 : 0;
}

/* What a message quotes of a log event: its message field, or all of it. */
static char *
sample_of(const slack_grouping *set, const msgpack_object *body)
{
    const msgpack_object *m = sluice_record_get(body, set->message_key);
    sluice_buf b = SLUICE_BUF_INIT;
    if (m && m->type == MSGPACK_OBJECT_STR)
        sluice_buf_append(&b, m->via.str.ptr, m->via.str.size);
    else
        sluice_json_value(&b, body);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

static int
absorb_log(slack_groups *gs, const msgpack_object *body, int64_t now, char *why, size_t whylen)
{
    pq_lset gl = {0};
    for (size_t i = 0; i < gs->set->group_by->n && !group_by_all(gs->set); i++) {
        const msgpack_object *v = sluice_record_get(body, gs->set->group_by->v[i]);
        if (!v)
            continue;
        char *t = text_of(v);
        lset_set(&gl, gs->set->group_by->v[i], t);
        free(t);
    }
    char *key = pq_lset_string(&gl);
    slack_group *g = find_group(gs, key, 1);
    int rc = 0;
    if (!g && too_many_groups(gs, why, whylen)) {
        rc = -1;
    } else {
        if (!g) {
            g = slack_group_new(gs, key, 1, now);
            g->labels = gl;
            gl = (pq_lset){0};
        }
        g->log_count++;
        if (g->n_samples < g->sending_samples + SLACK_SAMPLES)
            g->samples[g->n_samples++] = sample_of(gs->set, body);
        int rank = level_rank(body);
        if (rank > g->level)
            g->level = rank;
    }
    free(key);
    pq_lset_free(&gl);
    return rc;
}

int
slack_groups_absorb(slack_groups *gs, const msgpack_object *body, int64_t now, char *why,
                    size_t whylen)
{
    if (body->type != MSGPACK_OBJECT_MAP) {
        snprintf(why, whylen, "slack: the event is not a map");
        return -1;
    }
    const msgpack_object *labels = sluice_record_get(body, "labels");
    const msgpack_object *status = sluice_record_get(body, "status");
    if (labels && labels->type == MSGPACK_OBJECT_MAP && status &&
        status->type == MSGPACK_OBJECT_STR) {
        int firing = status->via.str.size == 6 && memcmp(status->via.str.ptr, "firing", 6) == 0;
        return absorb_alert(gs, body, labels, firing, now, why, whylen);
    }
    return absorb_log(gs, body, now, why, whylen);
}

static int
needs_telling(const slack_grouping *set, const slack_group *g, int64_t now)
{
    if (g->logs)
        return g->log_count > 0;
    int any_firing = 0;
    for (size_t i = 0; i < g->n_alerts; i++) {
        const slack_alert *a = &g->alerts[i];
        if (a->firing ? a->told != SLACK_TOLD_FIRING : a->told == SLACK_TOLD_FIRING)
            return 1;
        any_firing |= a->firing;
    }
    return any_firing && g->last_told && now - g->last_told >= set->repeat_interval;
}

static void
snapshot(slack_group *g)
{
    g->sending_count = g->log_count;
    g->sending_samples = g->n_samples;
    for (size_t i = 0; i < g->n_alerts; i++) {
        slack_alert *a = &g->alerts[i];
        a->sending = a->firing                        ? SLACK_SEND_FIRING
                     : a->told == SLACK_TOLD_FIRING ? SLACK_SEND_RESOLVED
                                                    : SLACK_SEND_DROP;
    }
}

/* Forget alerts that are resolved and need no message (any more). */
static void
prune(slack_groups *gs, slack_group *g, int after_send)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n_alerts; i++) {
        slack_alert *a = &g->alerts[i];
        /* After a message, what it said resolved (a firing alert that
         * resolved meanwhile still needs its own). */
        int gone = !a->firing && (after_send ? a->sending == SLACK_SEND_RESOLVED ||
                                                   a->sending == SLACK_SEND_DROP
                                             : a->told != SLACK_TOLD_FIRING);
        if (gone) {
            alert_free(a);
            gs->n_alerts--;
        } else {
            g->alerts[k++] = *a;
        }
    }
    g->n_alerts = k;
}

slack_group *
slack_groups_due(slack_groups *gs, int64_t now)
{
    for (size_t i = 0; i < gs->n; i++) {
        slack_group *g = gs->v[i];
        if (g->in_flight || now < g->next_flush)
            continue;
        g->next_flush = now + gs->set->group_interval;
        /* Alertmanager's reading of endsAt: a firing alert that was not
         * sent again before it (its sender died) has resolved. */
        for (size_t k = 0; k < g->n_alerts; k++)
            if (g->alerts[k].firing && g->alerts[k].ends_ms && g->alerts[k].ends_ms < now)
                g->alerts[k].firing = 0;
        if (needs_telling(gs->set, g, now)) {
            snapshot(g);
            g->in_flight = 1;
            return g;
        }
        prune(gs, g, 0);
        if (!g->n_alerts && !g->log_count) {
            group_free(g);
            gs->v[i--] = gs->v[--gs->n];
        }
    }
    return NULL;
}

void
slack_group_told(slack_groups *gs, slack_group *g, int64_t now, const char *ts,
                 const char *channel)
{
    g->log_count -= g->sending_count;
    g->sending_count = 0;
    for (size_t i = 0; i < g->sending_samples; i++)
        free(g->samples[i]);
    memmove(g->samples, g->samples + g->sending_samples,
            (g->n_samples - g->sending_samples) * sizeof *g->samples);
    g->n_samples -= g->sending_samples;
    g->sending_samples = 0;
    for (size_t i = 0; i < g->n_alerts; i++) {
        slack_alert *a = &g->alerts[i];
        if (a->sending == SLACK_SEND_FIRING)
            a->told = SLACK_TOLD_FIRING;
        else if (a->sending == SLACK_SEND_RESOLVED)
            a->told = SLACK_TOLD_RESOLVED;
    }
    prune(gs, g, 1);
    for (size_t i = 0; i < g->n_alerts; i++)
        g->alerts[i].sending = SLACK_SEND_NONE;
    g->last_told = now;
    if (ts && !g->thread_ts) {
        g->thread_ts = sluice_strdup(ts);
        free(g->channel_id);
        g->channel_id = channel ? sluice_strdup(channel) : NULL;
    }
    g->in_flight = 0;
}

int64_t
slack_ends_ms(const char *ends_at)
{
    sluice_time_t t;
    char err[64];
    if (!ends_at || sluice_time_parse("%Y-%m-%dT%H:%M:%S%z", ends_at, strlen(ends_at), 0, 0, &t,
                                      err, sizeof err) != 0)
        return 0;
    return t / SLUICE_NSEC_PER_MSEC;
}

void
slack_groups_free(slack_groups *gs)
{
    for (size_t i = 0; i < gs->n; i++)
        group_free(gs->v[i]);
    free(gs->v);
    gs->v = NULL;
    gs->n = gs->cap = gs->n_alerts = 0;
}

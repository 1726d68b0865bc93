/* out_slack: alert events and log events to a Slack channel, grouped as
 * Alertmanager groups them, within Slack's limits.
 *
 * Two ways in: an incoming webhook (`webhook_url`), or the Web API (`token`
 * and `channel`), where chat.postMessage answers 200 with {"ok": false,
 * "error": ...} when it refuses, a group's later messages go into the
 * thread of its first (a resolved alert under its firing message), and
 * with `update_firing` the first message is edited to the latest state.
 *
 * A flush only takes events into their groups (slack_group.c), saved under
 * storage.path; one worker's timer tells the groups that are due, in
 * order, at most `rate` messages a second with a `burst` (Slack allows
 * about one per second per channel), and waits Retry-After on a 429.
 * 5xx, no answer and Slack's transient errors are retried with backoff;
 * permanent errors (invalid_payload, channel_not_found, invalid_auth...)
 * make the message a dead letter with Slack's error string. The webhook URL
 * and the token are secrets: they are never logged nor echoed in errors. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_batch.h>

#include "slack.h"

#define TICK_MS 100
#define MAX_BACKOFF_MS 60000

typedef struct slack_config {
    char *webhook_url, *token, *channel, *api_url;
    sluice_strlist group_by;
    int64_t group_wait, group_interval, repeat_interval;
    int64_t max_groups, max_alerts;
    double rate;
    int64_t burst;
    int update_firing;
    char *title, *text, *message_key;
    sluice_http_client_config client;
} slack_config;

/* A URL that is a secret: judged like any URL, never echoed. */
static int
check_secret_url(const void *value, char *err, size_t errlen)
{
    if (sluice_http_check_url(value, err, errlen) == 0)
        return 0;
    snprintf(err, errlen, "expected an http:// or https:// URL with a host (the value is a secret "
                          "and is not shown)");
    return -1;
}

static int
check_template(const void *value, char *err, size_t errlen)
{
    return pq_template_check(*(char *const *)value, 1, err, errlen);
}

static const sluice_option slack_options[] = {
    {.name = "webhook_url", .type = SLUICE_OPT_STR, .check = check_secret_url,
     .offset = offsetof(slack_config, webhook_url),
     .help = "An incoming webhook's URL; a secret: write ${SLACK_WEBHOOK_URL}. Or use token."},
    {.name = "token", .type = SLUICE_OPT_STR, .offset = offsetof(slack_config, token),
     .help = "A bot token (xoxb-...) for the Web API, with channel; a secret: write "
             "${SLACK_TOKEN}."},
    {.name = "channel", .type = SLUICE_OPT_STR, .offset = offsetof(slack_config, channel),
     .help = "Web API: the channel to post in (#name or ID)."},
    {.name = "api_url", .type = SLUICE_OPT_STR, .def = "https://slack.com/api",
     .check = sluice_http_check_url, .offset = offsetof(slack_config, api_url),
     .help = "Web API: where chat.postMessage and chat.update are."},
    {.name = "group_by", .type = SLUICE_OPT_STR_LIST, .def = "[alertname]",
     .offset = offsetof(slack_config, group_by),
     .help = "Labels (alerts) or fields (log events) whose values make a group; [\"...\"]: "
             "every label; []: one group."},
    {.name = "group_wait", .type = SLUICE_OPT_DURATION, .def = "30s", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 86400 * SLUICE_NSEC_PER_SEC, .offset = offsetof(slack_config, group_wait),
     .help = "How long a new group waits for more before its first message."},
    {.name = "group_interval", .type = SLUICE_OPT_DURATION, .def = "5m",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC * TICK_MS,
     .max = 86400 * SLUICE_NSEC_PER_SEC, .offset = offsetof(slack_config, group_interval),
     .help = "The least time between two messages about a group that changed."},
    {.name = "repeat_interval", .type = SLUICE_OPT_DURATION, .def = "4h",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC, .max = 30 * 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(slack_config, repeat_interval),
     .help = "When to tell again about alerts still firing, unchanged."},
    {.name = "update_firing", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(slack_config, update_firing),
     .help = "Web API: also edit a group's first message to its latest state."},
    {.name = "rate", .type = SLUICE_OPT_DOUBLE, .def = "1", .flags = SLUICE_OPT_RANGE, .min = 0,
     .max = 100, .offset = offsetof(slack_config, rate),
     .help = "Messages a second to the channel (Slack allows about 1)."},
    {.name = "burst", .type = SLUICE_OPT_INT, .def = "1", .flags = SLUICE_OPT_RANGE, .min = 1,
     .max = 100, .offset = offsetof(slack_config, burst),
     .help = "Messages that may go at once after a quiet while."},
    {.name = "max_groups", .type = SLUICE_OPT_INT, .def = "1000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 1000000, .offset = offsetof(slack_config, max_groups),
     .help = "Groups kept at once; events of more are dead letters."},
    {.name = "max_alerts", .type = SLUICE_OPT_INT, .def = "10000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 10000000, .offset = offsetof(slack_config, max_alerts),
     .help = "Alerts kept at once over all groups."},
    {.name = "title", .type = SLUICE_OPT_STR, .check = check_template,
     .offset = offsetof(slack_config, title),
     .help = "Template of a message's first line ($labels: the group's; $value: alerts firing or "
             "log events); default [FIRING:n] alertname labels."},
    {.name = "text", .type = SLUICE_OPT_STR, .check = check_template,
     .offset = offsetof(slack_config, text),
     .help = "Template of each alert's section ($labels, $value, $annotations), or of a log "
             "group's ($labels, $value: events)."},
    {.name = "message_key", .type = SLUICE_OPT_STR, .def = "message",
     .offset = offsetof(slack_config, message_key),
     .help = "The field quoted for a log event; without it, the whole event."},
    SLUICE_HTTP_CLIENT_OPTIONS(slack_config, client),
    {.name = "tls", .type = SLUICE_OPT_SECTION, .help = "TLS settings.",
     .sub = (const sluice_option[]){SLUICE_HTTP_TLS_OPTIONS(slack_config, client.tls),
                                    SLUICE_OPTIONS_END}},
    SLUICE_OPTIONS_END,
};

typedef struct slack_worker slack_worker;

typedef struct slack_ctx {
    sluice_instance *ins;
    const slack_config *cfg;
    slack_grouping grouping;
    pthread_mutex_t lock; /* the groups: flushes take events in on any worker */
    slack_groups groups;
    int dirty; /* the groups changed since the last save */
    char *state_path;
    pq_template_env env;
    slack_layout layout;
    char *post_url, *update_url;
    char *auth; /* "Authorization: Bearer ..." */
    const char *headers[3];
    slack_worker *owner; /* the worker that tells the groups */
} slack_ctx;

/* The owner worker's delivery: a queue of groups due, one request at a
 * time so that a thread's first message has its ts before the replies. */
struct slack_worker {
    slack_ctx *c;
    uv_timer_t tick;
    sluice_http *http;
    slack_group **queue;
    size_t n_queue, cap_queue;
    int updating; /* the head's reply is delivered; editing its first message */
    int busy, closing;
    sluice_buf body;
    double tokens;
    int64_t refilled_at, blocked_until; /* ms */
    unsigned failures; /* transient failures of the head in a row */
};

static int64_t
now_ms(void)
{
    return sluice_time_now() / SLUICE_NSEC_PER_MSEC;
}

static int
web_api(const slack_ctx *c)
{
    return c->cfg->token != NULL;
}

static void
save_locked(slack_ctx *c)
{
    if (!c->dirty || !c->state_path)
        return;
    if (slack_state_save(&c->groups, c->state_path) != 0)
        sluice_error(c->ins, "cannot save the groups to %s: %s; a restart would tell them again "
                             "or forget them", c->state_path, strerror(errno));
    c->dirty = 0;
}

/* ==== Flushes: events into groups ==== */

static void
slack_flush(void *ctx, sluice_flush *fl)
{
    slack_ctx *c = ctx;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_event_iter it;
    sluice_event ev;
    char why[256];
    int64_t now = now_ms();
    sluice_event_iter_init(&it, data, len);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; sluice_event_next(&it, &ev) == 1; i++)
        if (slack_groups_absorb(&c->groups, &ev.body, now, why, sizeof why) != 0)
            sluice_flush_event_failed(fl, i, why);
    c->dirty = 1;
    save_locked(c);
    pthread_mutex_unlock(&c->lock);
    sluice_event_iter_destroy(&it);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

/* ==== Delivery ==== */

static void pump(slack_worker *w, int64_t now);

static void
queue_pop(slack_worker *w)
{
    memmove(w->queue, w->queue + 1, (w->n_queue - 1) * sizeof *w->queue);
    w->n_queue--;
    w->updating = 0;
    w->failures = 0;
}

/* The head is done with: told, and off the queue. */
static void
head_told(slack_worker *w, const char *ts, const char *channel)
{
    slack_ctx *c = w->c;
    slack_group *g = w->queue[0];
    pthread_mutex_lock(&c->lock);
    slack_group_told(&c->groups, g, now_ms(), g->logs ? NULL : ts, channel);
    c->dirty = 1;
    save_locked(c);
    pthread_mutex_unlock(&c->lock);
    queue_pop(w);
}

static void
delivered(slack_worker *w, const char *ts, const char *channel)
{
    slack_group *g = w->queue[0];
    if (!w->updating && w->c->cfg->update_firing && web_api(w->c) && !g->logs && g->thread_ts) {
        w->updating = 1; /* a reply: now edit the thread's first message */
        return;
    }
    head_told(w, ts, channel);
}

/* A message Slack refused for good: a dead letter with Slack's error. */
static void
refused(slack_worker *w, const char *error)
{
    slack_ctx *c = w->c;
    slack_group *g = w->queue[0];
    if (w->updating) {
        sluice_warn(c->ins, "could not edit the first message of group %s: %s", g->key, error);
        head_told(w, NULL, NULL);
        return;
    }
    sluice_error(c->ins, "Slack refused the message about group %s for good: %s; it goes to the "
                         "dead letters", g->key, error);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    sluice_pack_cstr(&pk, "group");
    sluice_pack_cstr(&pk, g->key);
    sluice_pack_cstr(&pk, "message");
    char err[64];
    if (sluice_json_to_msgpack(w->body.data, w->body.len, &pk, err, sizeof err) != 0)
        msgpack_pack_str_with_body(&pk, w->body.data, w->body.len);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        sluice_event ev = {sluice_time_now(), up.data, sb.data, sb.size};
        sluice_dead_letter(c->ins, &ev, error);
    }
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    head_told(w, NULL, NULL);
}

static void
retry_later(slack_worker *w, int64_t delay_ms, const char *why)
{
    w->failures++;
    if (!delay_ms) {
        delay_ms = 1000;
        for (unsigned i = 1; i < w->failures && delay_ms < MAX_BACKOFF_MS; i++)
            delay_ms *= 2;
        if (delay_ms > MAX_BACKOFF_MS)
            delay_ms = MAX_BACKOFF_MS;
    }
    w->blocked_until = now_ms() + delay_ms;
    sluice_warn(w->c->ins, "Slack: %s; trying the message about group %s again in %lld ms", why,
                w->queue[0]->key, (long long)delay_ms);
}

/* Slack's error strings that pass: everything else is permanent. */
static int
transient_error(const char *e)
{
    static const char *const transient[] = {"internal_error", "fatal_error",
                                            "service_unavailable", "request_timeout",
                                            "ratelimited", "rate_limited", NULL};
    for (size_t i = 0; transient[i]; i++)
        if (strcmp(e, transient[i]) == 0)
            return 1;
    return 0;
}

static char *
member_text(const msgpack_object *o, const char *k)
{
    const msgpack_object *v = sluice_record_get(o, k);
    return v && v->type == MSGPACK_OBJECT_STR ? sluice_strndup(v->via.str.ptr, v->via.str.size)
                                              : NULL;
}

/* Web API: 200 with {"ok": true, "ts", "channel"} or {"ok": false, "error"}. */
static void
api_answer(slack_worker *w, const sluice_http_response *r)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[64];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int parsed = sluice_json_to_msgpack(r->body, r->body_len, &pk, err, sizeof err) == 0 &&
                 msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS;
    const msgpack_object *ok = parsed ? sluice_record_get(&up.data, "ok") : NULL;
    if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN) {
        retry_later(w, 0, "an answer that is not Slack's JSON");
    } else if (ok->via.boolean) {
        char *ts = member_text(&up.data, "ts"), *channel = member_text(&up.data, "channel");
        delivered(w, ts, channel);
        free(ts);
        free(channel);
    } else {
        char *e = member_text(&up.data, "error");
        const char *error = e ? e : "ok: false without an error";
        if (transient_error(error))
            retry_later(w, 0, error);
        else
            refused(w, error);
        free(e);
    }
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void
on_answer(void *arg, const sluice_http_response *r)
{
    slack_worker *w = arg;
    w->busy = 0;
    if (w->closing)
        return;
    char why[256];
    sluice_http_describe(why, sizeof why, r);
    if (r->status == 429) {
        int64_t wait = r->retry_after ? r->retry_after / SLUICE_NSEC_PER_MSEC : 1000;
        w->blocked_until = now_ms() + wait;
        sluice_warn(w->c->ins, "Slack rate-limits the channel (429): waiting %lld ms as its "
                               "Retry-After says", (long long)wait);
    } else if (sluice_http_classify(r) == SLUICE_RETRY) {
        retry_later(w, 0, why);
    } else if (r->status / 100 != 2) {
        /* Webhooks say why in a plain body: invalid_payload, no_service... */
        char error[128];
        size_t n = r->body_len < sizeof error - 1 ? r->body_len : sizeof error - 1;
        memcpy(error, r->body ? r->body : "", n);
        error[n] = '\0';
        while (n && (error[n - 1] == '\n' || error[n - 1] == '\r'))
            error[--n] = '\0';
        char reason[192];
        snprintf(reason, sizeof reason, "HTTP %ld %s", r->status, n ? error : "(no body)");
        refused(w, reason);
    } else if (web_api(w->c)) {
        api_answer(w, r);
    } else {
        delivered(w, NULL, NULL);
    }
    pump(w, now_ms());
}

static int
take_token(slack_worker *w, int64_t now)
{
    const slack_config *cfg = w->c->cfg;
    if (cfg->rate <= 0)
        return 1;
    w->tokens += (double)(now - w->refilled_at) * cfg->rate / 1000.0;
    if (w->tokens > (double)cfg->burst)
        w->tokens = (double)cfg->burst;
    w->refilled_at = now;
    if (w->tokens < 1)
        return 0;
    w->tokens -= 1;
    return 1;
}

static void
pump(slack_worker *w, int64_t now)
{
    slack_ctx *c = w->c;
    if (w->busy || w->closing || !w->n_queue || now < w->blocked_until || !take_token(w, now))
        return;
    slack_group *g = w->queue[0];
    w->body.len = 0;
    pthread_mutex_lock(&c->lock);
    const char *thread = web_api(c) && !g->logs ? g->thread_ts : NULL;
    slack_render(&w->body, g, &c->layout, w->updating ? NULL : thread,
                 w->updating ? g->thread_ts : NULL);
    pthread_mutex_unlock(&c->lock);
    sluice_http_request req = {
        .url = !web_api(c) ? c->cfg->webhook_url : w->updating ? c->update_url : c->post_url,
        .method = "POST",
        .headers = c->headers,
        .body = w->body.data,
        .body_len = w->body.len,
    };
    sluice_http_request_apply(&req, &c->cfg->client);
    w->busy = 1;
    if (sluice_http_send(w->http, &req, on_answer, w) != 0) {
        w->busy = 0;
        retry_later(w, 0, "the request could not be started");
    }
}

static void
on_tick(uv_timer_t *t)
{
    slack_worker *w = t->data;
    slack_ctx *c = w->c;
    int64_t now = now_ms();
    pthread_mutex_lock(&c->lock);
    slack_group *g;
    while ((g = slack_groups_due(&c->groups, now))) {
        if (w->n_queue == w->cap_queue) {
            w->cap_queue = w->cap_queue ? 2 * w->cap_queue : 16;
            w->queue = sluice_realloc(w->queue, w->cap_queue * sizeof *w->queue);
        }
        w->queue[w->n_queue++] = g;
        c->dirty = 1;
    }
    save_locked(c);
    pthread_mutex_unlock(&c->lock);
    pump(w, now);
}

static int
slack_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    slack_ctx *c = ctx;
    *worker_ctx = NULL;
    pthread_mutex_lock(&c->lock);
    int owner = c->owner == NULL;
    slack_worker *w = NULL;
    if (owner) {
        w = sluice_calloc(1, sizeof *w);
        w->c = c;
        w->tokens = (double)c->cfg->burst;
        w->refilled_at = now_ms();
        c->owner = w;
    }
    pthread_mutex_unlock(&c->lock);
    if (!owner)
        return SLUICE_OK; /* other workers only take events in */
    w->http = sluice_http_new(loop);
    uv_timer_init(loop, &w->tick);
    w->tick.data = w;
    uv_timer_start(&w->tick, on_tick, TICK_MS, TICK_MS);
    *worker_ctx = w;
    return SLUICE_OK;
}

static void
on_tick_closed(uv_handle_t *h)
{
    slack_worker *w = h->data;
    sluice_buf_free(&w->body);
    free(w->queue);
    free(w);
}

static void
slack_worker_exit(void *worker_ctx)
{
    slack_worker *w = worker_ctx;
    if (!w)
        return;
    w->closing = 1;
    sluice_http_free(w->http);
    pthread_mutex_lock(&w->c->lock);
    for (size_t i = 0; i < w->n_queue; i++)
        w->queue[i]->in_flight = 0; /* told after the restart */
    w->c->dirty = 1;
    save_locked(w->c);
    w->c->owner = NULL;
    pthread_mutex_unlock(&w->c->lock);
    uv_close((uv_handle_t *)&w->tick, on_tick_closed);
}

/* ==== The instance ==== */

static int
slack_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const slack_config *cfg = config;
    slack_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    pthread_mutex_init(&c->lock, NULL);
    if (!cfg->webhook_url == !cfg->token) {
        sluice_option_error(ins, NULL, "set webhook_url (an incoming webhook) or token and channel "
                                       "(the Web API), one of the two");
        return SLUICE_ERROR;
    }
    if (cfg->token && !cfg->channel) {
        sluice_option_error(ins, "token", "the Web API needs a channel to post in");
        return SLUICE_ERROR;
    }
    c->grouping = (slack_grouping){
        .group_by = &cfg->group_by,
        .group_wait = cfg->group_wait / SLUICE_NSEC_PER_MSEC,
        .group_interval = cfg->group_interval / SLUICE_NSEC_PER_MSEC,
        .repeat_interval = cfg->repeat_interval / SLUICE_NSEC_PER_MSEC,
        .max_groups = (size_t)cfg->max_groups,
        .max_alerts = (size_t)cfg->max_alerts,
        .message_key = cfg->message_key,
    };
    c->groups.set = &c->grouping;
    c->layout = (slack_layout){cfg->title, cfg->text, &c->env, cfg->token ? cfg->channel : NULL};
    sluice_buf u = SLUICE_BUF_INIT;
    sluice_buf_url_base(&u, cfg->api_url);
    sluice_buf_printf(&u, "/chat.postMessage");
    c->post_url = u.data;
    u = (sluice_buf)SLUICE_BUF_INIT;
    sluice_buf_url_base(&u, cfg->api_url);
    sluice_buf_printf(&u, "/chat.update");
    c->update_url = u.data;
    c->headers[0] = "Content-Type: application/json; charset=utf-8";
    if (cfg->token) {
        c->auth = sluice_asprintf("Authorization: Bearer %s", cfg->token);
        c->headers[1] = c->auth;
    }
    char *dir = sluice_storage_dir(ins, "slack");
    if (!dir)
        return SLUICE_ERROR;
    c->state_path = sluice_asprintf("%s/%s.state", dir, sluice_instance_id(ins));
    free(dir);
    char why[256];
    int n = slack_state_load(&c->groups, c->state_path, why, sizeof why);
    if (n < 0)
        sluice_error(ins, "%s; starting without the saved groups", why);
    else if (n > 0)
        sluice_info(ins, "restored %d groups waiting to be told", n);
    return SLUICE_OK;
}

static void
slack_exit(void *ctx)
{
    slack_ctx *c = ctx;
    slack_groups_free(&c->groups);
    pthread_mutex_destroy(&c->lock);
    free(c->state_path);
    free(c->post_url);
    free(c->update_url);
    free(c->auth);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "slack",
    .description = "Tell a Slack channel about alerts and log events, grouped, within Slack's "
                   "limits (incoming webhook or Web API).",
    .options = slack_options,
    .config_size = sizeof(slack_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = slack_init,
    .exit = slack_exit,
    .flush = slack_flush,
    .worker_init = slack_worker_init,
    .worker_exit = slack_worker_exit,
};

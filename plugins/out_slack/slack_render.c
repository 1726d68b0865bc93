/* The message about a group: a `text` fallback (what notifications and
 * screen readers show) and Block Kit blocks inside one attachment, whose
 * colour says the status and severity. The default layout reads
 *
 *     [FIRING:2] HighErrorRate service=api
 *     :red_circle: *API errors above 10 in 5m*  value 42 · since ...
 *
 * for alerts, and "[LOGS:5000] service=api" with the first lines quoted for
 * log events. Slack's limits hold for whatever the events carry: a
 * section's text is cut at SLACK_MAX_SECTION, alerts past what SLACK_MAX_BLOCKS
 * allows are counted in a last section, and the fallback is cut at
 * SLACK_MAX_TEXT, each cut with a visible marker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack.h"

#define MARKER " …[truncated]"

typedef struct message {
    sluice_buf blocks; /* the blocks' JSON, comma-separated */
    size_t n_blocks;
    size_t text; /* characters of text in the blocks so far */
} message;

/* Cut `b` to at most `max` bytes, on a UTF-8 boundary, ending with MARKER. */
static void
cut(sluice_buf *b, size_t max)
{
    if (b->len <= max)
        return;
    size_t n = max - strlen(MARKER);
    while (n > 0 && ((unsigned char)b->data[n] & 0xC0) == 0x80)
        n--;
    b->len = n;
    sluice_buf_append(b, MARKER, strlen(MARKER));
}

static void
put(sluice_buf *b, const char *s)
{
    sluice_buf_append(b, s, strlen(s));
}

/* Slack's mrkdwn escapes exactly these three. */
static void
escape(sluice_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            sluice_buf_append(b, "&amp;", 5);
        else if (*s == '<')
            sluice_buf_append(b, "&lt;", 4);
        else if (*s == '>')
            sluice_buf_append(b, "&gt;", 4);
        else
            sluice_buf_putc(b, *s);
    }
}

static void
add_section(message *m, sluice_buf *text)
{
    cut(text, SLACK_MAX_SECTION);
    if (m->n_blocks++)
        sluice_buf_putc(&m->blocks, ',');
    put(&m->blocks, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    sluice_json_string(&m->blocks, text->data ? text->data : "", text->len);
    sluice_buf_append(&m->blocks, "}}", 2);
    m->text += text->len;
    text->len = 0;
}

static const char *
alert_name(const slack_group *g)
{
    const char *name = pq_lset_get(&g->labels, "alertname");
    for (size_t i = 0; !name && i < g->n_alerts; i++)
        if (g->alerts[i].sending == SLACK_SEND_FIRING || g->alerts[i].sending == SLACK_SEND_RESOLVED)
            name = pq_lset_get(&g->alerts[i].labels, "alertname");
    return name ? name : "";
}

static void
counts(const slack_group *g, size_t *firing, size_t *resolved)
{
    *firing = *resolved = 0;
    for (size_t i = 0; i < g->n_alerts; i++) {
        *firing += g->alerts[i].sending == SLACK_SEND_FIRING;
        *resolved += g->alerts[i].sending == SLACK_SEND_RESOLVED;
    }
}

/* The group's labels but alertname as " k=v k=v". */
static void
group_labels(sluice_buf *b, const slack_group *g)
{
    for (size_t i = 0; i < g->labels.n; i++) {
        if (strcmp(g->labels.kv[2 * i], "alertname") == 0)
            continue;
        sluice_buf_printf(b, " %s=%s", g->labels.kv[2 * i], g->labels.kv[2 * i + 1]);
    }
}

static void
title(sluice_buf *b, const slack_group *g, const slack_layout *lay)
{
    size_t firing, resolved;
    counts(g, &firing, &resolved);
    if (lay->title) {
        char *t = pq_template_render(lay->title, &g->labels,
                                     g->logs ? (double)g->sending_count : (double)firing,
                                     lay->env);
        sluice_buf_append(b, t, strlen(t));
        free(t);
        return;
    }
    if (g->logs)
        sluice_buf_printf(b, "[LOGS:%llu]", (unsigned long long)g->sending_count);
    else if (firing)
        sluice_buf_printf(b, "[FIRING:%zu] %s", firing, alert_name(g));
    else
        sluice_buf_printf(b, "[RESOLVED] %s", alert_name(g));
    group_labels(b, g);
}

static const char *
colour(const slack_group *g)
{
    static const char red[] = "#E01E5A", yellow[] = "#ECB22E", blue[] = "#36C5F0",
                      green[] = "#2EB67D", grey[] = "#9E9E9E";
    if (g->logs)
        return g->level == 2 ? red : g->level == 1 ? yellow : grey;
    for (size_t i = 0; i < g->n_alerts; i++) {
        if (g->alerts[i].sending != SLACK_SEND_FIRING)
            continue;
        const char *sev = pq_lset_get(&g->alerts[i].labels, "severity");
        if (sev && (strcmp(sev, "warning") == 0 || strcmp(sev, "warn") == 0))
            return yellow;
        if (sev && (strcmp(sev, "info") == 0 || strcmp(sev, "none") == 0))
            return blue;
        return red;
    }
    return green;
}

/* One alert, by the `text` template or the default layout. */
static void
alert_text(sluice_buf *b, const slack_alert *a, const slack_group *g, const slack_layout *lay)
{
    if (lay->text) {
        pq_template_env env = *lay->env;
        env.annotations = &a->annotations;
        char *t = pq_template_render(lay->text, &a->labels, a->value, &env);
        sluice_buf_append(b, t, strlen(t));
        free(t);
        return;
    }
    const char *summary = pq_lset_get(&a->annotations, "summary");
    const char *name = pq_lset_get(&a->labels, "alertname");
    int firing = a->sending == SLACK_SEND_FIRING;
    put(b, firing ? ":red_circle: *" : ":white_check_mark: *");
    escape(b, summary ? summary : name ? name : "alert");
    put(b, firing ? "*" : "* resolved");
    const char *desc = pq_lset_get(&a->annotations, "description");
    if (desc) {
        sluice_buf_putc(b, '\n');
        escape(b, desc);
    }
    char value[64];
    pq_format_float(a->value, value, sizeof value);
    sluice_buf_printf(b, "\nvalue %s", value);
    if (a->starts_at)
        sluice_buf_printf(b, " · since %s", a->starts_at);
    if (a->url && strncmp(a->url, "http", 4) == 0) {
        put(b, " · <");
        escape(b, a->url);
        put(b, "|source>");
    }
    int first = 1;
    for (size_t i = 0; i < a->labels.n; i++) {
        const char *k = a->labels.kv[2 * i];
        if (strcmp(k, "alertname") == 0 || pq_lset_get(&g->labels, k))
            continue;
        put(b, first ? "\n`" : " `");
        escape(b, k);
        sluice_buf_putc(b, '=');
        escape(b, a->labels.kv[2 * i + 1]);
        sluice_buf_putc(b, '`');
        first = 0;
    }
}

static void
alert_blocks(message *m, sluice_buf *fallback, const slack_group *g, const slack_layout *lay)
{
    sluice_buf t = SLUICE_BUF_INIT;
    size_t shown = 0, total = 0;
    for (int pass = SLACK_SEND_FIRING; pass <= SLACK_SEND_RESOLVED; pass++)
        for (size_t i = 0; i < g->n_alerts; i++) {
            const slack_alert *a = &g->alerts[i];
            if (a->sending != pass)
                continue;
            total++;
            /* Keep a block for the count of what does not fit. */
            if (m->n_blocks >= SLACK_MAX_BLOCKS - 1 || m->text >= SLACK_MAX_TEXT - SLACK_MAX_SECTION)
                continue;
            alert_text(&t, a, g, lay);
            sluice_buf_append(fallback, "\n", 1);
            sluice_buf_append(fallback, t.data, t.len);
            add_section(m, &t);
            shown++;
        }
    if (shown < total) {
        sluice_buf_printf(&t, "…and %zu more alerts not shown (Slack allows %d blocks a message)",
                          total - shown, SLACK_MAX_BLOCKS);
        sluice_buf_printf(fallback, "\n…and %zu more alerts", total - shown);
        add_section(m, &t);
    }
    sluice_buf_free(&t);
}

static void
log_blocks(message *m, sluice_buf *fallback, const slack_group *g, const slack_layout *lay)
{
    sluice_buf t = SLUICE_BUF_INIT;
    if (lay->text) {
        char *s = pq_template_render(lay->text, &g->labels, (double)g->sending_count, lay->env);
        sluice_buf_append(&t, s, strlen(s));
        free(s);
    } else {
        sluice_buf_printf(&t, "*%llu event%s*", (unsigned long long)g->sending_count,
                          g->sending_count == 1 ? "" : "s");
        if (g->sending_samples)
            sluice_buf_append(&t, "\n```", 4);
        for (size_t i = 0; i < g->sending_samples; i++) {
            sluice_buf_putc(&t, '\n');
            /* A line of its own, at most a fifth of the section. */
            sluice_buf line = SLUICE_BUF_INIT;
            escape(&line, g->samples[i]);
            cut(&line, SLACK_MAX_SECTION / (SLACK_SAMPLES + 1));
            sluice_buf_append(&t, line.data, line.len);
            sluice_buf_free(&line);
        }
        if (g->sending_samples)
            sluice_buf_append(&t, "\n```", 4);
        if (g->sending_count > g->sending_samples)
            sluice_buf_printf(&t, "\n…and %llu more",
                              (unsigned long long)(g->sending_count - g->sending_samples));
    }
    sluice_buf_putc(fallback, '\n');
    sluice_buf_append(fallback, t.data, t.len);
    add_section(m, &t);
    sluice_buf_free(&t);
}

void
slack_render(sluice_buf *out, const slack_group *g, const slack_layout *lay,
             const char *thread_ts, const char *update_ts)
{
    message m = {SLUICE_BUF_INIT, 0, 0};
    sluice_buf head = SLUICE_BUF_INIT, fallback = SLUICE_BUF_INIT;
    title(&head, g, lay);
    sluice_buf_putc(&head, '\0');
    sluice_buf t = SLUICE_BUF_INIT;
    put(&t, "*");
    escape(&t, head.data);
    put(&t, "*");
    add_section(&m, &t);
    sluice_buf_free(&t);
    escape(&fallback, head.data);
    if (g->logs)
        log_blocks(&m, &fallback, g, lay);
    else
        alert_blocks(&m, &fallback, g, lay);
    cut(&fallback, SLACK_MAX_TEXT);

    sluice_buf_append(out, "{", 1);
    const char *channel = update_ts && g->channel_id ? g->channel_id : lay->channel;
    if (channel) {
        sluice_buf_append(out, "\"channel\":", 10);
        sluice_json_string(out, channel, strlen(channel));
        sluice_buf_putc(out, ',');
    }
    if (update_ts || thread_ts) {
        sluice_buf_append(out, update_ts ? "\"ts\":" : "\"thread_ts\":", update_ts ? 5 : 12);
        const char *ts = update_ts ? update_ts : thread_ts;
        sluice_json_string(out, ts, strlen(ts));
        sluice_buf_putc(out, ',');
    }
    sluice_buf_append(out, "\"text\":", 7);
    sluice_json_string(out, fallback.data, fallback.len);
    sluice_buf_printf(out, ",\"unfurl_links\":false,\"attachments\":[{\"color\":\"%s\",\"blocks\":[",
                      colour(g));
    sluice_buf_append(out, m.blocks.data, m.blocks.len);
    sluice_buf_append(out, "]}]}", 4);
    sluice_buf_free(&m.blocks);
    sluice_buf_free(&head);
    sluice_buf_free(&fallback);
}

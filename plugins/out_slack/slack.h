/* The slack output's parts and what they share: groups of alerts and log
 * events waiting to be told (slack_group.c), the Block Kit message made of
 * a group (slack_render.c), the group state kept across restarts
 * (slack_state.c), and delivery to the channel (slack.c). */
#ifndef SLUICE_SLACK_H
#define SLUICE_SLACK_H

#include <sluice/sluice.h>

#include "rules.h"

#define SLACK_SAMPLES 5 /* log lines quoted in a message of a log group */

/* What the last message about an alert said. */
enum { SLACK_TOLD_NONE, SLACK_TOLD_FIRING, SLACK_TOLD_RESOLVED };
/* What the message being sent says about it (slack_group_snapshot). */
enum { SLACK_SEND_NONE, SLACK_SEND_FIRING, SLACK_SEND_RESOLVED, SLACK_SEND_DROP };

typedef struct slack_alert {
    pq_lset labels, annotations; /* labels include alertname */
    char *starts_at, *ends_at, *url;
    double value;
    int64_t ends_ms; /* endsAt (ms), 0: none; a firing alert past it is resolved */
    int firing; /* the latest status received */
    int told;   /* SLACK_TOLD_* */
    int sending; /* SLACK_SEND_*: in the message in flight */
} slack_alert;

typedef struct slack_group {
    char *key;      /* its group_by values, as a label set prints */
    pq_lset labels; /* the group_by labels (alerts) or fields (logs) it has */
    int logs;       /* ordinary log events rather than alerts */

    slack_alert *alerts;
    size_t n_alerts, cap_alerts;

    uint64_t log_count; /* log events not yet told */
    uint64_t sending_count; /* of them, in the message in flight */
    /* The first lines of each message: those in flight, then the next's. */
    char *samples[2 * SLACK_SAMPLES];
    size_t n_samples, sending_samples;
    int level; /* the worst level among them: 0 other, 1 warning, 2 error */

    int64_t created, next_flush, last_told; /* ms; last_told 0: never */
    char *thread_ts; /* Web API: the message that opened its thread */
    char *channel_id; /* where that message is (chat.update needs the id) */
    int in_flight;    /* a message of it is queued or being sent */
} slack_group;

typedef struct slack_grouping {
    const sluice_strlist *group_by; /* "..." alone: every label */
    int64_t group_wait, group_interval, repeat_interval; /* ms */
    size_t max_groups, max_alerts;
    const char *message_key; /* the field quoted for a log event */
} slack_grouping;

typedef struct slack_groups {
    slack_group **v;
    size_t n, cap;
    size_t n_alerts; /* over all groups */
    const slack_grouping *set;
} slack_groups;

/* ==== slack_group.c ==== */

/* Take one event in: an alert event (a `labels` map and a `status`) joins
 * or updates its alert in its group; any other log event is counted in its
 * group. Returns 0, or -1 with why when max_groups or max_alerts is
 * reached (the event is then a dead letter). */
int slack_groups_absorb(slack_groups *gs, const msgpack_object *body, int64_t now, char *why,
                        size_t whylen);
/* The next group to tell now, its message's content fixed
 * (slack_group_snapshot) and the group marked in flight; or NULL. Groups
 * with nothing to tell any more are freed on the way. */
slack_group *slack_groups_due(slack_groups *gs, int64_t now);
/* Its message was delivered (or failed for good: the same, so that it is
 * not sent forever). `ts`/`channel`: Web API's answer for a new thread. */
void slack_group_told(slack_groups *gs, slack_group *g, int64_t now, const char *ts,
                      const char *channel);
/* endsAt as ms since the epoch, 0 if absent or not RFC 3339. */
int64_t slack_ends_ms(const char *ends_at);
slack_group *slack_group_new(slack_groups *gs, const char *key, int logs, int64_t now);
slack_alert *slack_group_alert(slack_groups *gs, slack_group *g, const pq_lset *labels);
void slack_groups_free(slack_groups *gs);

/* ==== slack_render.c ==== */

typedef struct slack_layout {
    const char *title; /* templates; NULL: the default layout */
    const char *text;
    const pq_template_env *env;
    const char *channel; /* Web API: the channel option; NULL: a webhook */
} slack_layout;

/* Slack's limits on one message. */
#define SLACK_MAX_BLOCKS 50
#define SLACK_MAX_SECTION 3000
#define SLACK_MAX_TEXT 40000

/* The JSON body telling what the snapshot of `g` holds: a `text`
 * fallback and Block Kit blocks in an attachment coloured by status and
 * severity, within Slack's limits (what does not fit is cut with a
 * visible marker). `thread_ts`: a reply in that thread; `update_ts`: a
 * chat.update of that message, telling the group's state as a whole. */
void slack_render(sluice_buf *out, const slack_group *g, const slack_layout *lay,
                  const char *thread_ts, const char *update_ts);

/* ==== slack_state.c ==== */

/* Save every group to `path` at once (sluice_write_file). 0 or -1. */
int slack_state_save(const slack_groups *gs, const char *path);
/* Load what a save wrote; a missing file is no state. Returns the number
 * of groups, or -1 with why (the file is then ignored). */
int slack_state_load(slack_groups *gs, const char *path, char *why, size_t whylen);
/* The same from what the file holds. */
int slack_state_parse(slack_groups *gs, const char *data, size_t len, char *why, size_t whylen);

#endif

/* The slack output's logic without a network: grouping with
 * Alertmanager's timing (group_wait, group_interval, repeat_interval, what
 * changed), log groups' counts, the limits of a rendered message, mrkdwn
 * escaping, and the saved state. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/out_slack/slack.h"
#include "sluice/json.h"
#include "testutil.h"

static char *by_service[] = {"service"};
static const sluice_strlist group_by = {1, by_service};
static const slack_grouping grouping = {&group_by, 1000, 5000, 60000, 10, 100, "message"};

static int
absorb(slack_groups *gs, const char *json, int64_t now)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, 0, json);
    char why[256];
    int rc = slack_groups_absorb(gs, &ev.body, now, why, sizeof why);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static const char *
alert_json(const char *status, const char *service, const char *instance)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"alertname\":\"Down\",\"status\":\"%s\",\"labels\":{\"alertname\":\"Down\","
             "\"service\":\"%s\",\"instance\":\"%s\"},\"annotations\":{\"summary\":\"%s <down> & "
             "out\"},\"value\":3}",
             status, service, instance, instance);
    return buf;
}

static char *
render(const slack_group *g, const char *title, const char *text)
{
    pq_template_env env = {NULL, NULL, NULL};
    slack_layout lay = {title, text, &env, "#ops"};
    sluice_buf out = SLUICE_BUF_INIT;
    slack_render(&out, g, &lay, NULL, NULL);
    /* It must be JSON. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[128];
    ck_assert_msg(sluice_json_to_msgpack(out.data, out.len, &pk, err, sizeof err) == 0, "%s", err);
    msgpack_sbuffer_destroy(&sb);
    sluice_buf_putc(&out, '\0');
    return out.data;
}

START_TEST(test_alertmanager_timing)
{
    slack_groups gs = {.set = &grouping};
    ck_assert_int_eq(absorb(&gs, alert_json("firing", "api", "a"), 0), 0);
    ck_assert_int_eq(absorb(&gs, alert_json("firing", "api", "b"), 100), 0);
    ck_assert_int_eq(absorb(&gs, alert_json("firing", "db", "c"), 200), 0);
    ck_assert_uint_eq(gs.n, 2);
    ck_assert_ptr_null(slack_groups_due(&gs, 999)); /* group_wait 1s */
    slack_group *g = slack_groups_due(&gs, 1000);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->key, "{service=\"api\"}");
    ck_assert_ptr_null(slack_groups_due(&gs, 1100)); /* db waits until 1200 */
    char *m = render(g, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m, "\"text\":\"[FIRING:2] Down service=api\\n"));
    ck_assert_ptr_nonnull(strstr(m, "a &lt;down&gt; &amp; out"));
    ck_assert_ptr_nonnull(strstr(m, "`instance=a`"));
    ck_assert_ptr_nonnull(strstr(m, "\"channel\":\"#ops\""));
    free(m);
    slack_group_told(&gs, g, 1000, "111.1", "C1");
    ck_assert_str_eq(g->thread_ts, "111.1");

    /* Unchanged: nothing to say at the next group_interval. */
    ck_assert_ptr_nonnull(slack_groups_due(&gs, 1200)); /* db */
    slack_group_told(&gs, gs.v[1], 1200, "222.2", "C1");
    ck_assert_ptr_null(slack_groups_due(&gs, 6000));
    /* One resolves: told at the next interval, then forgotten. */
    absorb(&gs, alert_json("resolved", "api", "a"), 6500);
    ck_assert_ptr_null(slack_groups_due(&gs, 7000));
    g = slack_groups_due(&gs, 11000);
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->key, "{service=\"api\"}");
    m = render(g, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m, "[FIRING:1] Down service=api"));
    ck_assert_ptr_nonnull(strstr(m, ":white_check_mark: *a &lt;down&gt; &amp; out* resolved"));
    free(m);
    slack_group_told(&gs, g, 11000, NULL, NULL);
    ck_assert_uint_eq(g->n_alerts, 1);
    /* Still firing, unchanged: told again after repeat_interval (60s). */
    ck_assert_ptr_null(slack_groups_due(&gs, 16000));
    slack_group *db = slack_groups_due(&gs, 66000); /* told at 1200 */
    ck_assert_ptr_nonnull(db);
    ck_assert_str_eq(db->key, "{service=\"db\"}");
    slack_group_told(&gs, db, 66000, NULL, NULL);
    ck_assert_ptr_null(slack_groups_due(&gs, 66000)); /* api: told at 11000 */
    ck_assert_ptr_nonnull(g = slack_groups_due(&gs, 71000));
    slack_group_told(&gs, g, 71000, NULL, NULL);
    ck_assert_uint_eq(gs.n_alerts, 2);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_ends_at)
{
    slack_groups gs = {.set = &grouping};
    int64_t ends = slack_ends_ms("2026-12-01T10:04:00.5Z");
    ck_assert_int_eq(ends, INT64_C(1796119440500));
    ck_assert_int_eq(slack_ends_ms("tomorrow"), 0);
    absorb(&gs, "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"service\":\"x\"},"
                "\"endsAt\":\"2026-12-01T10:04:00.5Z\"}",
           ends - 10000);
    slack_group *g = slack_groups_due(&gs, ends - 5000);
    ck_assert_ptr_nonnull(g);
    slack_group_told(&gs, g, ends - 5000, NULL, NULL);
    /* Not sent again before its endsAt: resolved, as Alertmanager has it. */
    g = slack_groups_due(&gs, ends + 1);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->alerts[0].sending, SLACK_SEND_RESOLVED);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_resolved_before_told_and_in_flight)
{
    slack_groups gs = {.set = &grouping};
    absorb(&gs, alert_json("firing", "api", "a"), 0);
    absorb(&gs, alert_json("resolved", "api", "a"), 500);
    /* Fired and resolved within group_wait: nothing to tell, group gone. */
    ck_assert_ptr_null(slack_groups_due(&gs, 1000));
    ck_assert_uint_eq(gs.n, 0);
    ck_assert_uint_eq(gs.n_alerts, 0);
    /* A resolved alert never seen makes no group (resends of old ones). */
    absorb(&gs, alert_json("resolved", "api", "z"), 2000);
    ck_assert_uint_eq(gs.n, 0);

    /* Resolved while its firing message is in flight: told next time. */
    absorb(&gs, alert_json("firing", "api", "a"), 3000);
    slack_group *g = slack_groups_due(&gs, 4000);
    ck_assert_ptr_nonnull(g);
    absorb(&gs, alert_json("resolved", "api", "a"), 4100);
    slack_group_told(&gs, g, 4200, "1.1", "C1");
    ck_assert_uint_eq(g->n_alerts, 1);
    g = slack_groups_due(&gs, 9000);
    ck_assert_ptr_nonnull(g);
    char *m = render(g, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m, "\"text\":\"[RESOLVED] Down service=api"));
    ck_assert_ptr_nonnull(strstr(m, "#2EB67D"));
    free(m);
    slack_group_told(&gs, g, 9000, NULL, NULL);
    ck_assert_uint_eq(g->n_alerts, 0);
    ck_assert_ptr_null(slack_groups_due(&gs, 14000));
    ck_assert_uint_eq(gs.n, 0);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_log_groups)
{
    slack_groups gs = {.set = &grouping};
    for (int i = 0; i < 10000; i++) {
        char line[128];
        snprintf(line, sizeof line, "{\"service\":\"api\",\"level\":\"warn\",\"message\":\"e%d\"}",
                 i);
        ck_assert_int_eq(absorb(&gs, line, i / 10), 0);
    }
    ck_assert_uint_eq(gs.n, 1);
    slack_group *g = slack_groups_due(&gs, 1000);
    ck_assert_ptr_nonnull(g);
    /* Events keep coming while the message is in flight. */
    absorb(&gs, "{\"service\":\"api\",\"message\":\"late\"}", 1001);
    char *m = render(g, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(m, "\"text\":\"[LOGS:10000] service=api"));
    ck_assert_ptr_nonnull(strstr(m, "e0\\ne1\\ne2\\ne3\\ne4\\n```\\n…and 9995 more"));
    ck_assert_ptr_nonnull(strstr(m, "#ECB22E"));
    free(m);
    slack_group_told(&gs, g, 1100, NULL, NULL);
    ck_assert_uint_eq(g->log_count, 1);
    ck_assert_uint_eq(g->n_samples, 1);
    ck_assert_str_eq(g->samples[0], "late");
    /* An event without the message field is quoted whole. */
    absorb(&gs, "{\"service\":\"api\",\"msg\":\"other\"}", 1200);
    ck_assert_str_eq(g->samples[1], "{\"service\":\"api\",\"msg\":\"other\"}");

    /* Bounds: max_groups (10) refuses the 11th group. */
    for (int i = 0; i < 9; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"service\":\"s%d\"}", i);
        ck_assert_int_eq(absorb(&gs, line, 0), 0);
    }
    ck_assert_int_eq(absorb(&gs, "{\"service\":\"one-too-many\"}", 0), -1);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_limits)
{
    slack_groups gs = {.set = &grouping};
    for (int i = 0; i < 80; i++) {
        char line[8192];
        /* Two-byte characters across the 3000-byte cut. */
        char desc[6001];
        for (int k = 0; k < 3000; k++)
            memcpy(desc + 2 * k, "é", 2);
        desc[6000] = '\0';
        snprintf(line, sizeof line,
                 "{\"status\":\"firing\",\"labels\":{\"alertname\":\"X\",\"service\":\"s\","
                 "\"i\":\"%d\"},\"annotations\":{\"description\":\"%s\"}}",
                 i, i == 0 ? desc : "d");
        ck_assert_int_eq(absorb(&gs, line, 0), 0);
    }
    slack_group *g = slack_groups_due(&gs, 1000);
    char *m = render(g, NULL, NULL);
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, 0, m);
    const msgpack_object *att = sluice_record_get(&ev.body, "attachments");
    const msgpack_object *blocks = sluice_record_get(&att->via.array.ptr[0], "blocks");
    ck_assert_uint_eq(blocks->via.array.size, SLACK_MAX_BLOCKS);
    const msgpack_object *first = sluice_record_get(&blocks->via.array.ptr[1], "text.text");
    ck_assert_uint_le(first->via.str.size, SLACK_MAX_SECTION);
    ck_assert_int_eq(memcmp(first->via.str.ptr + first->via.str.size - strlen("…[truncated]"),
                            "…[truncated]", strlen("…[truncated]")),
                     0);
    const msgpack_object *last = sluice_record_get(&blocks->via.array.ptr[49], "text.text");
    ck_assert_int_eq(strncmp(last->via.str.ptr, "…and 32 more alerts not shown", 31), 0);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    free(m);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_templates)
{
    slack_groups gs = {.set = &grouping};
    absorb(&gs, alert_json("firing", "api", "a"), 0);
    slack_group *g = slack_groups_due(&gs, 1000);
    char *m = render(g, "{{ $labels.service | toUpper }}: {{ $value }} down",
                     "{{ $labels.instance }} says {{ $annotations.summary }}");
    ck_assert_ptr_nonnull(strstr(m, "\"text\":\"API: 1 down\\na says a <down> & out\""));
    free(m);
    slack_groups_free(&gs);
}
END_TEST

START_TEST(test_state_round_trip)
{
    slack_groups gs = {.set = &grouping};
    absorb(&gs, alert_json("firing", "api", "a"), 0);
    absorb(&gs, "{\"service\":\"web\",\"message\":\"boom\"}", 0);
    slack_group *g = slack_groups_due(&gs, 1000);
    slack_group_told(&gs, g, 1000, "123.456", "C9");
    g->alerts[0].value = -INFINITY;
    char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/slack.state", dir);
    ck_assert_int_eq(slack_state_save(&gs, path), 0);
    slack_groups back = {.set = &grouping};
    char why[256];
    ck_assert_int_eq(slack_state_load(&back, path, why, sizeof why), 2);
    ck_assert_uint_eq(back.n_alerts, 1);
    slack_group *a = back.v[0]->logs ? back.v[1] : back.v[0];
    slack_group *l = back.v[0]->logs ? back.v[0] : back.v[1];
    ck_assert_str_eq(a->thread_ts, "123.456");
    ck_assert_str_eq(a->channel_id, "C9");
    ck_assert_int_eq(a->alerts[0].told, SLACK_TOLD_FIRING);
    ck_assert(isinf(a->alerts[0].value) && a->alerts[0].value < 0);
    ck_assert_str_eq(pq_lset_get(&a->alerts[0].annotations, "summary"), "a <down> & out");
    ck_assert_uint_eq(l->log_count, 1);
    ck_assert_str_eq(l->samples[0], "boom");
    /* After the restart the log group is due; the alert group, told
     * already and unchanged, is not. */
    g = slack_groups_due(&back, 6000);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->logs, 1);
    ck_assert_ptr_null(slack_groups_due(&back, 6000));
    char *bad = test_write(dir, "bad.state", "{not json");
    ck_assert_int_eq(slack_state_load(&back, bad, why, sizeof why), -1);
    free(bad);
    test_rmdir(dir);
    free(dir);
    slack_groups_free(&gs);
    slack_groups_free(&back);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("slack");
    TCase *tc = tcase_create("slack");
    tcase_add_test(tc, test_alertmanager_timing);
    tcase_add_test(tc, test_resolved_before_told_and_in_flight);
    tcase_add_test(tc, test_ends_at);
    tcase_add_test(tc, test_log_groups);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_templates);
    tcase_add_test(tc, test_state_round_trip);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

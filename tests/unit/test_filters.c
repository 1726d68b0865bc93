/* The filter plugins in-process: json, regex, log_to_metrics, modify and
 * grep, each with good input and bad (not a string, missing field, invalid
 * UTF-8, huge values, broken configs), checked event by event. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dead_letter.h"
#include "filter_harness.h"
#include "sluice/json.h"
#include "testutil.h"

#define T0 ((sluice_time_t)1795667400 * SLUICE_NSEC_PER_SEC)

static void
expect_output(harness *h, const char *pipeline_name, const char *want)
{
    char *got = harness_output(h, pipeline_name, 0);
    ck_assert_str_eq(got, want);
    free(got);
}

/* Feed one event {"message": <bytes>} with bytes JSON cannot carry. */
static void
feed_message(harness *h, const char *bytes, size_t n)
{
    pipeline *p = h->e.pipelines[0];
    sluice_emitter *em = sluice_pipeline_emitter(p->filters[0], "t");
    msgpack_packer *pk = sluice_emit_begin(em, SLUICE_EVENT_LOG, T0);
    msgpack_pack_map(pk, 1);
    sluice_pack_cstr(pk, "message");
    msgpack_pack_str_with_body(pk, bytes, n);
    sluice_emit_end(em);
    pipeline_run_filters(p);
}

static void
expect_init_fails(const char *filters)
{
    harness h;
    ck_assert_msg(harness_init(&h, filters, NULL) != 0, "accepted: %s", filters);
    harness_free(&h);
}

/* ==== json ==== */

START_TEST(test_json_merge_and_bad_input)
{
    harness h;
    ck_assert_int_eq(harness_init(&h, "[{type: json}]", NULL), 0);
    const char *in[] = {
        "{\"message\":\"{\\\"a\\\":1,\\\"b\\\":{\\\"c\\\":[true,null]}}\",\"keep\":\"x\"}",
        "{\"message\":\"{\\\"n\\\":18446744073709551615,\\\"i\\\":-9223372036854775808}\"}",
        "{\"message\":\"not json\"}",
        "{\"message\":5}",
        "{\"other\":1}",
        "{\"message\":\"[1,2]\"}",
        NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t",
                  "{\"keep\":\"x\",\"a\":1,\"b\":{\"c\":[true,null]}}\n"
                  "{\"n\":18446744073709551615,\"i\":-9223372036854775808}\n"
                  "{\"message\":\"not json\",\"parse_error\":true}\n"
                  "{\"message\":5,\"parse_error\":true}\n"
                  "{\"other\":1}\n"
                  "{\"message\":\"[1,2]\",\"parse_error\":true}\n");
    ck_assert_uint_eq(harness_filter(&h, 0)->failed, 3);
    ck_assert_uint_eq(harness_filter(&h, 0)->dropped, 0);
    harness_free(&h);
}
END_TEST

START_TEST(test_json_invalid_utf8_and_huge)
{
    harness h;
    ck_assert_int_eq(harness_init(&h, "[{type: json, target: parsed, keep_original: true}]", NULL), 0);
    feed_message(&h, "{\"k\":\"a\xff" "b\"}", 11);
    size_t big = 4 << 20;
    char *huge = malloc(big + 8);
    memcpy(huge, "{\"x\":\"", 6);
    memset(huge + 6, 'z', big);
    memcpy(huge + 6 + big, "\"}", 2);
    feed_message(&h, huge, big + 8);
    char *got = harness_output(&h, "t", 0);
    ck_assert_ptr_nonnull(strstr(got, "\"parsed\":{\"k\":\"a\xef\xbf\xbd" "b\"}"));
    char *second = strchr(got, '\n') + 1;
    ck_assert_uint_eq(strlen(second), 2 * big + 45);
    free(got);
    free(huge);
    harness_free(&h);
}
END_TEST

START_TEST(test_json_on_error_drop_and_dead_letter)
{
    harness h;
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: json, on_error: drop}, {type: json, field: inner, "
                                  "on_error: dead_letter, dead_letter: {path: ${DIR}/dl.json}}]",
                                  NULL),
                     0);
    const char *in[] = {"{\"message\":\"{oops\"}", "{\"message\":\"{\\\"inner\\\":\\\"[\\\"}\"}",
                        "{\"message\":\"{\\\"inner\\\":\\\"{}\\\"}\"}", NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t", "{}\n");
    ck_assert_uint_eq(harness_filter(&h, 0)->failed, 1);
    ck_assert_uint_eq(harness_filter(&h, 0)->dropped, 1);
    ck_assert_uint_eq(harness_filter(&h, 1)->dead->events, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/dl.json", h.dir);
    dead_letter_close(harness_filter(&h, 1)->dead);
    char *dl = test_read(path, NULL);
    ck_assert_ptr_nonnull(dl);
    ck_assert_ptr_nonnull(strstr(dl, "\"pipeline\":\"t\",\"filter\":\"t.json.1\","
                                     "\"error\":\"inner: unexpected end at byte 1\""));
    ck_assert_ptr_nonnull(strstr(dl, "\"event\":{\"time\":\"2026-11-26T04:30:00.000000000Z\","
                                     "\"inner\":\"[\"}}\n"));
    free(dl);
    harness_free(&h);
}
END_TEST

/* ==== regex ==== */

START_TEST(test_regex_apache_combined)
{
    harness h;
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: regex, pattern: '%{apache_combined} (?<latency>\\S+)$', "
                                  "types: {latency: float}}]",
                                  NULL),
                     0);
    const char *in[] = {
        "{\"message\":\"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \\\"GET /a.gif "
        "HTTP/1.0\\\" 200 2326 \\\"-\\\" \\\"curl/8 \\\\\\\"x\\\\\\\"\\\" 0.25\",\"host\":\"old\"}",
        "{\"message\":\"::1 - - [10/Oct/2000:13:55:36 +0000] \\\"-\\\" 408 - \\\"-\\\" \\\"-\\\" "
        "x\"}",
        "{\"message\":\"garbage\",\"k\":1}",
        NULL};
    harness_feed(&h, T0, in);
    char *got = harness_output(&h, "t", 1);
    ck_assert_str_eq(got,
                     "{\"time\":\"2000-10-10T20:55:36.000000000Z\",\"agent\":\"curl/8 \\\\\\\"x\\\\\\\"\","
                     "\"bytes\":2326,\"host\":\"127.0.0.1\",\"ident\":\"-\",\"latency\":0.25,"
                     "\"method\":\"GET\",\"path\":\"/a.gif\",\"protocol\":\"HTTP/1.0\","
                     "\"referer\":\"-\",\"status\":200,\"user\":\"frank\"}\n"
                     "{\"time\":\"2000-10-10T13:55:36.000000000Z\",\"agent\":\"-\","
                     "\"host\":\"::1\",\"ident\":\"-\",\"latency\":\"x\",\"method\":\"-\","
                     "\"referer\":\"-\",\"status\":408,\"user\":\"-\"}\n"
                     "{\"time\":\"2026-11-26T04:30:00.000000000Z\",\"message\":\"garbage\",\"k\":1}\n");
    free(got);
    /* "-" for bytes means none; "x" for latency stays a string, counted. */
    ck_assert_uint_eq(harness_filter(&h, 0)->failed, 1);
    harness_free(&h);
}
END_TEST

/* %{apache_combined} alone: lines as Apache and nginx write them match
 * whole (IPv6 clients, "-" bytes, an empty user agent, \" inside the
 * request); a line cut short matches nothing and is kept whole, tagged. */
START_TEST(test_regex_builtin_matches_whole_lines)
{
    harness h;
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: regex, pattern: '%{apache_combined}', on_no_match: tag,"
                                  " tag_key: unparsed, time_keep: true}]",
                                  NULL),
                     0);
    const char *in[] = {
        /* Apache: IPv6 client, %b "-", empty User-Agent. */
        "{\"message\":\"2001:db8::1 - - [10/Oct/2000:13:55:36 -0700] \\\"HEAD / HTTP/1.1\\\" "
        "304 - \\\"-\\\" \\\"\\\"\"}",
        /* Apache escapes a quote inside the request line as \". */
        "{\"message\":\"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \\\"GET /q?a=\\\\\\\"b\\\\\\\" "
        "HTTP/1.1\\\" 404 209 \\\"-\\\" \\\"Mozilla/5.0\\\"\"}",
        /* nginx: $remote_user set, \x22 for a quote in the user agent. */
        "{\"message\":\"203.0.113.7 - bob [05/Jan/2023:10:11:12 +0000] \\\"POST /api HTTP/2.0\\\" "
        "201 15 \\\"https://example.com/\\\" \\\"curl/8.0 \\\\x22x\\\\x22\\\"\"}",
        /* Cut short: the user agent's closing quote is missing. */
        "{\"message\":\"66.249.66.1 - - [10/Oct/2000:13:55:36 -0700] \\\"GET / HTTP/1.1\\\" 200 "
        "235 \\\"-\\\" \\\"Mozilla/5.0 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html\"}",
        /* Referer and user agent missing: common, not combined. */
        "{\"message\":\"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \\\"GET / HTTP/1.1\\\" 200 5\"}",
        NULL};
    harness_feed(&h, T0, in);
    expect_output(
        &h, "t",
        "{\"agent\":\"\",\"host\":\"2001:db8::1\",\"ident\":\"-\",\"method\":\"HEAD\",\"path\":\"/\","
        "\"protocol\":\"HTTP/1.1\",\"referer\":\"-\",\"status\":304,"
        "\"time\":\"10/Oct/2000:13:55:36 -0700\",\"user\":\"-\"}\n"
        "{\"agent\":\"Mozilla/5.0\",\"bytes\":209,\"host\":\"10.0.0.1\",\"ident\":\"-\","
        "\"method\":\"GET\",\"path\":\"/q?a=\\\\\\\"b\\\\\\\"\",\"protocol\":\"HTTP/1.1\","
        "\"referer\":\"-\",\"status\":404,\"time\":\"10/Oct/2000:13:55:36 -0700\",\"user\":\"-\"}\n"
        "{\"agent\":\"curl/8.0 \\\\x22x\\\\x22\",\"bytes\":15,\"host\":\"203.0.113.7\","
        "\"ident\":\"-\",\"method\":\"POST\",\"path\":\"/api\",\"protocol\":\"HTTP/2.0\","
        "\"referer\":\"https://example.com/\",\"status\":201,"
        "\"time\":\"05/Jan/2023:10:11:12 +0000\",\"user\":\"bob\"}\n"
        "{\"message\":\"66.249.66.1 - - [10/Oct/2000:13:55:36 -0700] \\\"GET / HTTP/1.1\\\" 200 235 "
        "\\\"-\\\" \\\"Mozilla/5.0 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html\",\"unparsed\":true}\n"
        "{\"message\":\"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \\\"GET / HTTP/1.1\\\" 200 5\","
        "\"unparsed\":true}\n");
    harness_free(&h);
}
END_TEST

START_TEST(test_regex_patterns_no_match_and_time)
{
    harness h;
    ck_assert_int_eq(
        harness_init(&h,
                     "[{type: regex, patterns: ['^(?<a>\\d+)$', '^(?<b>\\w+)$'], on_no_match: drop},"
                     " {type: regex, field: b, pattern: '^(?<ts>\\d{4}-\\S+ \\S+) (?<msg>.*)$',"
                     "  time_key: ts, time_format: '%Y-%m-%d %H:%M:%S', time_zone: '+02:00',"
                     "  time_keep: true, keep_original: true, on_no_match: tag, tag_key: nm}]",
                     NULL),
        0);
    const char *in[] = {"{\"message\":\"123\"}", "{\"message\":\"abc\"}", "{\"message\":\"!!\"}",
                        "{\"message\":7}", NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t", "{\"a\":\"123\",\"nm\":true}\n{\"b\":\"abc\",\"nm\":true}\n");
    ck_assert_uint_eq(harness_filter(&h, 0)->dropped, 2); /* "!!" and the number */
    harness_free(&h);

    ck_assert_int_eq(
        harness_init(&h,
                     "[{type: regex, pattern: '^(?<ts>\\S+ \\S+) (?<msg>.*)$', time_key: ts,"
                     "  time_format: '%Y-%m-%d %H:%M:%S', time_zone: '+02:00'}]",
                     NULL),
        0);
    const char *times[] = {"{\"message\":\"2026-11-26 12:00:00.5 hello\"}",
                           "{\"message\":\"2026-13-01 00:00:00 bad month\"}", NULL};
    harness_feed(&h, T0, times);
    char *got = harness_output(&h, "t", 1);
    ck_assert_str_eq(got, "{\"time\":\"2026-11-26T10:00:00.500000000Z\",\"msg\":\"hello\"}\n"
                          "{\"time\":\"2026-11-26T04:30:00.000000000Z\",\"msg\":\"bad month\","
                          "\"ts\":\"2026-13-01 00:00:00\"}\n");
    free(got);
    ck_assert_uint_eq(harness_filter(&h, 0)->failed, 1);
    harness_free(&h);
}
END_TEST

START_TEST(test_regex_invalid_utf8_and_huge)
{
    harness h;
    ck_assert_int_eq(harness_init(&h, "[{type: regex, pattern: '^(?<x>.*)$'}]", NULL), 0);
    feed_message(&h, "ab\xff" "cd", 5);
    size_t big = 8 << 20;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    feed_message(&h, huge, big);
    char *got = harness_output(&h, "t", 0);
    ck_assert_ptr_nonnull(strstr(got, "{\"x\":\"ab\xef\xbf\xbd" "cd\"}\n"));
    ck_assert_uint_eq(strlen(strchr(got, '\n') + 1), big + 9);
    free(got);
    free(huge);
    harness_free(&h);
}
END_TEST

START_TEST(test_regex_bad_configs)
{
    expect_init_fails("[{type: regex, pattern: '(unclosed'}]");
    expect_init_fails("[{type: regex, pattern: '%{no_such_pattern}'}]");
    expect_init_fails("[{type: regex, pattern: '(?<a>x)', types: {a: number}}]");
    expect_init_fails("[{type: regex}]");
    expect_init_fails("[{type: regex, pattern: '(?<a>x)', time_key: a}]");
    expect_init_fails("[{type: regex, pattern: '(?<a>x)', time_key: a, time_format: '%s', "
                      "time_zone: Mars/Base}]");
}
END_TEST

/* ==== log_to_metrics ==== */

static const char *const scrape_events[] = {
    "{\"status\":200,\"bytes\":100,\"latency\":0.05,\"method\":\"GET\"}",
    "{\"status\":200,\"bytes\":\"50\",\"latency\":0.3,\"method\":\"GET\"}",
    "{\"status\":500,\"bytes\":1,\"latency\":2,\"method\":\"POST\"}",
    "{\"status\":404,\"bytes\":\"x\",\"latency\":\"bad\",\"method\":\"GET\",\"temp\":21.5}",
    NULL};

START_TEST(test_metrics_kinds_labels_and_max_series)
{
    harness h;
    ck_assert_int_eq(
        harness_init(&h,
                     "[{type: log_to_metrics, interval: 1h, max_series: 3, metrics: ["
                     " {name: req_total, type: counter, labels: [status]},"
                     " {name: bytes_total, type: counter, field: bytes, labels: [status]},"
                     " {name: lat, type: histogram, field: latency, buckets: [0.1, 0.5],"
                     "  when: {method: '^GET$'}},"
                     " {name: last_temp, type: gauge, field: temp}]}]",
                     NULL),
        0);
    harness_feed(&h, T0, scrape_events);
    harness_stop(&h);
    /* Logs pass untouched; max_series (3) is reached with the first event,
     * so 500, 404 and the gauge get no series. */
    expect_output(
        &h, "t",
        "{\"status\":200,\"bytes\":100,\"latency\":0.05,\"method\":\"GET\"}\n"
        "{\"status\":200,\"bytes\":\"50\",\"latency\":0.3,\"method\":\"GET\"}\n"
        "{\"status\":500,\"bytes\":1,\"latency\":2,\"method\":\"POST\"}\n"
        "{\"status\":404,\"bytes\":\"x\",\"latency\":\"bad\",\"method\":\"GET\",\"temp\":21.5}\n"
        "{\"name\":\"req_total\",\"kind\":\"counter\",\"tags\":{\"status\":\"200\"},"
        "\"fields\":{\"value\":2}}\n"
        "{\"name\":\"bytes_total\",\"kind\":\"counter\",\"tags\":{\"status\":\"200\"},"
        "\"fields\":{\"value\":150.0}}\n"
        "{\"name\":\"lat\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":2,"
        "\"sum\":0.35,\"bucket_0.1\":1,\"bucket_0.5\":2,\"bucket_+Inf\":2}}\n");
    harness_free(&h);
}
END_TEST

START_TEST(test_metrics_emit_to_and_discard_logs)
{
    harness h;
    ck_assert_int_eq(
        harness_init(&h,
                     "[{type: log_to_metrics, emit_to: m, discard_logs: true, metrics: ["
                     " {name: temp, type: gauge, field: temp, labels: [method]},"
                     " {name: by_method, type: counter, labels: [method, absent]}]}]",
                     "  m:\n    outputs: [{type: null}]\n"),
        0);
    harness_feed(&h, T0, scrape_events);
    harness_stop(&h);
    expect_output(&h, "t", "");
    expect_output(&h, "m",
                  "{\"name\":\"by_method\",\"kind\":\"counter\",\"tags\":{\"method\":\"GET\"},"
                  "\"fields\":{\"value\":3}}\n"
                  "{\"name\":\"by_method\",\"kind\":\"counter\",\"tags\":{\"method\":\"POST\"},"
                  "\"fields\":{\"value\":1}}\n"
                  "{\"name\":\"temp\",\"kind\":\"gauge\",\"tags\":{\"method\":\"GET\"},"
                  "\"fields\":{\"value\":21.5}}\n");
    ck_assert_uint_eq(harness_filter(&h, 0)->dropped, 4);
    harness_free(&h);
}
END_TEST

START_TEST(test_metrics_expire_after)
{
    harness h;
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: log_to_metrics, discard_logs: true, expire_after: 1ms,"
                                  " max_series: 2, metrics: [{name: c, type: counter, labels: [k]}]}]",
                                  NULL),
                     0);
    const char *first[] = {"{\"k\":\"a\"}", "{\"k\":\"a\"}", "{\"k\":\"b\"}", NULL};
    harness_feed(&h, T0, first);
    usleep(5000);
    harness_stop(&h); /* emits a=2, b=1, then forgets both */
    const char *second[] = {"{\"k\":\"c\"}", "{\"k\":\"a\"}", NULL};
    harness_feed(&h, T0, second);
    harness_stop(&h); /* room again under max_series: c and a start anew */
    expect_output(&h, "t",
                  "{\"name\":\"c\",\"kind\":\"counter\",\"tags\":{\"k\":\"a\"},\"fields\":{\"value\":2}}\n"
                  "{\"name\":\"c\",\"kind\":\"counter\",\"tags\":{\"k\":\"b\"},\"fields\":{\"value\":1}}\n"
                  "{\"name\":\"c\",\"kind\":\"counter\",\"tags\":{\"k\":\"c\"},\"fields\":{\"value\":1}}\n"
                  "{\"name\":\"c\",\"kind\":\"counter\",\"tags\":{\"k\":\"a\"},\"fields\":{\"value\":1}}\n");
    harness_free(&h);
}
END_TEST

START_TEST(test_metrics_bad_configs)
{
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: 1abc, type: counter}]}]");
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: g, type: gauge}]}]");
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: h, type: histogram, field: x, "
                      "buckets: [1, 0.5]}]}]");
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: h, type: histogram, field: x, "
                      "buckets: [1, two]}]}]");
    expect_init_fails("[{type: log_to_metrics, emit_to: nowhere, metrics: [{name: c, type: "
                      "counter}]}]");
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: c, type: counter}, {name: c, "
                      "type: counter}]}]");
    expect_init_fails("[{type: log_to_metrics, metrics: [{name: c, type: counter, when: {a: "
                      "'('}}]}]");
}
END_TEST

/* ==== modify ==== */

START_TEST(test_modify_every_edit)
{
    harness h;
    ck_assert_int_eq(
        harness_init(&h,
                     "[{type: modify, rename: {user.name: user.display, level: severity},"
                     "  copy: {message: msg_copy, absent: x}, set: {env: prod, deep.er.key: 5,"
                     "  message: replaced}, add: {env: nope, region: eu}, hash: [user.email, n,"
                     "  absent], hash_key: secret, lowercase: [severity, n], uppercase: [method],"
                     "  remove: [tmp, missing.path]}]",
                     NULL),
        0);
    const char *in[] = {"{\"message\":\"hi\",\"user\":{\"email\":\"a@b.c\",\"name\":\"Bob\"},"
                        "\"level\":\"INFO\",\"method\":\"get\",\"tmp\":1,\"n\":42}",
                        "{}", NULL};
    harness_feed(&h, T0, in);
    expect_output(
        &h, "t",
        "{\"message\":\"replaced\",\"user\":{\"email\":"
        "\"0ce3629b4ac1ef1367b15f9d7659135a1c8663659b98cfd72c175d86612f7879\","
        "\"display\":\"Bob\"},\"method\":\"GET\","
        "\"n\":\"93c121e7aa437a1e01e3c512c6f0ce3c821a839025dca4408f85616de4aaee70\","
        "\"severity\":\"info\",\"msg_copy\":\"hi\",\"env\":\"prod\",\"deep\":{\"er\":{\"key\":5}},"
        "\"region\":\"eu\"}\n"
        "{\"env\":\"prod\",\"deep\":{\"er\":{\"key\":5}},\"message\":\"replaced\","
        "\"region\":\"eu\"}\n");
    harness_free(&h);
}
END_TEST

START_TEST(test_modify_copy_is_a_copy)
{
    harness h;
    /* rename opens user before copy duplicates it: later edits must touch
     * one side only. */
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: modify, rename: {user.name: user.login},"
                                  " copy: {user: owner}, set: {owner.login: Alice},"
                                  " remove: [user.id]}]",
                                  NULL),
                     0);
    const char *in[] = {"{\"user\":{\"name\":\"Bob\",\"id\":7}}", NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t",
                  "{\"user\":{\"login\":\"Bob\"},\"owner\":{\"id\":7,\"login\":\"Alice\"}}\n");
    harness_free(&h);
}
END_TEST

START_TEST(test_modify_plain_sha256_and_bad_config)
{
    harness h;
    ck_assert_int_eq(harness_init(&h, "[{type: modify, hash: [n], set: {a.b: 1}}]", NULL), 0);
    const char *in[] = {"{\"n\":42,\"a\":\"not a map\"}", NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t",
                  "{\"n\":\"73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049\","
                  "\"a\":{\"b\":1}}\n");
    harness_free(&h);
    expect_init_fails("[{type: modify, rename: {a: 5}}]");
}
END_TEST

/* ==== grep ==== */

START_TEST(test_grep_include_exclude)
{
    harness h;
    ck_assert_int_eq(harness_init(&h,
                                  "[{type: grep, include: {level: '^(error|warn)$'},"
                                  " exclude: {msg: healthcheck, code: '^5'}}]",
                                  NULL),
                     0);
    const char *in[] = {"{\"level\":\"error\",\"msg\":\"boom\"}",
                        "{\"level\":\"info\",\"msg\":\"boom\"}",
                        "{\"level\":\"warn\",\"msg\":\"healthcheck failed\"}",
                        "{\"level\":\"warn\",\"code\":503}", "{\"msg\":\"no level\"}", NULL};
    harness_feed(&h, T0, in);
    expect_output(&h, "t", "{\"level\":\"error\",\"msg\":\"boom\"}\n");
    ck_assert_uint_eq(harness_filter(&h, 0)->dropped, 4);
    harness_free(&h);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("filters");
    TCase *tc = tcase_create("filters");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_json_merge_and_bad_input);
    tcase_add_test(tc, test_json_invalid_utf8_and_huge);
    tcase_add_test(tc, test_json_on_error_drop_and_dead_letter);
    tcase_add_test(tc, test_regex_apache_combined);
    tcase_add_test(tc, test_regex_builtin_matches_whole_lines);
    tcase_add_test(tc, test_regex_patterns_no_match_and_time);
    tcase_add_test(tc, test_regex_invalid_utf8_and_huge);
    tcase_add_test(tc, test_regex_bad_configs);
    tcase_add_test(tc, test_metrics_kinds_labels_and_max_series);
    tcase_add_test(tc, test_metrics_emit_to_and_discard_logs);
    tcase_add_test(tc, test_metrics_expire_after);
    tcase_add_test(tc, test_metrics_bad_configs);
    tcase_add_test(tc, test_modify_every_edit);
    tcase_add_test(tc, test_modify_copy_is_a_copy);
    tcase_add_test(tc, test_modify_plain_sha256_and_bad_config);
    tcase_add_test(tc, test_grep_include_exclude);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

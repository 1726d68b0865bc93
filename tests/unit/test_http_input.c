/* The http input's bodies: JSON objects and arrays, NDJSON (CRLF, blank
 * lines), forms, text, the InfluxDB line protocol with precisions, and
 * collectd's JSON; errors that name the line and column and stage nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_http/body_parse.h"
#include "testutil.h"

#define NOW (INT64_C(1700000000) * SLUICE_NSEC_PER_SEC)

/* Every staged event as "time body-as-JSON\n". */
static char *
render(body_stage *st)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, st->events.data, st->events.size);
    size_t n = 0;
    while (sluice_event_next(&it, &ev) == 1) {
        n++;
        sluice_buf_printf(&b, "%lld ", (long long)((ev.time - NOW) / SLUICE_NSEC_PER_MSEC));
        sluice_json_value(&b, &ev.body);
        sluice_buf_putc(&b, '\n');
    }
    sluice_event_iter_destroy(&it);
    ck_assert_uint_eq(n, st->count);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

static char err[300];

static char *
logs(body_format f, const char *body, const body_meta *meta)
{
    static body_stage st;
    static int init;
    if (!init) {
        body_stage_init(&st);
        init = 1;
    }
    body_meta none = {0};
    err[0] = '\0';
    if (body_logs(&st, f, body, strlen(body), NOW, meta ? meta : &none, err, sizeof err) < 0) {
        ck_assert_uint_eq(st.count, 0);
        return NULL;
    }
    return render(&st);
}

#define EXPECT_LOGS(f, body, want)                                                                 \
    do {                                                                                           \
        char *got_ = logs(f, body, NULL);                                                          \
        ck_assert_msg(got_ != NULL, "refused: %s", err);                                           \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

#define EXPECT_REFUSED(f, body, why)                                                               \
    do {                                                                                           \
        char *got_ = logs(f, body, NULL);                                                          \
        ck_assert_msg(got_ == NULL, "accepted: %s", got_);                                         \
        ck_assert_str_eq(err, why);                                                                \
    } while (0)

START_TEST(test_json_shapes)
{
    EXPECT_LOGS(BODY_AUTO, "{\"a\":1,\"b\":{\"c\":[true,null]}}",
                "0 {\"a\":1,\"b\":{\"c\":[true,null]}}\n");
    EXPECT_LOGS(BODY_AUTO, " [ {\"a\":1} , {\"a\":2} ] ", "0 {\"a\":1}\n0 {\"a\":2}\n");
    EXPECT_LOGS(BODY_AUTO, "[]", "");
    EXPECT_LOGS(BODY_AUTO, "{\"a\":1}\n{\"a\":2}", "0 {\"a\":1}\n0 {\"a\":2}\n");
    EXPECT_LOGS(BODY_NDJSON, "{\"a\":1}\r\n\r\n  \n{\"a\":2}\n", "0 {\"a\":1}\n0 {\"a\":2}\n");
    EXPECT_LOGS(BODY_NDJSON, "", "");
    /* A pretty-printed object is one value, not NDJSON. */
    EXPECT_LOGS(BODY_AUTO, "{\n  \"a\": 1,\n  \"b\": 2\n}\n", "0 {\"a\":1,\"b\":2}\n");
    /* 17 array elements: array 16 in MessagePack. */
    sluice_buf b = SLUICE_BUF_INIT, want = SLUICE_BUF_INIT;
    sluice_buf_putc(&b, '[');
    for (int i = 0; i < 17; i++) {
        sluice_buf_printf(&b, "%s{\"i\":%d}", i ? "," : "", i);
        sluice_buf_printf(&want, "0 {\"i\":%d}\n", i);
    }
    sluice_buf_printf(&b, "]%c", '\0');
    sluice_buf_putc(&want, '\0');
    EXPECT_LOGS(BODY_AUTO, b.data, want.data);
    sluice_buf_free(&b);
    sluice_buf_free(&want);
}
END_TEST

START_TEST(test_json_errors)
{
    EXPECT_REFUSED(BODY_NDJSON, "{\"a\":1}\n{\"a\":2}\n{\"a\" 3}\n",
                   "line 3, column 6: expected ':'");
    EXPECT_REFUSED(BODY_NDJSON, "{\"a\":1}\n[1]\n", "line 2, column 1: not a JSON object");
    EXPECT_REFUSED(BODY_AUTO, "[\n {\"a\":1},\n 2\n]", "element 1 of the array is not a JSON object");
    EXPECT_REFUSED(BODY_AUTO, "\"text\"",
                   "the body is JSON but neither an object nor an array of objects");
    EXPECT_REFUSED(BODY_AUTO, "{\n\"a\": tru\n}", "line 2, column 6: unexpected character");
    /* The first line is good and the second is not: NDJSON's error. */
    EXPECT_REFUSED(BODY_AUTO, "{\"a\":1}\n{\"a\":}", "line 2, column 6: bad number");
}
END_TEST

START_TEST(test_meta_wins_and_forms)
{
    body_meta m = {0};
    m.key[0] = "path";
    m.value[0] = "/logs";
    m.key[1] = "peer";
    m.value[1] = "127.0.0.1:1";
    m.n = 2;
    char *got = logs(BODY_AUTO, "{\"path\":\"mine\",\"x\":1}", &m);
    ck_assert_str_eq(got, "0 {\"x\":1,\"path\":\"/logs\",\"peer\":\"127.0.0.1:1\"}\n");
    free(got);
    /* Parsed in place (NDJSON), a member named as metadata is replaced too. */
    got = logs(BODY_NDJSON, "{\"peer\":\"p\",\"k\":1,\"path\":2}\n{\"k\":2}", &m);
    ck_assert_str_eq(got, "0 {\"k\":1,\"path\":\"/logs\",\"peer\":\"127.0.0.1:1\"}\n"
                          "0 {\"k\":2,\"path\":\"/logs\",\"peer\":\"127.0.0.1:1\"}\n");
    free(got);
    /* NDJSON objects are parsed in place: 14 and 15 members plus 2
     * metadata fields make a map header grow from 1 to 3 bytes. */
    sluice_buf in = SLUICE_BUF_INIT, want = SLUICE_BUF_INIT;
    for (int members = 14; members <= 15; members++) {
        sluice_buf_printf(&want, "0 {");
        sluice_buf_putc(&in, '{');
        for (int i = 0; i < members; i++) {
            sluice_buf_printf(&in, "%s\"k%d\":%d", i ? "," : "", i, i);
            sluice_buf_printf(&want, "%s\"k%d\":%d", i ? "," : "", i, i);
        }
        sluice_buf_printf(&in, "}\n");
        sluice_buf_printf(&want, ",\"path\":\"/logs\",\"peer\":\"127.0.0.1:1\"}\n");
    }
    sluice_buf_putc(&in, '\0');
    sluice_buf_putc(&want, '\0');
    body_stage st;
    body_stage_init(&st);
    ck_assert_int_eq(body_logs(&st, BODY_NDJSON, in.data, in.len - 1, NOW, &m, err, sizeof err), 0);
    got = render(&st);
    ck_assert_str_eq(got, want.data);
    free(got);
    ck_assert_int_eq(body_logs(&st, BODY_NDJSON, "{\"a\":1}\n[2]", 11, NOW, &m, err, sizeof err), -1);
    ck_assert_str_eq(err, "line 2, column 1: not a JSON object");
    ck_assert_uint_eq(st.events.size, 0);
    body_stage_destroy(&st);
    sluice_buf_free(&in);
    sluice_buf_free(&want);
    EXPECT_LOGS(BODY_FORM, "name=app&msg=hello+world%21&args=%28%27x%27%2C%29&empty=&flag",
                "0 {\"name\":\"app\",\"msg\":\"hello world!\",\"args\":\"('x',)\",\"empty\":\"\","
                "\"flag\":\"\"}\n");
    EXPECT_LOGS(BODY_FORM, "bad=%zz%4", "0 {\"bad\":\"%zz%4\"}\n");
    /* curl -d: a form content type carrying JSON. */
    EXPECT_LOGS(BODY_FORM, "  {\"a\":1}", "0 {\"a\":1}\n");
    EXPECT_LOGS(BODY_TEXT, "one\r\n\ntwo", "0 {\"message\":\"one\"}\n0 {\"message\":\"two\"}\n");
    ck_assert_int_eq(body_format_of("application/x-ndjson"), BODY_NDJSON);
    ck_assert_int_eq(body_format_of("application/json"), BODY_AUTO);
    ck_assert_int_eq(body_format_of(""), BODY_AUTO);
    ck_assert_int_eq(body_format_of("text/plain"), BODY_TEXT);
}
END_TEST

static char *
lines(const char *body, int64_t unit)
{
    body_stage st;
    body_stage_init(&st);
    char *r = NULL;
    if (body_line_protocol(&st, body, strlen(body), unit, NOW, err, sizeof err) == 0)
        r = render(&st);
    else
        ck_assert_uint_eq(st.count, 0);
    body_stage_destroy(&st);
    return r;
}

START_TEST(test_line_protocol)
{
    char *got = lines("cpu,host=a u=1.5,n=2i 1700000001\n# comment\n\nmem free=3\r\n",
                      SLUICE_NSEC_PER_SEC);
    ck_assert_str_eq(got, "1000 {\"name\":\"cpu\",\"kind\":\"untyped\",\"tags\":{\"host\":\"a\"},"
                          "\"fields\":{\"u\":1.5,\"n\":2}}\n"
                          "0 {\"name\":\"mem\",\"kind\":\"untyped\",\"tags\":{},\"fields\":{\"free\":3.0}}\n");
    free(got);
    got = lines("d v=1 1700000000250", SLUICE_NSEC_PER_MSEC);
    ck_assert_ptr_nonnull(got);
    ck_assert(strncmp(got, "250 ", 4) == 0);
    free(got);
    ck_assert_ptr_null(lines("ok v=1\nbroken\n", 1));
    ck_assert(strncmp(err, "line 2: unable to parse 'broken'", 32) == 0);
    ck_assert_ptr_null(lines("x v=1 9223372036854775807", SLUICE_NSEC_PER_SEC));
    ck_assert_str_eq(err, "line 1: timestamp out of range for precision");
    ck_assert_int_eq(body_precision("ms"), SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(body_precision("n"), 1);
    ck_assert_int_eq(body_precision("h"), 3600 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(body_precision("d"), 0);
}
END_TEST

static char *
collectd(const char *body)
{
    body_stage st;
    body_stage_init(&st);
    char *r = NULL;
    if (body_collectd(&st, body, strlen(body), NOW, err, sizeof err) == 0)
        r = render(&st);
    else
        ck_assert_uint_eq(st.count, 0);
    body_stage_destroy(&st);
    return r;
}

START_TEST(test_collectd)
{
    char *got = collectd(
        "[{\"values\":[10,null,2.5],\"dstypes\":[\"derive\",\"gauge\",\"gauge\"],"
        "\"dsnames\":[\"rx\",\"tx\",\"value\"],\"time\":1700000001.5,\"interval\":10,"
        "\"host\":\"h\",\"plugin\":\"interface\",\"plugin_instance\":\"\",\"type\":\"if_x\","
        "\"type_instance\":\"eth0\"},"
        "{\"values\":[1],\"dstypes\":[\"gauge\"],\"dsnames\":[\"value\"],\"host\":\"h\","
        "\"plugin\":\"users\",\"type\":\"users\"}]");
    ck_assert_str_eq(got,
                     "1500 {\"name\":\"interface_if_x_rx\",\"kind\":\"counter\",\"tags\":{\"host\":"
                     "\"h\",\"type_instance\":\"eth0\"},\"fields\":{\"value\":10}}\n"
                     "1500 {\"name\":\"interface_if_x\",\"kind\":\"gauge\",\"tags\":{\"host\":\"h\","
                     "\"type_instance\":\"eth0\"},\"fields\":{\"value\":2.5}}\n"
                     "0 {\"name\":\"users\",\"kind\":\"gauge\",\"tags\":{\"host\":\"h\"},"
                     "\"fields\":{\"value\":1}}\n");
    free(got);
    ck_assert_ptr_null(collectd("{\"values\":[]}"));
    ck_assert_str_eq(err, "collectd's JSON is an array of value lists");
    ck_assert_ptr_null(collectd("[{\"plugin\":\"p\",\"type\":\"t\",\"values\":[1],\"dstypes\":[],"
                                "\"dsnames\":[\"v\"]}]"));
    ck_assert_str_eq(err, "value list 0: \"dstypes\" is not an array as long as \"values\"");
    ck_assert_ptr_null(collectd("[{\"plugin\":\"p\",\"type\":\"t\",\"values\":[\"x\"],"
                                "\"dstypes\":[\"gauge\"],\"dsnames\":[\"v\"]}]"));
    ck_assert_str_eq(err, "value list 0: data source 0 is not a number with a dstype and dsname");
    ck_assert_ptr_null(collectd("[{\"plugin\":\"p\",\"type\":\"t\",\"values\":[1],"
                                "\"dstypes\":[\"gauge\"],\"dsnames\":[\"v\"],\"time\":1e13}]"));
    ck_assert_str_eq(err, "value list 0: \"time\" is not a number of seconds from 1970 to 2255");
    ck_assert_ptr_null(collectd("[{\"plugin\":1}]"));
    ck_assert_str_eq(err, "value list 0: no \"plugin\" string");
    ck_assert_ptr_null(collectd("[{]"));
    ck_assert(strncmp(err, "line 1, column 3:", 17) == 0);
}
END_TEST

/* Tiny lines with metadata stage many times their body: past the stage's
 * limit the request is refused whole, marked too large. */
START_TEST(test_stage_limit)
{
    body_stage st;
    body_stage_init(&st);
    st.limit = 4096;
    body_meta m = {.n = 1, .key = {"path"}, .value = {"/a/rather/long/path/for/every/event"}};
    sluice_buf in = SLUICE_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        sluice_buf_printf(&in, "{}\n");
    ck_assert_int_eq(body_logs(&st, BODY_NDJSON, in.data, in.len, NOW, &m, err, sizeof err), -1);
    ck_assert_int_eq(st.too_large, 1);
    ck_assert_uint_eq(st.count, 0);
    ck_assert_uint_eq(st.events.size, 0);
    ck_assert_str_eq(err, "the request makes more than 4096 bytes of events: send it in smaller parts");
    /* Under the limit, the same reader accepts. */
    ck_assert_int_eq(body_logs(&st, BODY_NDJSON, in.data, 30, NOW, &m, err, sizeof err), 0);
    ck_assert_uint_eq(st.count, 10);
    ck_assert_int_eq(st.too_large, 0);
    sluice_buf_free(&in);
    body_stage_destroy(&st);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("http_input");
    TCase *tc = tcase_create("bodies");
    tcase_add_test(tc, test_json_shapes);
    tcase_add_test(tc, test_json_errors);
    tcase_add_test(tc, test_meta_wins_and_forms);
    tcase_add_test(tc, test_line_protocol);
    tcase_add_test(tc, test_collectd);
    tcase_add_test(tc, test_stage_limit);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

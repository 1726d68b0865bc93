/* The prometheus_exporter's store and exposition without a socket: the
 * mapping of metric events to families and series, names and labels made
 * legal, both formats, type conflicts, max_series and expiry. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/out_prometheus_exporter/exporter.h"
#include "testutil.h"

static int
absorb(px_store *st, const char *json, int64_t now)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, INT64_C(1700000000123000000), json);
    char why[256];
    int rc = px_store_absorb(st, &ev.body, ev.time, now, why, sizeof why);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static char *
render(const px_store *st, px_format fmt, int timestamps)
{
    sluice_buf b = SLUICE_BUF_INIT;
    px_render(&b, st, fmt, timestamps);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

START_TEST(test_kinds_and_names)
{
    static const char *const add[] = {"region", "eu", "host", "h0", NULL};
    px_store st = {.max_series = 100, .add = add};
    ck_assert_int_eq(absorb(&st,
                            "{\"name\":\"req.count\",\"kind\":\"counter\",\"tags\":{\"host\":\"a\\\"b\","
                            "\"__x\":\"1\",\"9lives\":\"c\",\"empty\":\"\"},\"fields\":{\"value\":3,"
                            "\"bytes\":10,\"note\":\"text\"}}",
                            0),
                     2);
    ck_assert_int_eq(absorb(&st,
                            "{\"name\":\"lat\",\"kind\":\"histogram\",\"tags\":{\"le\":\"x\"},"
                            "\"fields\":{\"count\":4,\"sum\":2.5,\"bucket_1\":3,\"bucket_0.5\":1,"
                            "\"bucket_+Inf\":4}}",
                            0),
                     1);
    ck_assert_int_eq(absorb(&st, "{\"name\":\"temp\",\"fields\":{\"value\":-1.5}}", 0), 1);
    char *t = render(&st, PX_TEXT, 0);
    const char *want =
        "# HELP lat Metric events named lat, exported by sluice.\n"
        "# TYPE lat histogram\n"
        "lat_bucket{host=\"h0\",region=\"eu\",le=\"0.5\"} 1\n"
        "lat_bucket{host=\"h0\",region=\"eu\",le=\"1\"} 3\n"
        "lat_bucket{host=\"h0\",region=\"eu\",le=\"+Inf\"} 4\n"
        "lat_sum{host=\"h0\",region=\"eu\"} 2.5\n"
        "lat_count{host=\"h0\",region=\"eu\"} 4\n"
        "# HELP req_count Metric events named req_count, exported by sluice.\n"
        "# TYPE req_count counter\n"
        "req_count{_9lives=\"c\",_x=\"1\",host=\"a\\\"b\",region=\"eu\"} 3\n"
        "# HELP req_count_bytes Metric events named req_count_bytes, exported by sluice.\n"
        "# TYPE req_count_bytes counter\n"
        "req_count_bytes{_9lives=\"c\",_x=\"1\",host=\"a\\\"b\",region=\"eu\"} 10\n"
        "# HELP temp Metric events named temp, exported by sluice.\n"
        "# TYPE temp untyped\n"
        "temp{host=\"h0\",region=\"eu\"} -1.5\n";
    ck_assert_str_eq(t, want);
    free(t);
    t = render(&st, PX_OPENMETRICS, 1);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE req_count counter\nreq_count_total{"));
    ck_assert_ptr_nonnull(strstr(t, "lat_bucket{host=\"h0\",region=\"eu\",le=\"1.0\"} 3 1700000000.123\n"));
    ck_assert_ptr_nonnull(strstr(t, "# TYPE temp unknown\n"));
    ck_assert_str_eq(t + strlen(t) - 6, "# EOF\n");
    free(t);
    px_store_free(&st);
}
END_TEST

START_TEST(test_conflicts_bounds_expiry)
{
    px_store st = {.max_series = 3, .expire_ms = 1000};
    absorb(&st, "{\"name\":\"x\",\"kind\":\"gauge\",\"fields\":{\"value\":1}}", 0);
    /* The same family as a counter: refused, counted, explained. */
    ck_assert_int_eq(absorb(&st, "{\"name\":\"x\",\"kind\":\"counter\",\"fields\":{\"value\":2}}", 0),
                     0);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_str_eq(st.why_refused, "x is a gauge already; an event makes it a counter");
    absorb(&st, "{\"name\":\"x\",\"kind\":\"gauge\",\"tags\":{\"k\":\"1\"},\"fields\":{\"value\":1}}",
           0);
    absorb(&st, "{\"name\":\"x\",\"kind\":\"gauge\",\"tags\":{\"k\":\"2\"},\"fields\":{\"value\":1}}",
           500);
    ck_assert_int_eq(absorb(&st, "{\"name\":\"x\",\"kind\":\"gauge\",\"tags\":{\"k\":\"3\"},"
                                 "\"fields\":{\"value\":1}}",
                            500),
                     0);
    ck_assert_uint_eq(st.refused, 2);
    ck_assert_str_eq(st.why_refused, "max_series (3) reached: x{k=\"3\"} refused");
    /* An update keeps a series alive; the others go after 1 s. */
    absorb(&st, "{\"name\":\"x\",\"kind\":\"gauge\",\"fields\":{\"value\":7}}", 900);
    px_store_expire(&st, 1200);
    ck_assert_uint_eq(st.n_series, 2);
    px_store_expire(&st, 1600);
    ck_assert_uint_eq(st.n_series, 1);
    char *t = render(&st, PX_TEXT, 0);
    ck_assert_str_eq(t, "# HELP x Metric events named x, exported by sluice.\n# TYPE x gauge\nx 7\n");
    free(t);
    px_store_expire(&st, 5000);
    ck_assert_uint_eq(st.n_fams, 0);
    /* Room again, and the family may come back as another type. */
    ck_assert_int_eq(absorb(&st, "{\"name\":\"x\",\"kind\":\"counter\",\"fields\":{\"value\":2}}",
                            5000),
                     1);
    char why[64];
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, 0, "{\"message\":\"a log event\"}");
    ck_assert_int_eq(px_store_absorb(&st, &ev.body, 0, 0, why, sizeof why), -1);
    ck_assert_str_eq(why, "not a metric event: no `name` and `fields`");
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    px_store_free(&st);
}
END_TEST

START_TEST(test_many_series)
{
    px_store st = {.max_series = 200000};
    char json[160];
    for (int i = 0; i < 20000; i++) {
        snprintf(json, sizeof json,
                 "{\"name\":\"m\",\"kind\":\"gauge\",\"tags\":{\"i\":\"%d\"},\"fields\":{\"value\":%d}}",
                 i, i);
        ck_assert_int_eq(absorb(&st, json, 0), 1);
    }
    for (int i = 0; i < 20000; i += 7) { /* updates find their series */
        snprintf(json, sizeof json,
                 "{\"name\":\"m\",\"kind\":\"gauge\",\"tags\":{\"i\":\"%d\"},\"fields\":{\"value\":1}}",
                 i);
        absorb(&st, json, 1);
    }
    ck_assert_uint_eq(st.n_series, 20000);
    char *t = render(&st, PX_TEXT, 0);
    ck_assert_ptr_nonnull(strstr(t, "\nm{i=\"19998\"} 19998\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nm{i=\"7\"} 1\n"));
    free(t);
    px_store_free(&st);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("exporter");
    TCase *tc = tcase_create("exporter");
    tcase_add_test(tc, test_kinds_and_names);
    tcase_add_test(tc, test_conflicts_bounds_expiry);
    tcase_add_test(tc, test_many_series);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

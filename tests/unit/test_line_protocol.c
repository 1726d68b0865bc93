/* Line protocol points: every escape of the reference, integer suffixes
 * for v1 and v2, precisions, log events with and without field_keys,
 * events that cannot be points, and lines read and written back as they
 * were. */
#include <check.h>
#include <string.h>

#include "../../plugins/shared/line_protocol.h"
#include "sluice/json.h"
#include "testutil.h"

#define T0 (INT64_C(1795667400123456789))

static char *
point(const lp_options *o, const char *json, int log, int *rc)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, T0, json);
    sluice_buf out = SLUICE_BUF_INIT;
    char why[256];
    *rc = lp_point(&out, o, &ev, log, why, sizeof why);
    sluice_buf_putc(&out, '\0');
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return out.data;
}

static void
expect(const lp_options *o, const char *json, int log, const char *want)
{
    int rc;
    char *got = point(o, json, log, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_metric_escapes_and_types)
{
    lp_options o = {LP_NS, 0, "logs", NULL, NULL};
    expect(&o,
           "{\"name\":\"cpu load,x\",\"kind\":\"gauge\",\"tags\":{\"host name\":\"a,b=c\","
           "\"empty\":\"\"},\"fields\":{\"f 1\":\"say \\\"hi\\\" \\\\ \\n end\",\"i\":-3,"
           "\"u\":18446744073709551615,\"b\":true,\"d\":2.5,\"n\":null}}",
           0,
           "cpu\\ load\\,x,host\\ name=a\\,b\\=c f\\ 1=\"say \\\"hi\\\" \\\\ \\n end\",i=-3i,"
           "u=1.8446744073709552e+19,b=true,d=2.5 1795667400123456789\n");
    o.unsigned_ok = 1;
    o.precision = LP_MS;
    expect(&o, "{\"name\":\"m\",\"kind\":\"counter\",\"fields\":{\"u\":18446744073709551615,\"v\":1}}", 0,
           "m u=18446744073709551615u,v=1i 1795667400123\n");
    o.precision = LP_S;
    expect(&o, "{\"name\":\"m\",\"kind\":\"gauge\",\"fields\":{\"v\":0.1}}", 0, "m v=0.1 1795667400\n");
}
END_TEST

START_TEST(test_log_points)
{
    sluice_strlist tags = {2, (char *[]){"app", "code", NULL}};
    sluice_strlist fields = {2, (char *[]){"message", "user", NULL}};
    lp_options o = {LP_US, 0, "access log", &tags, NULL};
    expect(&o, "{\"message\":\"GET /\",\"code\":503,\"app\":\"shop\",\"ms\":1.5,\"ok\":false,"
               "\"user\":\"bob\",\"deep\":{\"x\":1}}",
           1, "access\\ log,app=shop,code=503 message=\"GET /\",ms=1.5,ok=false 1795667400123456\n");
    o.field_keys = &fields;
    expect(&o, "{\"message\":\"GET /\",\"user\":\"bob\",\"ms\":1}", 1,
           "access\\ log message=\"GET /\",user=\"bob\" 1795667400123456\n");
}
END_TEST

START_TEST(test_not_points)
{
    lp_options o = {LP_NS, 0, "logs", NULL, NULL};
    int rc;
    char *got = point(&o, "{\"user\":\"bob\",\"deep\":{\"x\":1}}", 1, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(got, "");
    free(got);
    got = point(&o, "{\"name\":\"m\",\"kind\":\"gauge\",\"fields\":{\"n\":null}}", 0, &rc);
    ck_assert_int_eq(rc, -1);
    free(got);
    got = point(&o, "{\"kind\":\"gauge\",\"fields\":{\"v\":1}}", 0, &rc);
    ck_assert_int_eq(rc, -1);
    free(got);
}
END_TEST

/* What exec reads, influxdb writes back byte for byte. */
START_TEST(test_read_then_write)
{
    static const char *const lines[] = {
        "cpu\\ load\\,x,host\\ name=a\\,b\\=c,z=1 f\\ 1=\"say \\\"hi\\\" \\\\ end\",i=-3i,"
        "b=true,d=2.5 1795667400123456789\n",
        "m u=18446744073709551615u,v=1i,w=-0.5 1795667400123456789\n",
        "net,if=eth0 rx=12i,up=false 1795667400123456789\n",
    };
    lp_options o = {LP_NS, 1, "logs", NULL, NULL};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        test_event_head(&pk, T0);
        sluice_time_t t = 0;
        char err[256];
        ck_assert_msg(lp_pack(&pk, lines[i], strlen(lines[i]) - 1, 1, &t, err, sizeof err) == 0,
                      "%s: %s", lines[i], err);
        ck_assert_int_eq(t, T0);
        sluice_event_iter it;
        sluice_event ev;
        sluice_event_iter_init(&it, sb.data, sb.size);
        ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
        sluice_buf out = SLUICE_BUF_INIT;
        ck_assert_int_eq(lp_point(&out, &o, &ev, 0, err, sizeof err), 0);
        sluice_buf_putc(&out, '\0');
        ck_assert_str_eq(out.data, lines[i]);
        sluice_buf_free(&out);
        sluice_event_iter_destroy(&it);
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("line_protocol");
    TCase *tc = tcase_create("line_protocol");
    tcase_add_test(tc, test_metric_escapes_and_types);
    tcase_add_test(tc, test_log_points);
    tcase_add_test(tc, test_not_points);
    tcase_add_test(tc, test_read_then_write);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

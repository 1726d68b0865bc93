/* Graphite plaintext lines: templates with {name}, {field} and {tag:K},
 * sanitising, the tagged form, skipped non-numeric fields, bad templates. */
#include <check.h>
#include <string.h>

#include "../../plugins/out_graphite/graphite_path.h"
#include "sluice/json.h"
#include "testutil.h"

#define T0 (INT64_C(1795667400999999999))

static char *
lines(const char *tmpl, int tagged, const char *json, size_t *n, size_t *skipped)
{
    char err[128];
    gr_template *t = gr_template_parse(tmpl, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, T0, json);
    sluice_buf out = SLUICE_BUF_INIT;
    *skipped = 0;
    *n = gr_lines(&out, t, tagged, &ev, skipped);
    sluice_buf_putc(&out, '\0');
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    gr_template_free(t);
    return out.data;
}

START_TEST(test_template_and_sanitising)
{
    size_t n, skipped;
    char *s = lines("servers.{tag:host}.{name}.{field}", 0,
                    "{\"name\":\"cpu load\",\"kind\":\"gauge\",\"tags\":{\"host\":\"web.1/eu\"},"
                    "\"fields\":{\"user\":1.5,\"count\":-3,\"ok\":true,\"note\":\"x\"}}",
                    &n, &skipped);
    ck_assert_str_eq(s, "servers.web_1_eu.cpu_load.user 1.5 1795667400\n"
                        "servers.web_1_eu.cpu_load.count -3 1795667400\n");
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(skipped, 2);
    free(s);
    s = lines("{name}.{tag:missing}", 0,
              "{\"name\":\"m\",\"kind\":\"gauge\",\"fields\":{\"value\":7}}", &n, &skipped);
    ck_assert_str_eq(s, "m.none 7 1795667400\n");
    free(s);
}
END_TEST

START_TEST(test_tagged_form)
{
    size_t n, skipped;
    char *s = lines("{name}.{field}", 1,
                    "{\"name\":\"disk\",\"kind\":\"gauge\",\"tags\":{\"host\":\"a;b\",\"dc\":\"eu\"},"
                    "\"fields\":{\"used\":0.25}}",
                    &n, &skipped);
    ck_assert_str_eq(s, "disk.used;host=a_b;dc=eu 0.25 1795667400\n");
    free(s);
}
END_TEST

START_TEST(test_bad_templates)
{
    char err[128];
    ck_assert_ptr_null(gr_template_parse("a.{name", err, sizeof err));
    ck_assert_str_eq(err, "'a.{name': a { is not closed");
    ck_assert_ptr_null(gr_template_parse("{host}", err, sizeof err));
    ck_assert_str_eq(err, "'{host}': unknown {host} (use {name}, {field} or {tag:KEY})");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("graphite_path");
    TCase *tc = tcase_create("graphite_path");
    tcase_add_test(tc, test_template_and_sanitising);
    tcase_add_test(tc, test_tagged_form);
    tcase_add_test(tc, test_bad_templates);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

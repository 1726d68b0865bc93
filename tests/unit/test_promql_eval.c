/* The PromQL evaluator's own pieces that the promtool comparison
 * (integration.promql_vs_promtool) does not isolate: Go's float format,
 * the template subset and its errors, the store's trimming and labels. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promql_eval.h"
#include "promql_metric.h"
#include "rules.h"
#include "testutil.h"

static void
go(double v, const char *want)
{
    char got[64];
    pq_format_float(v, got, sizeof got);
    ck_assert_msg(strcmp(got, want) == 0, "%.17g: want %s, got %s", v, want, got);
}

START_TEST(test_go_float_format)
{
    go(0, "0");
    go(1, "1");
    go(-2.5, "-2.5");
    go(123456, "123456");
    go(1e6, "1e+06");
    go(1234567, "1.234567e+06");
    go(0.0001, "0.0001");
    go(0.00001, "1e-05");
    go(0.1 + 0.2, "0.30000000000000004");
    go(1.0 / 60, "0.016666666666666666");
    go(1e21, "1e+21");
    go(NAN, "NaN");
    go(INFINITY, "+Inf");
    go(-INFINITY, "-Inf");
}
END_TEST

static void
tmpl(const char *t, double value, const char *want)
{
    pq_lset labels = {0};
    ck_assert_int_eq(pq_lset_parse("up{instance=\"db-1\", job=\"node\"}", &labels, NULL, 0), 0);
    char *ext_kv[] = {"cluster", "eu1"};
    pq_lset ext = {ext_kv, 1};
    pq_template_env env = {&ext, "http://x:2020", NULL};
    char *got = pq_template_render(t, &labels, value, &env);
    ck_assert_msg(strcmp(got, want) == 0, "'%s': want '%s', got '%s'", t, want, got);
    free(got);
    pq_lset_free(&labels);
}

START_TEST(test_template_subset)
{
    tmpl("{{ $labels.instance }} of {{ .Labels.job }} is {{ $value }}", 0.5,
         "db-1 of node is 0.5");
    tmpl("{{ $value | humanize }} {{ humanize 0.002 }} {{ humanize1024 2048 }}", 1234567,
         "1.235M 2m 2ki");
    tmpl("{{ humanizePercentage 0.256 }} {{ humanizeDuration 90061 }} {{ humanizeDuration 0.5 }}",
         0, "25.6% 1d 1h 1m 1s 500ms");
    tmpl("{{ printf \"%.2f|%5.1f|%d|%s|%v\" $value $value 3 $labels.job $value }}", 3.14159,
         "3.14|  3.1|3|node|3.14159");
    tmpl("{{ printf \"%.4000000000f|%3000000d|%5.2f\" $value 1 $value }}", 1.5,
         "%!(BADPREC)|%!(BADWIDTH)| 1.50");
    tmpl("{{ printf \"%900000d\" 1 }}{{ printf \"%900000d\" 2 }}", 0,
         "<error expanding template: expansion longer than 1048576 bytes>");
    tmpl("{{ if $value }}on{{ else }}off{{ end }} {{ if $labels.nope }}x{{ else }}y{{ end }}", 1,
         "on y");
    tmpl("a  {{- $labels.job -}}  b {{/* a comment */}}", 0, "anodeb ");
    tmpl("{{ $externalLabels.cluster }} {{ $externalURL }} {{ $labels.job | toUpper }}", 0,
         "eu1 http://x:2020 NODE");
    tmpl("{{ $labels.missing }}|", 0, "|");
    tmpl("{{ range $labels }}x{{ end }}", 0,
         "<error expanding template: 'range $labels' is outside the template subset sluice "
         "supports>");
    tmpl("{{ frobnicate $value }}", 0,
         "<error expanding template: function \"frobnicate\" not defined (sluice supports printf, "
         "humanize, humanize1024, humanizePercentage, humanizeDuration, toUpper, toLower, "
         "title)>");
    char err[256];
    ck_assert_int_eq(pq_template_check("{{ $value", 0, err, sizeof err), -1);
    ck_assert_str_eq(err, "unclosed action");
    ck_assert_int_eq(pq_template_check("{{ if $value }}x", 0, err, sizeof err), -1);
    ck_assert_int_eq(pq_template_check("{{ $value | humanize }}", 0, err, sizeof err), 0);
    ck_assert_int_eq(pq_template_check("{{ $annotations.summary }}", 0, err, sizeof err), -1);
    ck_assert_int_eq(pq_template_check("{{ $annotations.summary }}", 1, err, sizeof err), 0);
    pq_lset ann = {0};
    ck_assert_int_eq(pq_lset_parse("{summary=\"disk full\"}", &ann, NULL, 0), 0);
    pq_template_env env = {NULL, NULL, &ann};
    char *s = pq_template_render("{{ .Annotations.summary | toUpper }}", &ann, 0, &env);
    ck_assert_str_eq(s, "DISK FULL");
    free(s);
    pq_lset_free(&ann);
}
END_TEST

START_TEST(test_store_trim_and_labels)
{
    pq_store st = {0};
    pq_lset a = {0}, b = {0};
    ck_assert_int_eq(pq_lset_parse("x{k=\"1\"}", &a, NULL, 0), 0);
    ck_assert_int_eq(pq_lset_parse("{k=\"2\", __name__=\"x\"}", &b, NULL, 0), 0);
    char *s = pq_lset_string(&b);
    ck_assert_str_eq(s, "x{k=\"2\"}");
    free(s);
    pq_series *sa = pq_store_series(&st, &a);
    ck_assert_ptr_eq(pq_store_series(&st, &a), sa);
    pq_series *sb = pq_store_series(&st, &b);
    ck_assert_ptr_ne(sa, sb);
    for (int64_t t = 0; t < 10; t++)
        pq_series_append(sa, t * 1000, (double)t);
    pq_series_append(sa, 5000, 99); /* not newer: refused */
    pq_series_append(sb, 1000, 1);
    ck_assert_uint_eq(sa->n, 10);
    pq_store_trim(&st, 5000);
    ck_assert_uint_eq(st.n, 1);
    ck_assert_uint_eq(sa->n, 5);
    ck_assert_int_eq(sa->s[0].t, 5000);
    ck_assert_ptr_eq(pq_store_series(&st, &a), sa);
    ck_assert(pq_is_stale(pq_stale()) && isnan(pq_stale()) && !pq_is_stale(NAN));
    char err[128];
    pq_lset bad;
    ck_assert_int_eq(pq_lset_parse("x{k=~\"1\"}", &bad, err, sizeof err), -1);
    pq_lset_free(&a);
    pq_lset_free(&b);
    pq_store_free(&st);
}
END_TEST

static void
collect(void *arg, const pq_lset *l, double v)
{
    sluice_buf *b = arg;
    char *s = pq_lset_string(l);
    sluice_buf_printf(b, "%s %g\n", s, v);
    free(s);
}

static char *
samples_of(const char *json, int *n)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, 0, json);
    sluice_buf b = SLUICE_BUF_INIT;
    *n = pq_metric_samples(&ev.body, collect, &b);
    sluice_buf_putc(&b, '\0');
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return b.data;
}

START_TEST(test_metric_events_as_samples)
{
    int n;
    char *s = samples_of("{\"name\":\"http.req\",\"kind\":\"histogram\",\"tags\":{\"zone\":\"b\","
                         "\"a-b\":\"1\",\"le\":\"x\",\"__name__\":\"y\",\"empty\":\"\",\"9\":\"n\"},"
                         "\"fields\":{\"count\":4,\"sum\":2.5,\"bucket_0.5\":1,\"bucket_+Inf\":4,"
                         "\"value\":7,\"ok\":true,\"note\":\"text\",\"rate/s\":0.25}}",
                         &n);
    ck_assert_int_eq(n, 7);
    ck_assert_str_eq(s, "http_req_count{_9=\"n\", a_b=\"1\", zone=\"b\"} 4\n"
                        "http_req_sum{_9=\"n\", a_b=\"1\", zone=\"b\"} 2.5\n"
                        "http_req_bucket{_9=\"n\", a_b=\"1\", le=\"0.5\", zone=\"b\"} 1\n"
                        "http_req_bucket{_9=\"n\", a_b=\"1\", le=\"+Inf\", zone=\"b\"} 4\n"
                        "http_req{_9=\"n\", a_b=\"1\", zone=\"b\"} 7\n"
                        "http_req_ok{_9=\"n\", a_b=\"1\", zone=\"b\"} 1\n"
                        "http_req_rate_s{_9=\"n\", a_b=\"1\", zone=\"b\"} 0.25\n");
    free(s);
    /* Many labels: past the stack's room, the same. */
    sluice_buf j = SLUICE_BUF_INIT;
    sluice_buf_printf(&j, "{\"name\":\"m\",\"tags\":{");
    for (int i = 0; i < 40; i++)
        sluice_buf_printf(&j, "%s\"k%02d\":\"%0100d\"", i ? "," : "", 39 - i, i);
    sluice_buf_printf(&j, "},\"fields\":{\"value\":1}}");
    sluice_buf_putc(&j, '\0');
    s = samples_of(j.data, &n);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(strncmp(s, "m{k00=\"", 7), 0);
    ck_assert_uint_eq(strlen(s), 2 + 40 * 106 + 39 * 2 + 1 + 3); /* k00="<100 digits>", ... */
    free(s);
    sluice_buf_free(&j);
    s = samples_of("{\"message\":\"a log\"}", &n);
    ck_assert_int_eq(n, -1);
    free(s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("promql_eval");
    TCase *tc = tcase_create("promql_eval");
    tcase_add_test(tc, test_go_float_format);
    tcase_add_test(tc, test_metric_events_as_samples);
    tcase_add_test(tc, test_template_subset);
    tcase_add_test(tc, test_store_trim_and_labels);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

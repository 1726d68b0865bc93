/* Prometheus's exposition formats read by the scrape input: the examples
 * of the text format's and OpenMetrics's documentation, families and
 * suffixes, escapes, timestamps in both units, exemplars, and errors that
 * name their line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_prometheus_scrape/exposition.h"
#include "sluice/buf.h"
#include "testutil.h"

static const char *const types[] = {"unknown", "counter", "gauge", "histogram",
                                    "gaugehistogram", "summary", "info", "stateset"};

static void
dump(void *arg, const exp_sample *s)
{
    sluice_buf *b = arg;
    sluice_buf_printf(b, "%s/%s %s{", s->family, types[s->type], s->name);
    for (size_t i = 0; i < s->n_labels; i++)
        sluice_buf_printf(b, "%s%s=[%s]", i ? "," : "", s->labels[i].name, s->labels[i].value);
    sluice_buf_printf(b, "} %g", s->value);
    if (s->has_time)
        sluice_buf_printf(b, " @%lld", (long long)s->time_ms);
    sluice_buf_putc(b, '\n');
}

static char *
parse(const char *text, int om, long *n, char *err)
{
    sluice_buf b = SLUICE_BUF_INIT;
    *n = exp_parse(text, strlen(text), om, dump, &b, err, 256);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

START_TEST(test_text_format)
{
    char err[256];
    long n;
    char *s = parse("# HELP http_requests_total The total.\n"
                    "# TYPE http_requests_total counter\n"
                    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
                    "  http_requests_total{method=\"post\",code=\"400\",}    3 1395066363000\n"
                    "\n"
                    "msdos{path=\"C:\\\\DIR\\\\F.TXT\",error=\"Cannot find:\\n\\\"F\\\"\"} 1.458255915e9\n"
                    "# a comment\n"
                    "metric_without_labels +Inf\n"
                    "# TYPE rpc_seconds summary\n"
                    "rpc_seconds{quantile=\"0.5\"} 4773\n"
                    "rpc_seconds_sum 1.7560473e+07\n"
                    "rpc_seconds_count 2693\n"
                    "# TYPE lat histogram\n"
                    "lat_bucket{le=\"0.05\"} 24054\n"
                    "lat_bucket{le=\"+Inf\"} 144320\n"
                    "lat_sum 53423\n"
                    "lat_count 144320\n"
                    "lat_other NaN\n",
                    0, &n, err);
    ck_assert_int_eq(n, 12);
    ck_assert_str_eq(
        s, "http_requests_total/counter http_requests_total{method=[post],code=[200]} 1027 "
           "@1395066363000\n"
           "http_requests_total/counter http_requests_total{method=[post],code=[400]} 3 "
           "@1395066363000\n"
           "msdos/unknown msdos{path=[C:\\DIR\\F.TXT],error=[Cannot find:\n\"F\"]} 1.45826e+09\n"
           "metric_without_labels/unknown metric_without_labels{} inf\n"
           "rpc_seconds/summary rpc_seconds{quantile=[0.5]} 4773\n"
           "rpc_seconds/summary rpc_seconds_sum{} 1.75605e+07\n"
           "rpc_seconds/summary rpc_seconds_count{} 2693\n"
           "lat/histogram lat_bucket{le=[0.05]} 24054\n"
           "lat/histogram lat_bucket{le=[+Inf]} 144320\n"
           "lat/histogram lat_sum{} 53423\n"
           "lat/histogram lat_count{} 144320\n"
           "lat_other/unknown lat_other{} nan\n");
    free(s);
}
END_TEST

START_TEST(test_openmetrics)
{
    char err[256];
    long n;
    char *s = parse("# TYPE req_seconds histogram\n"
                    "# UNIT req_seconds seconds\n"
                    "# HELP req_seconds Latency.\n"
                    "req_seconds_bucket{le=\"0.1\"} 9 # {trace_id=\"KOO5S4vxi0o\"} 0.067\n"
                    "req_seconds_bucket{le=\"+Inf\"} 10\n"
                    "req_seconds_sum 9036.32\n"
                    "req_seconds_count 10\n"
                    "req_seconds_created 1605281325.0\n"
                    "# TYPE foo counter\n"
                    "foo_total 17.0 1520879607.789\n"
                    "foo_created 1520430000.123\n"
                    "# TYPE build info\n"
                    "build_info{version=\"1.2\"} 1\n"
                    "# EOF\n",
                    1, &n, err);
    ck_assert_msg(n == 8, "%s", err);
    ck_assert_str_eq(s, "req_seconds/histogram req_seconds_bucket{le=[0.1]} 9\n"
                        "req_seconds/histogram req_seconds_bucket{le=[+Inf]} 10\n"
                        "req_seconds/histogram req_seconds_sum{} 9036.32\n"
                        "req_seconds/histogram req_seconds_count{} 10\n"
                        "req_seconds/histogram req_seconds_created{} 1.60528e+09\n"
                        "foo/counter foo_total{} 17 @1520879607789\n"
                        "foo/counter foo_created{} 1.52043e+09\n"
                        "build/info build_info{version=[1.2]} 1\n");
    free(s);
    ck_assert_str_eq(exp_suffix("req_seconds_bucket", "req_seconds", EXP_HISTOGRAM, 1), "_bucket");
    ck_assert_ptr_null(exp_suffix("req_seconds_total", "req_seconds", EXP_HISTOGRAM, 1));
}
END_TEST

static void
bad(const char *text, int om, const char *want)
{
    char err[256];
    long n = exp_parse(text, strlen(text), om, NULL, NULL, err, sizeof err);
    ck_assert_int_eq(n, -1);
    ck_assert_str_eq(err, want);
}

START_TEST(test_errors_name_their_line)
{
    bad("a 1\nb{x=\"1\" 2\n", 0, "line 2: ',' or '}' expected after label x");
    bad("a 1\n\n9a 1\n", 0, "line 3: a metric name expected");
    bad("a one\n", 0, "line 1: 'one' is not a number");
    bad("a 1 12.5\n", 0, "line 1: '12.5' is not a timestamp");
    bad("a{x=\"\\t\"} 1\n", 0, "line 1: label x: an escape other than \\\\, \\\" or \\n");
    bad("a{x=\"1\",x=\"2\"} 1\n", 0, "line 1: label x twice");
    bad("# TYPE a rainbow\n", 0, "line 1: unknown type 'rainbow'");
    bad("a1\n", 0, "line 1: a space and a value expected after a1");
    bad("a 1 2 3\n", 0, "line 1: unexpected '3' after the value");
    bad("a 1\n", 1, "line 2: no # EOF at the end (OpenMetrics)");
    bad("a 1\n# EOF\nb 2\n", 1, "line 3: text after # EOF");
    bad("a{x=\"1 1\n", 0, "line 1: label x: a quoted value expected");
    char nul[] = "a 1\nb\0 2\n";
    char err[256];
    ck_assert_int_eq(exp_parse(nul, sizeof nul - 1, 0, NULL, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "line 2: a NUL byte");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("exposition");
    TCase *tc = tcase_create("exposition");
    tcase_add_test(tc, test_text_format);
    tcase_add_test(tc, test_openmetrics);
    tcase_add_test(tc, test_errors_name_their_line);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

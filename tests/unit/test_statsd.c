/* The statsd input's parser and aggregation store: every line form, sample
 * rates, gauge deltas, tags in both styles, percentiles, histogram
 * buckets, sets, delete_* semantics, max_series, expire_after and
 * malformed lines. Events are compared as the JSON the file output
 * writes. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_statsd/statsd_agg.h"
#include "../../plugins/in_statsd/statsd_parse.h"
#include "sluice/buf.h"
#include "sluice/format.h"
#include "testutil.h"

#define SEC SLUICE_NSEC_PER_SEC

static const double default_percentiles[] = {50, 90, 99};
static const double default_buckets[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

static statsd_agg_config
defaults(void)
{
    return (statsd_agg_config){
        .percentiles = default_percentiles,
        .n_percentiles = 3,
        .buckets = default_buckets,
        .n_buckets = 11,
        .max_timer_samples = 1000,
        .max_set_values = 100000,
        .max_series = 100000,
        .delete_counters = 1,
        .delete_gauges = 1,
        .delete_timings = 1,
        .delete_sets = 1,
    };
}

/* ==== Parsing ==== */

/* A parsed line as text: name{k=v,...} then type:value@rate per value. */
static char *
parsed(const char *text)
{
    static statsd_line l;
    char err[160] = "";
    sluice_buf b = SLUICE_BUF_INIT;
    int r = statsd_parse_line(text, strlen(text), &l, err, sizeof err);
    if (r != STATSD_LINE_OK) {
        sluice_buf_printf(&b, "%s: %s", r == STATSD_LINE_BAD ? "bad" : "unsupported", err);
    } else {
        sluice_buf_printf(&b, "%.*s{", (int)l.name.n, l.name.p);
        for (size_t i = 0; i < l.n_tags; i++)
            sluice_buf_printf(&b, "%s%.*s=%.*s", i ? "," : "", (int)l.tags[i].key.n,
                              l.tags[i].key.p, (int)l.tags[i].value.n, l.tags[i].value.p);
        sluice_buf_printf(&b, "}");
        for (size_t i = 0; i < l.n_values; i++) {
            const statsd_value *v = &l.values[i];
            if (v->type == STATSD_SET)
                sluice_buf_printf(&b, " set:%.*s", (int)v->text.n, v->text.p);
            else
                sluice_buf_printf(&b, " %s:%s%.17g", statsd_type_names[v->type],
                                  v->delta ? "delta" : "", v->value);
            if (v->rate != 1)
                sluice_buf_printf(&b, "@%g", v->rate);
        }
    }
    sluice_buf_putc(&b, '\0');
    return b.data;
}

#define ck_parsed(line, want)                                                                      \
    do {                                                                                           \
        char *got_ = parsed(line);                                                                 \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

START_TEST(test_line_forms)
{
    ck_parsed("deploys.test:1|c", "deploys.test{} counter:1");
    ck_parsed("deploys.test:101|c", "deploys.test{} counter:101");
    ck_parsed("deploys.test:1|c|@0.1", "deploys.test{} counter:1@0.1");
    ck_parsed("users.current:32|g", "users.current{} gauge:32");
    ck_parsed("users.current:+10|g", "users.current{} gauge:delta10");
    ck_parsed("users.current:-10|g", "users.current{} gauge:delta-10");
    ck_parsed("load.time:320|ms", "load.time{} timing:320");
    ck_parsed("load.time:200.5|ms|@0.1", "load.time{} timing:200.5@0.1");
    ck_parsed("load.size:1|h", "load.size{} timing:1");
    ck_parsed("load.dist:7|d", "load.dist{} timing:7");
    ck_parsed("users.unique:bob|s", "users.unique{} set:bob");
    ck_parsed("users.unique:101|s", "users.unique{} set:101");
    /* DogStatsD's multi-value form, and Telegraf's value|type pairs. */
    ck_parsed("t:1:2:3.5|ms|@0.5", "t{} timing:1@0.5 timing:2@0.5 timing:3.5@0.5");
    ck_parsed("foo:1|c:200|ms", "foo{} counter:1 timing:200");
    ck_parsed("g:32|g:+10|g:-10|g", "g{} gauge:32 gauge:delta10 gauge:delta-10");
    ck_parsed("d:1|c:101|c:1|c|@0.1", "d{} counter:1 counter:101 counter:1@0.1");
    /* Tags, both styles, sorted, the last of a key winning. */
    ck_parsed("cpu,host=a,dc=eu:1|c", "cpu{dc=eu,host=a} counter:1");
    ck_parsed("page.views:1|c|#env:prod,url:http://x/y?a=b,canary",
              "page.views{canary=true,env=prod,url=http://x/y?a=b} counter:1");
    ck_parsed("m,b=1:1|c|#a:2,b:3", "m{a=2,b=3} counter:1");
    ck_parsed("m:1|c|@0.5|#z:1,,a:", "m{a=,z=1} counter:1@0.5");
    ck_parsed("m:1|g|#t:v|c:83ee4c5f|T1656581400", "m{t=v} gauge:1");
    ck_parsed("m:5|ms|T1656581400", "m{} timing:5");
    /* Numbers. */
    ck_parsed("n:0.1|g", "n{} gauge:0.10000000000000001");
    ck_parsed("n:1e3|c", "n{} counter:1000");
    ck_parsed("n:.5|ms", "n{} timing:0.5");
    ck_parsed("n:-2.25e-1|ms", "n{} timing:-0.22500000000000001");
    ck_parsed("n:123456789012345678901234|c", "n{} counter:1.2345678901234569e+23");
    ck_parsed("n:0.000001234|g", "n{} gauge:1.234e-06");
    /* Names are kept as sent. */
    ck_parsed("My Metric/x-y:1|c", "My Metric/x-y{} counter:1");
}
END_TEST

START_TEST(test_malformed_lines)
{
    ck_parsed("no colon here", "bad: no ':' after the name");
    ck_parsed(":1|c", "bad: no name before ':'");
    ck_parsed("a:1", "bad: no '|type' after the value");
    ck_parsed("a:1|x", "bad: unknown type 'x' (c, g, ms, h, d or s)");
    ck_parsed("a:1|", "bad: unknown type '' (c, g, ms, h, d or s)");
    ck_parsed("a:|c", "bad: an empty value");
    ck_parsed("a:1::2|ms", "bad: an empty value");
    ck_parsed("a:abc|c", "bad: value 'abc' is not a finite number");
    ck_parsed("a:inf|g", "bad: value 'inf' is not a finite number");
    ck_parsed("a:nan|ms", "bad: value 'nan' is not a finite number");
    ck_parsed("a:1e999|ms", "bad: value '1e999' is not a finite number");
    ck_parsed("a:0x10|c", "bad: value '0x10' is not a finite number");
    ck_parsed("a:1.2.3|c", "bad: value '1.2.3' is not a finite number");
    ck_parsed("a:+|g", "bad: value '+' is not a finite number");
    ck_parsed("a:1|c|@0", "bad: sample rate '@0' is not in (0, 1]");
    ck_parsed("a:1|c|@1.5", "bad: sample rate '@1.5' is not in (0, 1]");
    ck_parsed("a:1|c|@x", "bad: sample rate '@x' is not in (0, 1]");
    ck_parsed("a:1|c|x", "bad: unknown field '|x'");
    ck_parsed("a:1|c|#t:1|#u:2", "bad: a second '|#' tag section");
    ck_parsed("a:1|c|#:v", "bad: a tag without a name");
    ck_parsed("a,host:1|c", "bad: tag 'host' in the name has no '='");
    ck_parsed("a,host=:1|c", "bad: tag 'host' in the name has no value");
    ck_parsed("a,=x:1|c", "bad: a tag without a name");
    ck_parsed("a:1|c|T", "bad: timestamp field '|T' without a number");
    ck_parsed("a:1|c|Tx", "bad: timestamp field '|T' without a number");
    ck_parsed("_e{5,4}:title|text|#t:1", "unsupported: a DogStatsD event");
    ck_parsed("_sc|svc|0|#t:1", "unsupported: a DogStatsD service check");

    /* Too many tags or values: the whole line is refused. */
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_printf(&b, "a:1|c|#");
    for (int i = 0; i <= STATSD_MAX_TAGS; i++)
        sluice_buf_printf(&b, "%st%d:v", i ? "," : "", i);
    sluice_buf_putc(&b, '\0');
    ck_parsed(b.data, "bad: more than 64 tags");
    sluice_buf_reset(&b);
    sluice_buf_printf(&b, "a:1");
    for (int i = 0; i < STATSD_MAX_VALUES; i++)
        sluice_buf_printf(&b, ":1");
    sluice_buf_printf(&b, "|ms");
    sluice_buf_putc(&b, '\0');
    ck_parsed(b.data, "bad: more than 128 values in one line");
    sluice_buf_free(&b);

    /* A bad value late in a line keeps none of it. */
    statsd_line l;
    char err[160];
    ck_assert_int_eq(statsd_parse_line("a:1|c:2|c:x|c", 13, &l, err, sizeof err), STATSD_LINE_BAD);
    ck_assert_str_eq(err, "value 'x' is not a finite number");

    double d;
    ck_assert_int_eq(statsd_parse_number("", 0, &d), -1);
    ck_assert_int_eq(statsd_parse_number("1e", 2, &d), -1);
    ck_assert_int_eq(statsd_parse_number("1 ", 2, &d), -1);
    ck_assert_int_eq(statsd_parse_number("-0.5e+2", 7, &d), 0);
    ck_assert(d == -50);
}
END_TEST

/* ==== Aggregating ==== */

static void
feed(statsd_agg *a, const char *text)
{
    static statsd_line l;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char err[160] = "";
        int r = statsd_parse_line(p, n, &l, err, sizeof err);
        ck_assert_msg(r == STATSD_LINE_OK, "%.*s: %s", (int)n, p, err);
        statsd_agg_add(a, &l);
        p += n + (nl != NULL);
    }
}

static msgpack_packer test_pk;

static msgpack_packer *
test_begin(void *arg, sluice_time_t t)
{
    msgpack_packer_init(&test_pk, arg, msgpack_sbuffer_write);
    test_event_head(&test_pk, t);
    return &test_pk;
}

static void
test_end(void *arg)
{
    (void)arg;
}

static int
cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Flush at `now` and return the events as JSON lines (without their time),
 * sorted; *n gets the count flush returned. */
static char *
flush_json(statsd_agg *a, sluice_time_t now, size_t *n)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    statsd_sink sink = {test_begin, test_end, &sb};
    size_t emitted = statsd_agg_flush(a, now, &sink);
    if (n)
        *n = emitted;
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_format_opts o = {.format = SLUICE_FORMAT_JSON, .time_key = NULL};
    int bad = 0;
    size_t got = sluice_format_events(&out, &o, sb.data, sb.size, &bad);
    ck_assert_int_eq(bad, 0);
    ck_assert_uint_eq(got, emitted);
    msgpack_sbuffer_destroy(&sb);
    sluice_buf_putc(&out, '\0');
    char **lines = calloc(got + 1, sizeof *lines);
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(out.data, "\n", &save); t;
         t = strtok_r(NULL, "\n", &save))
        lines[k++] = t;
    qsort(lines, k, sizeof *lines, cmp_line);
    sluice_buf res = SLUICE_BUF_INIT;
    for (size_t i = 0; i < k; i++)
        sluice_buf_printf(&res, "%s\n", lines[i]);
    sluice_buf_putc(&res, '\0');
    free(lines);
    sluice_buf_free(&out);
    return res.data;
}

#define ck_flush(a, now, want)                                                                     \
    do {                                                                                           \
        char *got_ = flush_json(a, now, NULL);                                                     \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

START_TEST(test_counters)
{
    statsd_agg_config c = defaults();
    statsd_agg *a = statsd_agg_new(&c);
    feed(a, "hits:1|c\nhits:2|c|@0.5\nhits:1|c|@0.1\nother:3|c\nhits:1|c:1|c");
    ck_flush(a, 10 * SEC,
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":17}}\n"
             "{\"name\":\"other\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":3}}\n");
    /* Cumulative: the total goes on; an idle counter is not emitted but
     * keeps its total (delete_counters). */
    feed(a, "hits:3|c");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":20}}\n");
    feed(a, "other:1|c");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"other\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":4}}\n");
    ck_flush(a, 40 * SEC, "");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 2);
    statsd_agg_free(a);

    /* Delta, and delete_counters: false emits 0 for the idle one. */
    c.counters_delta = 1;
    c.delete_counters = 0;
    a = statsd_agg_new(&c);
    feed(a, "hits:1.5|c\nhits:2|c\nother:1|c|@0.25");
    ck_flush(a, 10 * SEC,
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":3.5}}\n"
             "{\"name\":\"other\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":4}}\n");
    feed(a, "hits:1|c");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":1}}\n"
             "{\"name\":\"other\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":0}}\n");
    statsd_agg_free(a);

    /* Delta with delete_counters: the idle one is gone. */
    c.delete_counters = 1;
    a = statsd_agg_new(&c);
    feed(a, "hits:1|c\nother:1|c");
    size_t n;
    free(flush_json(a, 10 * SEC, &n));
    ck_assert_uint_eq(n, 2);
    feed(a, "hits:1|c");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 1);
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_gauges)
{
    statsd_agg_config c = defaults();
    statsd_agg *a = statsd_agg_new(&c);
    feed(a, "g:32|g\ng:+10|g\ng:-4.5|g\nh:-3|g\nk:5|g:+1|g|#x:y");
    ck_flush(a, 10 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":37.5}}\n"
             "{\"name\":\"h\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":-3}}\n"
             "{\"name\":\"k\",\"kind\":\"gauge\",\"tags\":{\"x\":\"y\"},\"fields\":{\"value\":6}}"
             "\n");
    /* delete_gauges: an idle gauge is not emitted and forgotten, so a
     * later delta starts from 0 (as in Telegraf). */
    feed(a, "g:1|g");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    feed(a, "h:+2|g\ng:+1|g");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":2}}\n"
             "{\"name\":\"h\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":2}}\n");
    statsd_agg_free(a);

    c.delete_gauges = 0;
    a = statsd_agg_new(&c);
    feed(a, "g:7|g\nh:1|g");
    free(flush_json(a, 10 * SEC, NULL));
    feed(a, "h:+2|g");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":7}}\n"
             "{\"name\":\"h\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":3}}\n");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":7}}\n"
             "{\"name\":\"h\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":3}}\n");
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_timer_summary)
{
    static const double pct[] = {50, 90, 99, 99.9, 100};
    statsd_agg_config c = defaults();
    c.percentiles = pct;
    c.n_percentiles = 5;
    statsd_agg *a = statsd_agg_new(&c);
    sluice_buf b = SLUICE_BUF_INIT;
    for (int i = 100; i >= 1; i--) /* out of order on purpose */
        sluice_buf_printf(&b, "lat:%d|ms\n", i);
    sluice_buf_printf(&b, "r:10|ms|@0.5\nr:20|ms|@0.5\none:7|h");
    sluice_buf_putc(&b, '\0');
    feed(a, b.data);
    sluice_buf_free(&b);
    ck_flush(a, 10 * SEC,
             "{\"name\":\"lat\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":100,"
             "\"sum\":5050,\"lower\":1,\"upper\":100,\"mean\":50.5,"
             "\"stddev\":28.86607004772212,\"median\":50.5,\"p50\":50,\"p90\":90,\"p99\":99,"
             "\"p99_9\":100,\"p100\":100}}\n"
             "{\"name\":\"one\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":1,\"sum\":7,"
             "\"lower\":7,\"upper\":7,\"mean\":7,\"stddev\":0,\"median\":7,\"p50\":7,\"p90\":7,"
             "\"p99\":7,\"p99_9\":7,\"p100\":7}}\n"
             "{\"name\":\"r\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":4,\"sum\":60,"
             "\"lower\":10,\"upper\":20,\"mean\":15,\"stddev\":5,\"median\":15,\"p50\":10,"
             "\"p90\":20,\"p99\":20,\"p99_9\":20,\"p100\":20}}\n");
    /* delete_timings: each interval afresh, idle ones not emitted. */
    feed(a, "one:3|ms");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"one\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":1,\"sum\":3,"
             "\"lower\":3,\"upper\":3,\"mean\":3,\"stddev\":0,\"median\":3,\"p50\":3,\"p90\":3,"
             "\"p99\":3,\"p99_9\":3,\"p100\":3}}\n");
    statsd_agg_free(a);

    /* delete_timings: false accumulates and emits at every flush. */
    c = defaults();
    c.delete_timings = 0;
    a = statsd_agg_new(&c);
    feed(a, "t:1|ms\nt:3|ms");
    free(flush_json(a, 10 * SEC, NULL));
    ck_flush(a, 20 * SEC,
             "{\"name\":\"t\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":2,\"sum\":4,"
             "\"lower\":1,\"upper\":3,\"mean\":2,\"stddev\":1,\"median\":2,\"p50\":1,\"p90\":3,"
             "\"p99\":3}}\n");
    feed(a, "t:5|ms");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"t\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"count\":3,\"sum\":9,"
             "\"lower\":1,\"upper\":5,\"mean\":3,\"stddev\":1.632993161855452,\"median\":3,"
             "\"p50\":3,\"p90\":5,\"p99\":5}}\n");
    statsd_agg_free(a);
}
END_TEST

/* Past max_timer_samples, percentiles come from a uniform sample but
 * count, sum, lower, upper and mean stay exact. */
START_TEST(test_timer_reservoir)
{
    statsd_agg_config c = defaults();
    c.max_timer_samples = 100;
    statsd_agg *a = statsd_agg_new(&c);
    sluice_buf b = SLUICE_BUF_INIT;
    for (int i = 1; i <= 10000; i++)
        sluice_buf_printf(&b, "t:%d|ms\n", i);
    b.data[b.len - 1] = '\0';
    feed(a, b.data);
    sluice_buf_free(&b);
    char *got = flush_json(a, 10 * SEC, NULL);
    ck_assert_msg(strstr(got, "\"count\":10000,\"sum\":50005000,\"lower\":1,\"upper\":10000,"
                              "\"mean\":5000.5,") != NULL,
                  "%s", got);
    double p50 = atof(strstr(got, "\"p50\":") + 6), p90 = atof(strstr(got, "\"p90\":") + 6);
    ck_assert_msg(p50 > 3500 && p50 < 6500, "p50 %g", p50);
    ck_assert_msg(p90 > 8000 && p90 <= 10000, "p90 %g", p90);
    free(got);
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_timer_histogram)
{
    static const double bounds[] = {10, 100, 0.5e3};
    statsd_agg_config c = defaults();
    c.timer_histogram = 1;
    c.buckets = bounds;
    c.n_buckets = 3;
    statsd_agg *a = statsd_agg_new(&c);
    feed(a, "rt:5|ms\nrt:10|ms\nrt:50|ms\nrt:100|ms\nrt:5000|ms\nrt:20|ms|@0.5\nidle:1|ms");
    const char *first =
        "{\"name\":\"idle\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":1,\"sum\":1,"
        "\"bucket_10\":1,\"bucket_100\":1,\"bucket_500\":1,\"bucket_+Inf\":1}}\n"
        "{\"name\":\"rt\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":7,\"sum\":5205,"
        "\"bucket_10\":2,\"bucket_100\":6,\"bucket_500\":6,\"bucket_+Inf\":7}}\n";
    ck_flush(a, 10 * SEC, first);
    /* Cumulative, as Prometheus's histograms; idle ones not emitted. */
    feed(a, "rt:400|ms");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"rt\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":8,"
             "\"sum\":5605,\"bucket_10\":2,\"bucket_100\":6,\"bucket_500\":7,\"bucket_+Inf\":8}}"
             "\n");
    feed(a, "idle:1000|ms");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"idle\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":2,"
             "\"sum\":1001,\"bucket_10\":1,\"bucket_100\":1,\"bucket_500\":1,\"bucket_+Inf\":2}}"
             "\n");
    statsd_agg_free(a);

    c.delete_timings = 0;
    a = statsd_agg_new(&c);
    feed(a, "rt:5|ms\nidle:1|ms");
    free(flush_json(a, 10 * SEC, NULL));
    feed(a, "rt:50|ms");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"idle\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":1,"
             "\"sum\":1,\"bucket_10\":1,\"bucket_100\":1,\"bucket_500\":1,\"bucket_+Inf\":1}}\n"
             "{\"name\":\"rt\",\"kind\":\"histogram\",\"tags\":{},\"fields\":{\"count\":2,"
             "\"sum\":55,\"bucket_10\":1,\"bucket_100\":2,\"bucket_500\":2,\"bucket_+Inf\":2}}\n");
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_sets)
{
    statsd_agg_config c = defaults();
    statsd_agg *a = statsd_agg_new(&c);
    feed(a, "u:bob|s\nu:alice|s\nu:bob|s\nu:101|s:102|s\nu:101|s\nv:x|s|@0.1");
    ck_flush(a, 10 * SEC,
             "{\"name\":\"u\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":4}}\n"
             "{\"name\":\"v\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    feed(a, "u:bob|s");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"u\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    statsd_agg_free(a);

    /* delete_sets: false counts members since the set appeared. */
    c.delete_sets = 0;
    c.max_set_values = 3;
    a = statsd_agg_new(&c);
    feed(a, "u:a|s\nu:b|s\nw:z|s");
    free(flush_json(a, 10 * SEC, NULL));
    feed(a, "u:a|s\nu:c|s\nu:d|s\nu:e|s");
    ck_flush(a, 20 * SEC,
             "{\"name\":\"u\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":3}}\n"
             "{\"name\":\"w\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->set_values_refused, 2);
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_tags_and_series)
{
    char *add[] = {"region", "eu", "env", "default", NULL};
    statsd_agg_config c = defaults();
    c.add_tags = add;
    statsd_agg *a = statsd_agg_new(&c);
    /* One series whatever the order and style of its tags. */
    feed(a, "req,host=a,code=200:1|c\nreq:1|c|#code:200,host:a\nreq,code=200:1|c|#host:a\n"
            "req,host=b:1|c|#env:prod\nreq:1|c\nreq:5|g|#host:a");
    ck_flush(a, 10 * SEC,
             "{\"name\":\"req\",\"kind\":\"counter\",\"tags\":{\"code\":\"200\",\"host\":\"a\","
             "\"region\":\"eu\",\"env\":\"default\"},\"fields\":{\"value\":3}}\n"
             "{\"name\":\"req\",\"kind\":\"counter\",\"tags\":{\"env\":\"prod\",\"host\":\"b\","
             "\"region\":\"eu\"},\"fields\":{\"value\":1}}\n"
             "{\"name\":\"req\",\"kind\":\"counter\",\"tags\":{\"region\":\"eu\",\"env\":"
             "\"default\"},\"fields\":{\"value\":1}}\n"
             "{\"name\":\"req\",\"kind\":\"gauge\",\"tags\":{\"host\":\"a\",\"region\":\"eu\","
             "\"env\":\"default\"},\"fields\":{\"value\":5}}\n");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 4);
    ck_assert_uint_eq(statsd_agg_stats_get(a)->samples, 6);
    statsd_agg_free(a);
}
END_TEST

START_TEST(test_max_series)
{
    statsd_agg_config c = defaults();
    c.max_series = 2;
    c.counters_delta = 1;
    statsd_agg *a = statsd_agg_new(&c);
    statsd_line l;
    char err[64];
    ck_assert_int_eq(statsd_parse_line("a:1|c", 5, &l, err, sizeof err), 0);
    ck_assert_uint_eq(statsd_agg_add(a, &l), 0);
    feed(a, "b:1|g\na:1|c");
    ck_assert_int_eq(statsd_parse_line("c:1|c:2|c:1|ms", 14, &l, err, sizeof err), 0);
    ck_assert_uint_eq(statsd_agg_add(a, &l), 3);
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series_refused, 3);
    ck_flush(a, 10 * SEC,
             "{\"name\":\"a\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":2}}\n"
             "{\"name\":\"b\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n");
    /* Once the idle ones are forgotten there is room again. */
    feed(a, "a:1|c");
    free(flush_json(a, 20 * SEC, NULL));
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 1);
    feed(a, "c:4|c");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series_refused, 3);
    ck_flush(a, 30 * SEC,
             "{\"name\":\"c\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":4}}\n");
    statsd_agg_free(a);
}
END_TEST

/* Many series through the table: growth and deletion keep every one
 * findable. */
START_TEST(test_many_series)
{
    statsd_agg_config c = defaults();
    c.counters_delta = 1;
    statsd_agg *a = statsd_agg_new(&c);
    char line[64];
    statsd_line l;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5000; i++) {
            if (round > 0 && i % 3)
                continue; /* two thirds go idle and are forgotten */
            int n = snprintf(line, sizeof line, "s%d:%d|c", i, i + 1);
            ck_assert_int_eq(statsd_parse_line(line, (size_t)n, &l, NULL, 0), 0);
            statsd_agg_add(a, &l);
            statsd_agg_add(a, &l);
        }
        size_t emitted;
        char *got = flush_json(a, (round + 1) * 10 * SEC, &emitted);
        ck_assert_uint_eq(emitted, round ? 1667 : 5000);
        ck_assert_msg(strstr(got, "{\"name\":\"s4998\",\"kind\":\"counter\",\"tags\":{},"
                                  "\"fields\":{\"value\":9998}}\n") != NULL,
                      "round %d", round);
        free(got);
    }
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 1667);
    statsd_agg_free(a);
}
END_TEST

/* Lines aggregated in batches (the plugin's path) give what they give
 * one by one, including refusals past max_series. */
START_TEST(test_batch_same_as_single)
{
    statsd_agg_config c = defaults();
    c.max_series = 300;
    statsd_agg *one = statsd_agg_new(&c), *many = statsd_agg_new(&c);
    static statsd_line batch[40];
    static char text[40][64];
    size_t n = 0, refused_one = 0, refused_many = 0;
    for (int i = 0; i < 2000; i++) {
        static const char *const types[] = {"c", "g", "ms", "s", "c|@0.5"};
        int len = snprintf(text[n], sizeof text[n], "m%d,k=%d:%d|%s", i % 400, i % 3, i % 17,
                           types[i % 5]);
        ck_assert_int_eq(statsd_parse_line(text[n], (size_t)len, &batch[n], NULL, 0), 0);
        refused_one += statsd_agg_add(one, &batch[n]);
        if (++n == (i < 1000 ? 7 : 40)) {
            refused_many += statsd_agg_add_batch(many, batch, n);
            n = 0;
        }
    }
    refused_many += statsd_agg_add_batch(many, batch, n);
    ck_assert_uint_eq(refused_one, refused_many);
    ck_assert_uint_gt(refused_one, 0);
    char *x = flush_json(one, 10 * SEC, NULL), *y = flush_json(many, 10 * SEC, NULL);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
    statsd_agg_free(one);
    statsd_agg_free(many);
}
END_TEST

START_TEST(test_expire_after)
{
    statsd_agg_config c = defaults();
    c.delete_gauges = 0;
    c.expire_after = 25 * SEC;
    statsd_agg *a = statsd_agg_new(&c);
    feed(a, "g:1|g\nhits:2|c");
    size_t n;
    free(flush_json(a, 10 * SEC, &n));
    ck_assert_uint_eq(n, 2);
    free(flush_json(a, 20 * SEC, &n));
    ck_assert_uint_eq(n, 1); /* the gauge; the counter idle, kept */
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 2);
    feed(a, "hits:1|c");
    ck_flush(a, 30 * SEC,
             "{\"name\":\"g\",\"kind\":\"gauge\",\"tags\":{},\"fields\":{\"value\":1}}\n"
             "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{},\"fields\":{\"value\":3}}\n");
    /* The gauge was last updated at 10 s: 25 s later it is gone. */
    ck_flush(a, 40 * SEC, "");
    ck_assert_uint_eq(statsd_agg_stats_get(a)->series, 1);
    statsd_agg_free(a);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("statsd");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_line_forms);
    tcase_add_test(tc, test_malformed_lines);
    tcase_add_test(tc, test_counters);
    tcase_add_test(tc, test_gauges);
    tcase_add_test(tc, test_timer_summary);
    tcase_add_test(tc, test_timer_reservoir);
    tcase_add_test(tc, test_timer_histogram);
    tcase_add_test(tc, test_sets);
    tcase_add_test(tc, test_tags_and_series);
    tcase_add_test(tc, test_max_series);
    tcase_add_test(tc, test_many_series);
    tcase_add_test(tc, test_batch_same_as_single);
    tcase_add_test(tc, test_expire_after);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return test_run_suite(suite());
}

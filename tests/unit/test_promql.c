/* The PromQL parser: the shape and types of what it accepts (precedence,
 * associativity, modifiers, literals, durations), and for what it refuses,
 * the message and the byte offset, Prometheus's words where Prometheus has
 * them and the construct named where sluice does not support it. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "promql.h"
#include "testutil.h"

static pq_node *
ok(const char *src)
{
    char err[256] = "";
    size_t pos = 0;
    pq_node *n = pq_parse(src, err, sizeof err, &pos);
    ck_assert_msg(n != NULL, "'%s' refused at %zu: %s", src, pos, err);
    return n;
}

static void
refused(const char *src, size_t want_pos, const char *want)
{
    char err[256] = "";
    size_t pos = 999;
    pq_node *n = pq_parse(src, err, sizeof err, &pos);
    ck_assert_msg(n == NULL, "'%s' accepted", src);
    ck_assert_msg(strcmp(err, want) == 0 && pos == want_pos,
                  "'%s':\n  want %zu: %s\n  got  %zu: %s", src, want_pos, want, pos, err);
}

/* The tree as a compact string: (op lhs rhs), name{...}[range], f(args).
 * The trees here are short: a cut-off string would fail the comparison. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
static void
show(const pq_node *n, char *out, size_t size)
{
    char a[512], b[512];
    switch (n->kind) {
    case PQ_NUMBER:
        snprintf(out, size, "%g", n->number);
        break;
    case PQ_STRING_LIT:
        snprintf(out, size, "\"%s\"", n->string);
        break;
    case PQ_SELECTOR: {
        size_t o = (size_t)snprintf(out, size, "%s", n->sel.metric ? n->sel.metric : "");
        if (n->sel.n_matchers) {
            static const char *const ops[] = {"=", "!=", "=~", "!~"};
            o += (size_t)snprintf(out + o, size - o, "{");
            for (size_t i = 0; i < n->sel.n_matchers; i++)
                o += (size_t)snprintf(out + o, size - o, "%s%s%s'%s'", i ? "," : "",
                                      n->sel.matchers[i].name, ops[n->sel.matchers[i].op],
                                      n->sel.matchers[i].value);
            o += (size_t)snprintf(out + o, size - o, "}");
        }
        if (n->sel.range_ms)
            o += (size_t)snprintf(out + o, size - o, "[%lldms]", (long long)n->sel.range_ms);
        if (n->sel.offset_ms)
            snprintf(out + o, size - o, " offset %lldms", (long long)n->sel.offset_ms);
        break;
    }
    case PQ_CALL: {
        size_t o = (size_t)snprintf(out, size, "%s(", n->call.name);
        for (size_t i = 0; i < n->call.n_args; i++) {
            show(n->call.args[i], a, sizeof a);
            o += (size_t)snprintf(out + o, size - o, "%s%s", i ? ", " : "", a);
        }
        snprintf(out + o, size - o, ")");
        break;
    }
    case PQ_AGGREGATE: {
        show(n->agg.expr, a, sizeof a);
        size_t o = (size_t)snprintf(out, size, "%s", pq_aggop_name(n->agg.op));
        if (n->agg.grouping.n || n->agg.without) {
            o += (size_t)snprintf(out + o, size - o, " %s(", n->agg.without ? "without" : "by");
            for (size_t i = 0; i < n->agg.grouping.n; i++)
                o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "," : "",
                                      n->agg.grouping.v[i]);
            o += (size_t)snprintf(out + o, size - o, ")");
        }
        snprintf(out + o, size - o, " (%s)", a);
        break;
    }
    case PQ_BINARY: {
        show(n->bin.lhs, a, sizeof a);
        show(n->bin.rhs, b, sizeof b);
        char mod[128] = "";
        size_t o = 0;
        if (n->bin.bool_mod)
            o += (size_t)snprintf(mod + o, sizeof mod - o, " bool");
        if (n->bin.matching) {
            o += (size_t)snprintf(mod + o, sizeof mod - o, " %s(", n->bin.on ? "on" : "ignoring");
            for (size_t i = 0; i < n->bin.labels.n; i++)
                o += (size_t)snprintf(mod + o, sizeof mod - o, "%s%s", i ? "," : "",
                                      n->bin.labels.v[i]);
            snprintf(mod + o, sizeof mod - o, ")");
        }
        snprintf(out, size, "(%s%s %s %s)", pq_binop_name(n->bin.op), mod, a, b);
        break;
    }
    case PQ_UNARY_MINUS:
        show(n->inner, a, sizeof a);
        snprintf(out, size, "-%s", a);
        break;
    case PQ_PAREN:
        show(n->inner, out, size);
        break;
    }
}

static void
shape(const char *src, pq_type type, const char *want)
{
    pq_node *n = ok(src);
    char got[1024];
    show(n, got, sizeof got);
    ck_assert_msg(strcmp(got, want) == 0, "'%s':\n  want %s\n  got  %s", src, want, got);
    ck_assert_msg(n->type == type, "'%s': type %d, want %d", src, n->type, type);
    pq_free(n);
}

START_TEST(test_promql_precedence_and_associativity)
{
    shape("1 + 2 * 3", PQ_SCALAR, "(+ 1 (* 2 3))");
    shape("1 - 2 - 3", PQ_SCALAR, "(- (- 1 2) 3)");
    shape("2 ^ 3 ^ 2", PQ_SCALAR, "(^ 2 (^ 3 2))");
    shape("-2 ^ 2", PQ_SCALAR, "-(^ 2 2)");
    shape("-a * b", PQ_VECTOR, "(* -a b)");
    shape("a and b or c unless d", PQ_VECTOR, "(or (and a b) (unless c d))");
    shape("a > 1 and b < 2", PQ_VECTOR, "(and (> a 1) (< b 2))");
    shape("(1 + 2) * 3", PQ_SCALAR, "(* (+ 1 2) 3)");
    shape("a atan2 b + c", PQ_VECTOR, "(+ (atan2 a b) c)");
    shape("a % 3 == bool 1", PQ_VECTOR, "(== bool (% a 3) 1)");
}
END_TEST

START_TEST(test_promql_selectors_and_literals)
{
    shape("http_requests_total{job=\"api\", code=~\"5..\",}", PQ_VECTOR,
          "http_requests_total{job='api',code=~'5..'}");
    shape("{__name__=~\"job:.*\", env!=\"\"}", PQ_VECTOR, "{__name__=~'job:.*',env!=''}");
    shape("job:errors:rate5m", PQ_VECTOR, "job:errors:rate5m");
    shape("x{a='it\\'s', b=`raw\\n`, c=\"\\u00e9\\x41\"}", PQ_VECTOR,
          "x{a='it's',b='raw\\n',c='\xc3\xa9" "A'}");
    shape("x[1h30m] offset -5m", PQ_MATRIX, "x[5400000ms] offset -300000ms");
    shape("x offset 1w", PQ_VECTOR, "x offset 604800000ms");
    shape("0x1f + 1e3 + .5 + 5.", PQ_SCALAR, "(+ (+ (+ 31 1000) 0.5) 5)");
    shape("# a comment\nx # another\n> 1", PQ_VECTOR, "(> x 1)");
    pq_node *n = ok("Inf");
    ck_assert(isinf(n->number) && n->number > 0);
    pq_free(n);
    n = ok("-nan");
    ck_assert(isnan(n->number));
    pq_free(n);
    n = ok("{a=~\"x|y\"}");
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(n->sel.matchers[0].re, NULL);
    /* Anchored both ends, as Prometheus anchors its regexes. */
    ck_assert_int_ge(pcre2_match(n->sel.matchers[0].re, (PCRE2_SPTR) "y", 1, 0, 0, md, NULL), 0);
    ck_assert_int_lt(pcre2_match(n->sel.matchers[0].re, (PCRE2_SPTR) "xy", 2, 0, 0, md, NULL), 0);
    pcre2_match_data_free(md);
    pq_free(n);
}
END_TEST

START_TEST(test_promql_functions_and_aggregations)
{
    shape("sum by (job) (rate(x[5m]))", PQ_VECTOR, "sum by(job) (rate(x[300000ms]))");
    shape("sum(rate(x[5m])) by (job, instance)", PQ_VECTOR,
          "sum by(job,instance) (rate(x[300000ms]))");
    shape("SUM WITHOUT (a) (x)", PQ_VECTOR, "sum without(a) (x)");
    shape("count without () (x)", PQ_VECTOR, "count without() (x)");
    shape("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", PQ_VECTOR,
          "histogram_quantile(0.9, sum by(le) (rate(h_bucket[300000ms])))");
    shape("absent_over_time(up{job=\"a\"}[10m])", PQ_VECTOR,
          "absent_over_time(up{job='a'}[600000ms])");
    shape("scalar(x) * 2", PQ_SCALAR, "(* scalar(x) 2)");
    shape("time() - vector(1)", PQ_VECTOR, "(- time() vector(1))");
    shape("a / on(job) b", PQ_VECTOR, "(/ on(job) a b)");
    shape("a unless ignoring(instance, by) b", PQ_VECTOR, "(unless ignoring(instance,by) a b)");
    shape("increase(app_errors_total{service=\"api\"}[5m]) > 10", PQ_VECTOR,
          "(> increase(app_errors_total{service='api'}[300000ms]) 10)");
}
END_TEST

START_TEST(test_promql_refusals)
{
    refused("rate(x)", 5, "rate(): argument 1 must be a range vector, not an instant vector");
    refused("sum(x[5m])", 4, "sum: expected an instant vector, found a range vector");
    refused("topk(3, x)", 0, "the aggregation 'topk' is not supported by sluice");
    refused("a + predict_linear(x[5m], 60)", 4,
            "the function 'predict_linear' is not supported by sluice");
    refused("frobnicate(x)", 0, "unknown function 'frobnicate'");
    refused("rate(x[5m:1m])", 6, "subqueries ([range:step]) are not supported by sluice");
    refused("x @ 100", 2, "the @ modifier is not supported by sluice");
    refused("1 > 2", 2, "comparisons between scalars must use BOOL modifier");
    refused("x and 1", 2, "set operator 'and' not allowed in binary scalar expression");
    refused("x + bool y", 4, "bool modifier can only be used on comparison operators");
    refused("x + on(a) group_left y", 10,
            "group_left (many-to-one matching) is not supported by sluice");
    refused("{a=\"\"}", 0, "vector selector must contain at least one non-empty matcher");
    refused("{a=~\".*\"}", 0, "vector selector must contain at least one non-empty matcher");
    refused("x{__name__=\"y\"}", 2, "metric name must not be set twice: 'x' or 'y'");
    refused("sum(x", 5, "unexpected end of input, expected ')'");
    refused("x{a=\"b}", 4, "unterminated quoted string");
    refused("(x)[5m]", 3, "ranges are only allowed for vector selectors");
    refused("x[5]", 2, "invalid duration '5'");
    refused("x[1m1h]", 2, "invalid duration '1m1h'");
    refused("rate(x[5m]", 10, "unexpected end of input, expected ',' or ')'");
    refused("x y", 2, "unexpected 'y' after the expression");
    refused("x{a~\"b\"}", 3, "unexpected character '~'");
    refused("rate(x[5m], 1)", 0, "rate() takes 1 argument, got 2");
    refused("x{a=~\"(\"}", 5,
            "invalid regular expression '(': missing closing parenthesis");
    refused("by", 0, "unexpected keyword 'by'");
    refused("\"s\" + 1", 4, "binary expression must contain only scalar and instant vector types");
    refused("", 0, "unexpected end of input, expected an expression");
}
END_TEST

START_TEST(test_promql_nesting_is_bounded)
{
    char deep[1200];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 500; i++)
        deep[n++] = ')';
    deep[n] = '\0';
    char err[128];
    size_t pos;
    ck_assert_ptr_null(pq_parse(deep, err, sizeof err, &pos));
    ck_assert_str_eq(err, "expression nested deeper than 128");
    for (int i = 0; i < 500; i++)
        deep[i] = '-';
    ck_assert_ptr_null(pq_parse(deep, err, sizeof err, &pos));
}
END_TEST

START_TEST(test_promql_durations_and_lookback)
{
    ck_assert_int_eq(pq_parse_duration("5m", 2), 300000);
    ck_assert_int_eq(pq_parse_duration("1h30m", 5), 5400000);
    ck_assert_int_eq(pq_parse_duration("1d2h3m4s5ms", 11), 93784005);
    ck_assert_int_eq(pq_parse_duration("2w", 2), 1209600000);
    ck_assert_int_eq(pq_parse_duration("1y", 2), INT64_C(31536000000));
    ck_assert_int_eq(pq_parse_duration("90s", 3), 90000);
    ck_assert_int_eq(pq_parse_duration("5", 1), -1);
    ck_assert_int_eq(pq_parse_duration("m", 1), -1);
    ck_assert_int_eq(pq_parse_duration("1m1m", 4), -1);
    ck_assert_int_eq(pq_parse_duration("1.5h", 4), -1);
    ck_assert_int_eq(pq_parse_duration("99999999999999999999s", 21), -1);
    pq_node *n = ok("rate(a[5m]) / rate(b[1h] offset 10m) > avg_over_time(c[2m])");
    ck_assert_int_eq(pq_lookback_ms(n), 4200000);
    pq_free(n);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("promql");
    TCase *tc = tcase_create("promql");
    tcase_add_test(tc, test_promql_precedence_and_associativity);
    tcase_add_test(tc, test_promql_selectors_and_literals);
    tcase_add_test(tc, test_promql_functions_and_aggregations);
    tcase_add_test(tc, test_promql_refusals);
    tcase_add_test(tc, test_promql_nesting_is_bounded);
    tcase_add_test(tc, test_promql_durations_and_lookback);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

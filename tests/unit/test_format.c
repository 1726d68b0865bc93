/* Formatters: exact JSON (escapes, invalid UTF-8, numbers), logfmt (quoting,
 * flattening), RFC 5424 lines and MessagePack pass-through. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/format.h"
#include "testutil.h"

#define T1 (INT64_C(1764144000) * SLUICE_NSEC_PER_SEC + 5)

/* Render the one event in `sb` with `o`. */
static char *
render(msgpack_sbuffer *sb, sluice_format format, const char *time_key)
{
    sluice_format_opts o = {format, time_key, "web-1"};
    sluice_buf out = SLUICE_BUF_INIT;
    int bad = 0;
    ck_assert_uint_eq(sluice_format_events(&out, &o, sb->data, sb->size, &bad), 1);
    ck_assert_int_eq(bad, 0);
    sluice_buf_putc(&out, '\0');
    return out.data;
}

static void
pack_sample(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    test_event_head(&pk, T1);
    msgpack_pack_map(&pk, 7);
    sluice_pack_cstr(&pk, "message");
    msgpack_pack_str_with_body(&pk, "say \"hi\"\n\t\x01 caf\xc3\xa9 bad\xff!", 23);
    sluice_pack_cstr(&pk, "n");
    msgpack_pack_int64(&pk, -42);
    sluice_pack_cstr(&pk, "big");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    sluice_pack_cstr(&pk, "f");
    msgpack_pack_double(&pk, 2.0);
    sluice_pack_cstr(&pk, "ok");
    msgpack_pack_false(&pk);
    sluice_pack_cstr(&pk, "nested");
    msgpack_pack_map(&pk, 1);
    sluice_pack_cstr(&pk, "k");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_nil(&pk);
    msgpack_pack_int(&pk, 1);
    sluice_pack_cstr(&pk, "severity");
    sluice_pack_cstr(&pk, "err");
}

START_TEST(test_format_json_exact)
{
    msgpack_sbuffer sb;
    pack_sample(&sb);
    char *s = render(&sb, SLUICE_FORMAT_JSON, "time");
    ck_assert_str_eq(s, "{\"time\":\"2025-11-26T08:00:00.000000005Z\","
                        "\"message\":\"say \\\"hi\\\"\\n\\t\\u0001 caf\xc3\xa9 bad\xef\xbf\xbd!\","
                        "\"n\":-42,\"big\":18446744073709551615,\"f\":2.0,\"ok\":false,"
                        "\"nested\":{\"k\":[null,1]},\"severity\":\"err\"}\n");
    free(s);
    s = render(&sb, SLUICE_FORMAT_JSON, NULL);
    ck_assert_int_eq(strncmp(s, "{\"message\":", 11), 0);
    free(s);
    /* A body that has the time key already keeps its own. */
    s = render(&sb, SLUICE_FORMAT_JSON, "n");
    ck_assert_int_eq(strncmp(s, "{\"message\":", 11), 0);
    free(s);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_format_logfmt_exact)
{
    msgpack_sbuffer sb;
    pack_sample(&sb);
    char *s = render(&sb, SLUICE_FORMAT_LOGFMT, "ts");
    ck_assert_str_eq(s, "ts=2025-11-26T08:00:00.000000005Z "
                        "message=\"say \\\"hi\\\"\\n\\t\\u0001 caf\xc3\xa9 bad\xef\xbf\xbd!\" "
                        "n=-42 big=18446744073709551615 f=2.0 ok=false "
                        "nested.k=\"[null,1]\" severity=err\n");
    free(s);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_format_syslog_exact)
{
    msgpack_sbuffer sb;
    pack_sample(&sb);
    char *s = render(&sb, SLUICE_FORMAT_SYSLOG, NULL);
    /* user.err = 1*8+3 = 11; control characters escaped as #ooo. */
    ck_assert_str_eq(s, "<11>1 2025-11-26T08:00:00.000000Z web-1 sluice - - - "
                        "say \"hi\"#012#011#001 caf\xc3\xa9 bad\xef\xbf\xbd!\n");
    free(s);
    msgpack_sbuffer_destroy(&sb);

    /* Header fields from the event, numeric severity and facility. */
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    test_event_head(&pk, T1);
    msgpack_pack_map(&pk, 6);
    sluice_pack_cstr(&pk, "facility");
    msgpack_pack_int(&pk, 16);
    sluice_pack_cstr(&pk, "severity");
    msgpack_pack_int(&pk, 4);
    sluice_pack_cstr(&pk, "hostname");
    sluice_pack_cstr(&pk, "db 1");
    sluice_pack_cstr(&pk, "appname");
    sluice_pack_cstr(&pk, "pg");
    sluice_pack_cstr(&pk, "procid");
    sluice_pack_cstr(&pk, "77");
    sluice_pack_cstr(&pk, "msgid");
    sluice_pack_cstr(&pk, "Q");
    s = render(&sb, SLUICE_FORMAT_SYSLOG, NULL);
    ck_assert_str_eq(s, "<132>1 2025-11-26T08:00:00.000000Z db1 pg 77 Q - "
                        "{\"facility\":16,\"severity\":4,\"hostname\":\"db 1\","
                        "\"appname\":\"pg\",\"procid\":\"77\",\"msgid\":\"Q\"}\n");
    free(s);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_format_msgpack_is_the_event)
{
    msgpack_sbuffer sb;
    pack_sample(&sb);
    sluice_format_opts o = {SLUICE_FORMAT_MSGPACK, NULL, NULL};
    sluice_buf out = SLUICE_BUF_INIT;
    ck_assert_uint_eq(sluice_format_events(&out, &o, sb.data, sb.size, NULL), 1);
    ck_assert_uint_eq(out.len, sb.size);
    ck_assert_mem_eq(out.data, sb.data, sb.size);
    sluice_buf_free(&out);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_format_json_special_values)
{
    sluice_buf out = SLUICE_BUF_INIT;
    msgpack_object o = {.type = MSGPACK_OBJECT_FLOAT64};
    o.via.f64 = 1.0 / 0.0;
    sluice_json_value(&out, &o);
    o.via.f64 = 0.1;
    sluice_json_value(&out, &o);
    /* Overlong encoding and a lone surrogate are invalid UTF-8. */
    sluice_json_string(&out, "\xc0\xaf\xed\xa0\x80", 5);
    sluice_buf_putc(&out, '\0');
    ck_assert_str_eq(out.data, "null0.1\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd\xef\xbf\xbd\"");
    sluice_buf_free(&out);
}
END_TEST

/* Each byte that must be escaped, at every place in a long plain run: the
 * writer judges eight bytes at a time, so a word boundary must not hide
 * one. */
START_TEST(test_json_string_escapes_at_every_place)
{
    static const struct {
        const char *in;
        size_t in_len;
        const char *out;
    } specials[] = {
        {"\"", 1, "\\\""}, {"\\", 1, "\\\\"}, {"\n", 1, "\\n"},
        {"\x01", 1, "\\u0001"}, {"\x1f", 1, "\\u001f"}, {"\0", 1, "\\u0000"},
        {"\xc3\xa9", 2, "\xc3\xa9"}, {"\xff", 1, "\xef\xbf\xbd"},
    };
    for (size_t k = 0; k < sizeof specials / sizeof *specials; k++)
        for (size_t at = 0; at < 24; at++) {
            char in[64], want[80];
            memset(in, 'a', sizeof in);
            memcpy(in + at, specials[k].in, specials[k].in_len);
            size_t n = 24 + specials[k].in_len;
            int w = snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)at, in,
                             specials[k].out, (int)(n - at - specials[k].in_len),
                             in + at + specials[k].in_len);
            sluice_buf out = SLUICE_BUF_INIT;
            sluice_json_string(&out, in, n);
            ck_assert_msg(out.len == (size_t)w && memcmp(out.data, want, out.len) == 0,
                          "special %zu at %zu: got %.*s", k, at, (int)out.len, out.data);
            sluice_buf_free(&out);
        }
}
END_TEST

START_TEST(test_double_text_is_short_and_exact)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {{0.35, "0.35"},   {46.62, "46.62"}, {0.005, "0.005"}, {-0.5, "-0.5"},
                 {3.0, "3"},       {100, "100"},     {0.0012, "0.0012"}, {99.99, "99.99"},
                 {0.1 + 0.2, "0.30000000000000004"}, {1e20, "1e+20"}, {2.5e-7, "2.5e-07"},
                 {123456789.125, "123456789.125"}};
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sluice_double_text(cases[i].v, buf);
        ck_assert_str_eq(buf, cases[i].text);
    }
    /* Random decimals and random bit patterns read back exactly. */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (isfinite(d)) {
            sluice_double_text(d, buf);
            ck_assert_msg(strtod(buf, NULL) == d, "%a printed as %s", d, buf);
        }
        double dec = (double)(int64_t)(x % 2000000000) / pow(10, (double)(x >> 60));
        sluice_double_text(dec, buf);
        ck_assert_msg(strtod(buf, NULL) == dec, "%a printed as %s", dec, buf);
    }
}
END_TEST

/* RFC 3339 times are gmtime_r's at 200,000 random seconds from 1900 to
 * 2190 (leap days, 2000 and 2100), before 1970 too. */
START_TEST(test_rfc3339_matches_gmtime)
{
    srand(11);
    for (int i = 0; i < 200000; i++) {
        int64_t sec = (int64_t)(((uint64_t)rand() << 16) ^ (uint64_t)rand()) % (290LL * 365 * 86400) -
                      70LL * 365 * 86400;
        time_t tt = (time_t)sec;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char want[96];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000123Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        sluice_buf b = SLUICE_BUF_INIT;
        sluice_format_rfc3339(&b, sec * SLUICE_NSEC_PER_SEC + 123);
        sluice_buf_putc(&b, '\0');
        ck_assert_str_eq(b.data, want);
        sluice_buf_free(&b);
    }
}
END_TEST

START_TEST(test_buf_url_helpers)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_url_base(&b, "http://h:9200//");
    sluice_buf_append(&b, "/_bulk?p=", 9);
    sluice_buf_url_escape(&b, "a b/c~d_e.f-é&");
    sluice_buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, "http://h:9200/_bulk?p=a%20b%2Fc~d_e.f-%C3%A9%26");
    sluice_buf_free(&b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, test_format_json_exact);
    tcase_add_test(tc, test_format_logfmt_exact);
    tcase_add_test(tc, test_format_syslog_exact);
    tcase_add_test(tc, test_format_msgpack_is_the_event);
    tcase_add_test(tc, test_format_json_special_values);
    tcase_add_test(tc, test_json_string_escapes_at_every_place);
    tcase_add_test(tc, test_double_text_is_short_and_exact);
    tcase_add_test(tc, test_buf_url_helpers);
    tcase_add_test(tc, test_rfc3339_matches_gmtime);
    /* A million doubles: seconds under ASan on a loaded machine. */
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

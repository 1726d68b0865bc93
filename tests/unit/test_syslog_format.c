/* The syslog formatter (sluice_syslog_format_event): exact RFC 5424 and
 * RFC 3164 lines, microseconds, structured data and its escapes, PRI from
 * names, aliases and numbers, field options, and messages the syslog
 * input parsed going out byte for byte as they came in. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/format.h"
#include "../../plugins/in_syslog/syslog_parse.h"
#include "testutil.h"

/* 2025-11-26T08:00:00.123456789Z */
#define T1 (INT64_C(1764144000) * SLUICE_NSEC_PER_SEC + 123456789)

/* `json` at `t` formatted with `o` (the defaults, host "h1", when NULL). */
static char *
fmt(const sluice_syslog_opts *o, sluice_time_t t, const char *json)
{
    sluice_syslog_opts def;
    if (!o) {
        sluice_syslog_opts_init(&def);
        def.hostname = "h1";
        o = &def;
    }
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, t, json);
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_syslog_format_event(&out, o, &ev);
    sluice_buf_putc(&out, '\0');
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return out.data;
}

#define CHECK_FMT(o, t, json, want)                                                                \
    do {                                                                                           \
        char *got_ = fmt(o, t, json);                                                              \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

START_TEST(test_rfc5424_from_syslog_input_fields)
{
    CHECK_FMT(NULL, T1,
              "{\"pri\":132,\"facility\":\"local0\",\"severity\":\"warning\","
              "\"hostname\":\"db1\",\"appname\":\"pg\",\"procid\":\"77\",\"msgid\":\"Q1\","
              "\"structured_data\":{\"exampleSDID@32473\":{\"iut\":\"3\",\"eventSource\":"
              "\"Application\"},\"origin\":{\"ip\":\"10.0.0.1\"}},"
              "\"message\":\"caf\xc3\xa9 \xe2\x82\xac 1\"}",
              "<132>1 2025-11-26T08:00:00.123456Z db1 pg 77 Q1 "
              "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][origin ip=\"10.0.0.1\"] "
              "caf\xc3\xa9 \xe2\x82\xac 1");
}
END_TEST

START_TEST(test_rfc5424_defaults_and_json_body)
{
    /* No fields: user.info, the option's host, app "sluice", the body as
     * JSON for a message. */
    CHECK_FMT(NULL, T1, "{\"a\":1}", "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - - {\"a\":1}");
    /* A message that is not a string is written as JSON; an empty one
     * leaves MSG out. */
    CHECK_FMT(NULL, T1, "{\"message\":{\"k\":[1,true]}}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - - {\"k\":[1,true]}");
    CHECK_FMT(NULL, T1, "{\"message\":\"\"}", "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - -");
    /* Control characters as rsyslog writes them; bad UTF-8 as U+FFFD. */
    CHECK_FMT(NULL, T1, "{\"message\":\"a\\nb\\tc\\u0001 \\\"q\\\" \\\\ ]\"}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - - a#012b#011c#001 \"q\" \\ ]");
}
END_TEST

START_TEST(test_rfc5424_secfrac_is_microseconds)
{
    /* Truncated, never rounded up into the next second. */
    CHECK_FMT(NULL, INT64_C(1764144000) * SLUICE_NSEC_PER_SEC + 999999999, "{\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.999999Z h1 sluice - - - m");
    CHECK_FMT(NULL, INT64_C(1764144000) * SLUICE_NSEC_PER_SEC, "{\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.000000Z h1 sluice - - - m");
}
END_TEST

START_TEST(test_rfc5424_timestamp_text_kept_when_it_is_the_time)
{
    sluice_time_t t = INT64_C(1065910455) * SLUICE_NSEC_PER_SEC + 3000000;
    /* The sender's zone is kept... */
    CHECK_FMT(NULL, t, "{\"timestamp\":\"2003-10-12T00:14:15.003+02:00\",\"message\":\"m\"}",
              "<14>1 2003-10-12T00:14:15.003+02:00 h1 sluice - - - m");
    CHECK_FMT(NULL, t, "{\"timestamp\":\"2003-10-11T22:14:15.003Z\",\"message\":\"m\"}",
              "<14>1 2003-10-11T22:14:15.003Z h1 sluice - - - m");
    /* ...unless it is another time (a filter changed it), has more than 6
     * fractional digits, or is no RFC 5424 time at all. */
    CHECK_FMT(NULL, t + SLUICE_NSEC_PER_SEC,
              "{\"timestamp\":\"2003-10-11T22:14:15.003Z\",\"message\":\"m\"}",
              "<14>1 2003-10-11T22:14:16.003000Z h1 sluice - - - m");
    CHECK_FMT(NULL, t, "{\"timestamp\":\"2003-10-11T22:14:15.003000000Z\",\"message\":\"m\"}",
              "<14>1 2003-10-11T22:14:15.003000Z h1 sluice - - - m");
    CHECK_FMT(NULL, t, "{\"timestamp\":\"Oct 11 22:14:15\",\"message\":\"m\"}",
              "<14>1 2003-10-11T22:14:15.003000Z h1 sluice - - - m");
}
END_TEST

START_TEST(test_rfc5424_structured_data_escapes)
{
    CHECK_FMT(NULL, T1,
              "{\"structured_data\":{\"x@1\":{\"v\":\"a\\\"b\\\\c]d\\ne\xff\"}},\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - "
              "[x@1 v=\"a\\\"b\\\\c\\]d#012e\xef\xbf\xbd\"] m");
    /* Names: = ] " space and non-ASCII become _, cut at 32 bytes; values
     * that are not strings as JSON; a list repeats its parameter; an
     * element that is not a map has no parameters. */
    CHECK_FMT(NULL, T1,
              "{\"structured_data\":{\"a b=c\":{\"n\\\"]\":1,\"t\":true,\"z\":null,"
              "\"l\":[\"1\",2],\"m\":{\"k\":\"v\"}},"
              "\"0123456789012345678901234567890123456789\":{},\"e\":\"x\",\"\":{}},"
              "\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - "
              "[a_b_c n__=\"1\" t=\"true\" z=\"\" l=\"1\" l=\"2\" m=\"{\\\"k\\\":\\\"v\\\"}\"]"
              "[01234567890123456789012345678901][e][_] m");
    /* Empty or not a map: none. */
    CHECK_FMT(NULL, T1, "{\"structured_data\":{},\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - - m");
    CHECK_FMT(NULL, T1, "{\"structured_data\":\"[a b=\\\"c\\\"]\",\"message\":\"m\"}",
              "<14>1 2025-11-26T08:00:00.123456Z h1 sluice - - - m");
}
END_TEST

START_TEST(test_pri_from_names_aliases_and_numbers)
{
    static const struct {
        const char *json;
        int pri;
    } cases[] = {
        {"{\"severity\":\"err\",\"facility\":\"kern\"}", 3},
        {"{\"severity\":\"ERROR\",\"facility\":\"LOCAL7\"}", 187},
        {"{\"severity\":\"warn\",\"facility\":\"authpriv\"}", 84},
        {"{\"severity\":\"fatal\"}", 10},
        {"{\"severity\":\"trace\"}", 15},
        {"{\"severity\":\"panic\",\"facility\":\"daemon\"}", 24},
        {"{\"severity\":2,\"facility\":16}", 130},
        {"{\"severity\":\"5\",\"facility\":\"23\"}", 189},
        /* Unknown or out of range: the defaults. */
        {"{\"severity\":8,\"facility\":24}", 14},
        {"{\"severity\":\"loud\",\"facility\":\"\"}", 14},
        {"{\"severity\":-1,\"facility\":1.5}", 14},
        {"{\"severity\":\"12x\"}", 14},
        /* Digits past the range, even ones an int would wrap. */
        {"{\"severity\":\"4294967295\",\"facility\":\"4294967297\"}", 14},
        {"{\"severity\":\"2147483648\"}", 14},
        {"{\"severity\":\"0000000000000004\"}", 12},
        /* A NUL inside: not the name it starts with. */
        {"{\"severity\":\"err\\u0000xyz\"}", 14},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = fmt(NULL, T1, cases[i].json);
        char want[16];
        snprintf(want, sizeof want, "<%d>1 ", cases[i].pri);
        ck_assert_msg(strncmp(s, want, strlen(want)) == 0, "%s gave %s", cases[i].json, s);
        free(s);
    }
    sluice_syslog_opts o;
    sluice_syslog_opts_init(&o);
    o.hostname = "h1";
    o.severity = 3;
    o.facility = 20;
    CHECK_FMT(&o, T1, "{\"message\":\"m\"}",
              "<163>1 2025-11-26T08:00:00.123456Z h1 sluice - - - m");
    CHECK_FMT(&o, T1, "{\"severity\":\"debug\",\"message\":\"m\"}",
              "<167>1 2025-11-26T08:00:00.123456Z h1 sluice - - - m");
}
END_TEST

START_TEST(test_header_fields_are_cut_and_cleaned)
{
    /* APP-NAME at most 48, MSGID 32; spaces and non-ASCII left out. */
    CHECK_FMT(NULL, T1,
              "{\"hostname\":\"web 1\xc3\xa9\",\"appname\":"
              "\"a123456789b123456789c123456789d123456789e123456789\","
              "\"procid\":\"\",\"msgid\":\"m123456789n123456789o123456789p123\","
              "\"message\":\"x\"}",
              "<14>1 2025-11-26T08:00:00.123456Z web1 "
              "a123456789b123456789c123456789d123456789e1234567 - "
              "m123456789n123456789o123456789p1 - x");
}
END_TEST

START_TEST(test_field_options)
{
    sluice_syslog_opts o;
    sluice_syslog_opts_init(&o);
    o.hostname = "h1";
    o.appname = NULL;
    o.message_key = "log";
    o.sd_key = "sd";
    o.hostname_key = "k8s.node";
    o.appname_key = "k8s.container";
    o.severity_key = "level";
    o.procid_key = NULL;
    CHECK_FMT(&o, T1,
              "{\"log\":\"hello\",\"level\":\"error\",\"procid\":\"9\",\"k8s\":{\"node\":\"n7\","
              "\"container\":\"api\"},\"sd\":{\"k@1\":{\"a\":\"b\"}},\"message\":\"other\"}",
              "<11>1 2025-11-26T08:00:00.123456Z n7 api - - [k@1 a=\"b\"] hello");
    /* Without an app name anywhere: "-". */
    CHECK_FMT(&o, T1, "{\"log\":\"x\"}", "<14>1 2025-11-26T08:00:00.123456Z h1 - - - - x");
}
END_TEST

START_TEST(test_rfc3164_lines)
{
    setenv("TZ", "UTC", 1);
    tzset();
    sluice_syslog_opts o;
    sluice_syslog_opts_init(&o);
    o.format = SLUICE_SYSLOG_RFC3164;
    o.hostname = "h1";
    CHECK_FMT(&o, T1,
              "{\"severity\":\"warning\",\"facility\":\"local0\",\"hostname\":\"db1\","
              "\"appname\":\"pg\",\"procid\":\"77\",\"msgid\":\"Q\","
              "\"structured_data\":{\"a\":{\"b\":\"c\"}},\"message\":\"caf\xc3\xa9\\n!\"}",
              "<132>Nov 26 08:00:00 db1 pg[77]: caf\xc3\xa9#012!");
    /* A day under 10 padded with a space; no procid, no brackets; ':' and
     * brackets left out of the tag. */
    CHECK_FMT(&o, INT64_C(1762329600) * SLUICE_NSEC_PER_SEC,
              "{\"appname\":\"a:b[c]\",\"message\":\"m\"}", "<14>Nov  5 08:00:00 h1 abc: m");
    unsetenv("TZ");
    tzset();
}
END_TEST

/* The input's event for one message, packed as in_syslog packs it. */
static void
pack_parsed(msgpack_packer *pk, const syslog_msg *m)
{
    uint32_t n = 1 + (m->pri >= 0) * 3 + (m->timestamp.n > 0) + (m->hostname.n > 0) +
                 (m->appname.n > 0) + (m->procid.n > 0) + (m->msgid.n > 0) + (m->sd.n > 0);
    test_event_head(pk, m->time);
    msgpack_pack_map(pk, n);
#define SPAN(k, v)                                                                                 \
    if ((v).n) {                                                                                   \
        sluice_pack_cstr(pk, k);                                                                   \
        msgpack_pack_str_with_body(pk, (v).p, (v).n);                                              \
    }
    if (m->pri >= 0) {
        sluice_pack_cstr(pk, "pri");
        msgpack_pack_int(pk, m->pri);
        sluice_pack_cstr(pk, "facility");
        sluice_pack_cstr(pk, syslog_facility_names[m->pri >> 3]);
        sluice_pack_cstr(pk, "severity");
        sluice_pack_cstr(pk, syslog_severity_names[m->pri & 7]);
    }
    SPAN("timestamp", m->timestamp);
    SPAN("hostname", m->hostname);
    SPAN("appname", m->appname);
    SPAN("procid", m->procid);
    SPAN("msgid", m->msgid);
    if (m->sd.n) {
        sluice_pack_cstr(pk, "structured_data");
        syslog_pack_sd(pk, m->sd);
    }
    sluice_pack_cstr(pk, "message");
    msgpack_pack_str_with_body(pk, m->message.p, m->message.n);
#undef SPAN
}

START_TEST(test_syslog_input_round_trip_is_byte_exact)
{
    static const char *const lines[] = {
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time",
        ("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
         "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
         "[examplePriority@32473 class=\"high\"] An application event"),
        ("<13>1 2026-01-02T03:04:05.123456+05:30 h app 1 m [x@1 v=\"a\\\"b\\\\c\\]d\"] "
         "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
        "<191>1 2026-01-02T03:04:05Z - - - - [a b=\"\"]",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        syslog_msg m;
        syslog_parse(lines[i], strlen(lines[i]), SYSLOG_5424, 0, &m);
        ck_assert_int_eq(m.parse_error, 0);
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        pack_parsed(&pk, &m);
        sluice_syslog_opts o;
        sluice_syslog_opts_init(&o);
        o.appname = NULL;
        o.hostname = "";
        sluice_buf out = SLUICE_BUF_INIT;
        sluice_event_iter it;
        sluice_event ev;
        sluice_event_iter_init(&it, sb.data, sb.size);
        ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
        sluice_syslog_format_event(&out, &o, &ev);
        sluice_event_iter_destroy(&it);
        sluice_buf_putc(&out, '\0');
        ck_assert_str_eq(out.data, lines[i]);
        sluice_buf_free(&out);
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

START_TEST(test_format_syslog_of_file_outputs_is_this_formatter)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, T1,
                         "{\"severity\":\"err\",\"structured_data\":{\"a@1\":{\"b\":\"c\"}},"
                         "\"message\":\"m\"}");
    sluice_format_opts fo = {SLUICE_FORMAT_SYSLOG, NULL, "web-1"};
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_format_event(&out, &fo, &ev);
    sluice_buf_putc(&out, '\0');
    ck_assert_str_eq(out.data,
                     "<11>1 2025-11-26T08:00:00.123456Z web-1 sluice - - [a@1 b=\"c\"] m\n");
    sluice_buf_free(&out);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("syslog_format");
    TCase *tc = tcase_create("syslog_format");
    tcase_add_test(tc, test_rfc5424_from_syslog_input_fields);
    tcase_add_test(tc, test_rfc5424_defaults_and_json_body);
    tcase_add_test(tc, test_rfc5424_secfrac_is_microseconds);
    tcase_add_test(tc, test_rfc5424_timestamp_text_kept_when_it_is_the_time);
    tcase_add_test(tc, test_rfc5424_structured_data_escapes);
    tcase_add_test(tc, test_pri_from_names_aliases_and_numbers);
    tcase_add_test(tc, test_header_fields_are_cut_and_cleaned);
    tcase_add_test(tc, test_field_options);
    tcase_add_test(tc, test_rfc3164_lines);
    tcase_add_test(tc, test_syslog_input_round_trip_is_byte_exact);
    tcase_add_test(tc, test_format_syslog_of_file_outputs_is_this_formatter);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

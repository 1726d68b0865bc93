/* The syslog parser on the examples of RFC 5424 §6.5 and RFC 3164 §5.4,
 * framing leftovers, nil values, escapes in structured data, and malformed
 * messages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../plugins/in_syslog/syslog_parse.h"
#include "testutil.h"

#define NOW (INT64_C(1764144000) * SLUICE_NSEC_PER_SEC) /* 2025-11-26 08:00:00Z */

static syslog_msg m;

static void
parse(const char *s, syslog_format f)
{
    syslog_parse(s, strlen(s), f, NOW, &m);
}

/* The structured data of the last parse, packed and rendered as JSON.
 * Caller frees. */
static char *
sd_json(void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    syslog_pack_sd(&pk, m.sd);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    ck_assert_int_eq(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    sluice_buf json = SLUICE_BUF_INIT;
    sluice_json_value(&json, &up.data);
    sluice_buf_putc(&json, '\0');
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    return json.data;
}

#define SPAN_EQ(span, str)                                                                         \
    do {                                                                                           \
        ck_assert_uint_eq((span).n, strlen(str));                                                  \
        ck_assert_int_eq(memcmp((span).p, str, strlen(str)), 0);                                   \
    } while (0)

START_TEST(test_rfc5424_example_1)
{
    parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
          "\xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.pri, 34);
    ck_assert_int_eq(m.version, 1);
    ck_assert_int_eq(m.time, INT64_C(1065910455003) * SLUICE_NSEC_PER_MSEC);
    SPAN_EQ(m.hostname, "mymachine.example.com");
    SPAN_EQ(m.appname, "su");
    ck_assert_uint_eq(m.procid.n, 0); /* nil */
    SPAN_EQ(m.msgid, "ID47");
    ck_assert_uint_eq(m.sd.n, 0);
    SPAN_EQ(m.message, "'su root' failed for lonvick on /dev/pts/8"); /* BOM removed */
}
END_TEST

START_TEST(test_rfc5424_example_2)
{
    parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to "
          "make the do-nuts.",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.pri, 165);
    ck_assert_int_eq(m.time, INT64_C(1061727255) * SLUICE_NSEC_PER_SEC + 3000);
    SPAN_EQ(m.hostname, "192.0.2.1");
    SPAN_EQ(m.appname, "myproc");
    SPAN_EQ(m.procid, "8710");
    ck_assert_uint_eq(m.msgid.n, 0);
    SPAN_EQ(m.message, "%% It's time to make the do-nuts.");
}
END_TEST

START_TEST(test_rfc5424_examples_3_and_4_structured_data)
{
    parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
          "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
          "\xef\xbb\xbf" "An application event log entry...",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    SPAN_EQ(m.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
    SPAN_EQ(m.message, "An application event log entry...");

    parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
          "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
          "[examplePriority@32473 class=\"high\"]",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_uint_eq(m.message.n, 0);

    /* Packed as {SD-ID: {param: value}}. */
    char *json = sd_json();
    ck_assert_str_eq(json, "{\"exampleSDID@32473\":{\"iut\":\"3\",\"eventSource\":"
                           "\"Application\",\"eventID\":\"1011\"},"
                           "\"examplePriority@32473\":{\"class\":\"high\"}}");
    free(json);

    /* '[' may be part of an SD-ID; ']' inside a value is escaped. The map
     * has as many entries as its header says. */
    parse("<13>1 - - - - - [a[b x=\"1\"][c y=\"\\]\"] m", SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    json = sd_json();
    ck_assert_str_eq(json, "{\"a[b\":{\"x\":\"1\"},\"c\":{\"y\":\"]\"}}");
    free(json);
}
END_TEST

START_TEST(test_rfc5424_sd_escapes)
{
    parse("<13>1 - host app - - [x@1 a=\"q\\\"uote\" b=\"back\\\\slash\" c=\"br\\]acket [x]\"] m",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.time, 0); /* nil timestamp */
    char *json = sd_json();
    ck_assert_str_eq(json,
                     "{\"x@1\":{\"a\":\"q\\\"uote\",\"b\":\"back\\\\slash\",\"c\":\"br]acket [x]\"}}");
    free(json);
    SPAN_EQ(m.message, "m");
}
END_TEST

START_TEST(test_rfc3164_examples)
{
    /* §5.4 example 1 (the date is read in this year, local time). */
    setenv("TZ", "UTC", 1);
    tzset();
    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.pri, 34);
    ck_assert_int_eq(m.version, 0);
    struct tm want = {.tm_year = 125, .tm_mon = 9, .tm_mday = 11, .tm_hour = 22, .tm_min = 14,
                      .tm_sec = 15};
    ck_assert_int_eq(m.time, (sluice_time_t)timegm(&want) * SLUICE_NSEC_PER_SEC);
    SPAN_EQ(m.timestamp, "Oct 11 22:14:15");
    SPAN_EQ(m.hostname, "mymachine");
    SPAN_EQ(m.appname, "su");
    SPAN_EQ(m.message, "'su root' failed for lonvick on /dev/pts/8");

    /* Example 2: no PRI at all. */
    parse("Use the BFG!", SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 1);
    ck_assert_int_eq(m.pri, -1);
    SPAN_EQ(m.message, "Use the BFG!");

    /* Example 3: a timestamp followed by a zone and a year: the zone is
     * taken as the host and the year as a tag ended by a space, as rsyslog
     * takes them. */
    parse("<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the "
          "do-nuts.",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    SPAN_EQ(m.hostname, "CST");
    SPAN_EQ(m.appname, "1987");
    SPAN_EQ(m.message, "mymachine myproc[10]: %% It's time to make the do-nuts.");

    /* Example 4: no timestamp sluice can read and no "tag:": the whole
     * text is kept, flagged, rather than a host guessed from it. */
    parse("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's "
          "All Folks!",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 1);
    ck_assert_int_eq(m.pri, 0);
    ck_assert_int_eq(m.time, 0);
    SPAN_EQ(m.message, "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 "
                       "sched[0]: That's All Folks!");
}
END_TEST

START_TEST(test_rfc3164_tag_pid_and_new_year)
{
    setenv("TZ", "UTC", 1);
    tzset();
    parse("<13>Nov  6 07:05:09 web-01 sshd[4242]: Accepted publickey\n", SYSLOG_AUTO);
    SPAN_EQ(m.timestamp, "Nov  6 07:05:09");
    SPAN_EQ(m.hostname, "web-01");
    SPAN_EQ(m.appname, "sshd");
    SPAN_EQ(m.procid, "4242");
    SPAN_EQ(m.message, "Accepted publickey"); /* trailing LF gone */

    /* Read on Jan 1st, a Dec 31st date belongs to last year. */
    struct tm jan1 = {.tm_year = 126, .tm_mon = 0, .tm_mday = 1, .tm_hour = 0, .tm_min = 0,
                      .tm_sec = 5};
    sluice_time_t now = (sluice_time_t)timegm(&jan1) * SLUICE_NSEC_PER_SEC;
    const char *s = "<13>Dec 31 23:59:58 h app: late";
    syslog_parse(s, strlen(s), SYSLOG_AUTO, now, &m);
    struct tm dec31 = {.tm_year = 125, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23, .tm_min = 59,
                       .tm_sec = 58};
    ck_assert_int_eq(m.time, (sluice_time_t)timegm(&dec31) * SLUICE_NSEC_PER_SEC);
}
END_TEST

/* What real senders write, field by field as rsyslog takes it. */
START_TEST(test_rfc3164_as_senders_write_it)
{
    setenv("TZ", "UTC", 1);
    tzset();
    /* VMware ESXi and rsyslog's RSYSLOG_ForwardFormat: RFC 3339 in a BSD header. */
    parse("<14>2017-05-21T00:00:01.123Z esx01.example Hostd: verbose hostd[81480B70] started",
          SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.time, INT64_C(1495324801123000000));
    SPAN_EQ(m.timestamp, "2017-05-21T00:00:01.123Z");
    SPAN_EQ(m.hostname, "esx01.example");
    SPAN_EQ(m.appname, "Hostd");
    ck_assert_uint_eq(m.procid.n, 0);
    SPAN_EQ(m.message, "verbose hostd[81480B70] started");

    /* An unpadded day, a year inside the date, a ':' after the time. */
    parse("<167>Mar 7 2008 19:06:53: example tag: text", SYSLOG_AUTO);
    ck_assert_int_eq(m.time, INT64_C(1204916813) * SLUICE_NSEC_PER_SEC);
    SPAN_EQ(m.hostname, "example");
    SPAN_EQ(m.appname, "tag");
    SPAN_EQ(m.message, "text");

    /* Upper- and lower-case months, a space after the PRI, a tag ended by
     * a space. */
    parse("<167> AUG 10 22:18:24 host tag This msg", SYSLOG_AUTO);
    SPAN_EQ(m.timestamp, "AUG 10 22:18:24");
    SPAN_EQ(m.hostname, "host");
    SPAN_EQ(m.appname, "tag");
    SPAN_EQ(m.message, "This msg");
    parse("<38>mar  7 19:06:53 example tag[42] text", SYSLOG_AUTO);
    SPAN_EQ(m.appname, "tag");
    SPAN_EQ(m.procid, "42");
    SPAN_EQ(m.message, "text");

    /* Docker's syslog driver: no host, a tag with '/'. */
    parse("<30>Apr  6 13:21:09 docker/6defd258da22[6128]: NEXT_MSG", SYSLOG_AUTO);
    ck_assert_uint_eq(m.hostname.n, 0);
    SPAN_EQ(m.appname, "docker/6defd258da22");
    SPAN_EQ(m.procid, "6128");
    SPAN_EQ(m.message, "NEXT_MSG");

    /* Cisco ASA: a device name, then ':' as the tag. */
    parse("<166>Mar 06 2016 12:53:10 DEVICENAME : %ASA-6-302013: Built inbound", SYSLOG_AUTO);
    SPAN_EQ(m.hostname, "DEVICENAME");
    ck_assert_uint_eq(m.appname.n, 0);
    SPAN_EQ(m.message, "%ASA-6-302013: Built inbound");

    /* Cisco IOS: a sequence number where the header would be. */
    parse("<186>1541800: Feb 27 06:08:59.485: %HARDWARE-2-FAN_ERROR: Fan Failure", SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.time, 0);
    SPAN_EQ(m.appname, "1541800");
    SPAN_EQ(m.message, "Feb 27 06:08:59.485: %HARDWARE-2-FAN_ERROR: Fan Failure");

    /* A date sluice cannot read is not taken apart into a host and a tag. */
    parse("<14> 05/21/2017:00:00:00 GMT HOSTNAME 1-ABC-2 : default SSLLOG", SYSLOG_AUTO);
    ck_assert_int_eq(m.parse_error, 1);
    ck_assert_uint_eq(m.hostname.n, 0);
    ck_assert_uint_eq(m.appname.n, 0);
    SPAN_EQ(m.message, " 05/21/2017:00:00:00 GMT HOSTNAME 1-ABC-2 : default SSLLOG");
}
END_TEST

START_TEST(test_malformed_kept_whole)
{
    const char *bad[] = {
        "<999>1 2003-10-11T22:14:15Z h a p m - x",       /* PRI out of range */
        "<34>1 2003-13-11T22:14:15Z h a p m - x",        /* month 13 */
        "<34>1 2003-10-11T22:14:15Z h a p m [unterminated x", /* SD */
        "<34>1 2003-10-11T22:14:15Z h a",                /* fields missing */
        "<34",                                           /* truncated PRI */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        parse(bad[i], SYSLOG_AUTO);
        ck_assert_msg(m.parse_error == 1, "'%s' accepted", bad[i]);
        SPAN_EQ(m.message, bad[i]);
    }
    parse("<34>1 whatever", SYSLOG_RAW);
    ck_assert_int_eq(m.parse_error, 0);
    ck_assert_int_eq(m.pri, -1);
    SPAN_EQ(m.message, "<34>1 whatever");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("syslog_parse");
    TCase *tc = tcase_create("syslog_parse");
    tcase_add_test(tc, test_rfc5424_example_1);
    tcase_add_test(tc, test_rfc3164_as_senders_write_it);
    tcase_add_test(tc, test_rfc5424_example_2);
    tcase_add_test(tc, test_rfc5424_examples_3_and_4_structured_data);
    tcase_add_test(tc, test_rfc5424_sd_escapes);
    tcase_add_test(tc, test_rfc3164_examples);
    tcase_add_test(tc, test_rfc3164_tag_pid_and_new_year);
    tcase_add_test(tc, test_malformed_kept_whole);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/* sluice_time_parse: the formats logs use (Apache, ISO 8601 with fractions
 * and zones, RFC 3164 without a year, epoch seconds, 12-hour clocks, names),
 * local time across DST, and errors that say what and where. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/timefmt.h"
#include "testutil.h"

#define S(x) ((sluice_time_t)(x) * SLUICE_NSEC_PER_SEC)
#define NOW S(1795667400) /* 2026-11-26T04:30:00Z */

static sluice_time_t
parse_ok(const char *fmt, const char *text, long tz, sluice_time_t now)
{
    sluice_time_t t = 0;
    char err[128] = "";
    int r = sluice_time_parse(fmt, text, strlen(text), tz, now, &t, err, sizeof err);
    ck_assert_msg(r == 0, "'%s' by '%s': %s", text, fmt, err);
    return t;
}

static void
parse_err(const char *fmt, const char *text, const char *want)
{
    sluice_time_t t;
    char err[128] = "";
    ck_assert_int_eq(sluice_time_parse(fmt, text, strlen(text), 0, NOW, &t, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
}

START_TEST(test_common_log_formats)
{
    ck_assert_int_eq(parse_ok("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", 0, NOW),
                     S(971211336));
    ck_assert_int_eq(parse_ok("%Y-%m-%dT%H:%M:%S%z", "2026-11-26T10:00:00.123456789+05:30", 0, NOW),
                     S(1795667400) + 123456789);
    /* The fraction is optional after %S; Z is UTC; more than 9 digits truncate. */
    ck_assert_int_eq(parse_ok("%Y-%m-%dT%H:%M:%S%z", "2026-11-26T04:30:00Z", 3600, NOW),
                     S(1795667400));
    ck_assert_int_eq(parse_ok("%Y-%m-%dT%H:%M:%S%z", "2026-11-26T04:30:00.1234567891Z", 0, NOW),
                     S(1795667400) + 123456789);
    ck_assert_int_eq(parse_ok("%F %T,%L", "2024-02-29 10:00:00,5", 0, NOW),
                     S(1709200800) + 500000000);
    ck_assert_int_eq(parse_ok("%s", "1795667400.25", 0, NOW), S(1795667400) + 250000000);
    ck_assert_int_eq(parse_ok("%s", "-1.5", 0, NOW), -S(1) - 500000000);
    ck_assert_int_eq(
        parse_ok("%a %B %d %I:%M:%S %p %Y %Z", "thu NOVEMBER 26 01:02:03 pm 2026 UTC", 0, NOW),
        S(1795698123));
    ck_assert_int_eq(parse_ok("%I:%M %p %Y-%m-%d", "12:00 AM 2026-02-09", 0, NOW), S(1770595200));
    ck_assert_int_eq(parse_ok("%Y %j", "2026 40", 0, NOW), S(1770595200));
    /* A fixed zone applies when the text has none; its own zone wins. */
    ck_assert_int_eq(parse_ok("%Y-%m-%d %H:%M:%S", "2026-11-26 10:00:00", 19800, NOW),
                     S(1795667400));
    ck_assert_int_eq(parse_ok("%Y-%m-%d %H:%M:%S %z", "2026-11-26 04:30:00 +0000", 19800, NOW),
                     S(1795667400));
    /* White space in the format matches any run, trailing space is fine. */
    ck_assert_int_eq(parse_ok("%Y-%m-%d %H:%M:%S", "2026-11-26\t \t04:30:00  ", 0, NOW),
                     S(1795667400));
}
END_TEST

START_TEST(test_no_year_takes_the_nearest)
{
    ck_assert_int_eq(parse_ok("%b %e %H:%M:%S", "Nov  6 01:02:03", 0, NOW), S(1793926923));
    /* Dec 31 read just after New Year belongs to the year before. */
    ck_assert_int_eq(parse_ok("%b %d %H:%M:%S", "Dec 31 23:59:59", 0, S(1798761610)),
                     S(1798761599));
}
END_TEST

START_TEST(test_local_time_follows_dst)
{
    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    tzset();
    long tz;
    ck_assert_int_eq(sluice_time_zone_parse("local", &tz), 0);
    ck_assert_int_eq(parse_ok("%F %T", "2026-07-01 12:00:00", tz, NOW), S(1782921600));
    ck_assert_int_eq(parse_ok("%F %T", "2026-01-15 12:00:00", tz, NOW), S(1768496400));
}
END_TEST

START_TEST(test_zone_names)
{
    long tz;
    ck_assert_int_eq(sluice_time_zone_parse("+05:30", &tz), 0);
    ck_assert_int_eq(tz, 19800);
    ck_assert_int_eq(sluice_time_zone_parse("-1000", &tz), 0);
    ck_assert_int_eq(tz, -36000);
    ck_assert_int_eq(sluice_time_zone_parse("UTC", &tz), 0);
    ck_assert_int_eq(tz, 0);
    ck_assert_int_eq(sluice_time_zone_parse("+5", &tz), -1);
    ck_assert_int_eq(sluice_time_zone_parse("+15:00", &tz), -1);
    ck_assert_int_eq(sluice_time_zone_parse("Europe/Paris", &tz), -1);
}
END_TEST

START_TEST(test_errors_say_what_and_where)
{
    parse_err("%d/%b/%Y", "10-Oct-2000", "expected '/' at byte 2");
    parse_err("%d/%b/%Y", "10/Okt/2000", "expected a month name at byte 3");
    parse_err("%Y-%m-%d", "2026-13-01", "month 13 out of range 1..12 at byte 5");
    parse_err("%Y-%m-%d", "2026-02-29", "day 29 past the end of month 2 at byte 10");
    parse_err("%Y-%m-%d", "2026-02-28 trailing", "unexpected text after the time at byte 11");
    parse_err("%Y-%m-%d", "", "expected the year (digits) at byte 0");
    parse_err("%Y-%m-%d %z", "2026-02-28 +25:00", "zone offset out of range at byte 12");
    parse_err("%Y %Q", "2026 x", "unknown directive %Q in the format at byte 5");
    parse_err("%Y", "3000", "year 3000 out of range 1678..2261 at byte 4");
    parse_err("%s", "99999999999999", "seconds since the epoch out of range at byte 11");
    parse_err("%H:%M:%S.%f", "10:00:00.", "expected fractional seconds (digits) at byte 9");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("time_parse");
    TCase *tc = tcase_create("time_parse");
    tcase_add_test(tc, test_common_log_formats);
    tcase_add_test(tc, test_no_year_takes_the_nearest);
    tcase_add_test(tc, test_local_time_follows_dst);
    tcase_add_test(tc, test_zone_names);
    tcase_add_test(tc, test_errors_say_what_and_where);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

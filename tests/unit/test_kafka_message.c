/* The kafka output's messages: the value in each format, the key from a
 * field, the sluice.time header's digits (cached per second), and the
 * events a format cannot send. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/out_kafka/kafka_message.h"
#include "testutil.h"

#define T0 (INT64_C(1795667400000000123))

typedef struct built {
    kafka_message m;
    int rc;
    char why[200];
    char value[512], key[128], time[32];
} built;

static built
build(int format, const char *field, const char *key, sluice_time_t t, const char *json)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, t, json);
    sluice_buf scratch = SLUICE_BUF_INIT;
    built b = {0};
    b.rc = kafka_message_build(&b.m, format, field, key, &ev, &scratch, b.why, sizeof b.why);
    if (b.rc == 0) {
        ck_assert_uint_lt(b.m.value_len, sizeof b.value);
        memcpy(b.value, b.m.value, b.m.value_len);
        if (b.m.key) {
            ck_assert_uint_lt(b.m.key_len, sizeof b.key);
            memcpy(b.key, b.m.key, b.m.key_len);
        }
        memcpy(b.time, b.m.time, b.m.time_len);
    }
    sluice_buf_free(&scratch);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return b;
}

START_TEST(test_json_value_and_key)
{
    built b = build(KAFKA_FORMAT_JSON, "message", "user", T0,
                    "{\"message\":\"a \\\"quoted\\\" line\\n\",\"user\":\"ann\",\"n\":3}");
    ck_assert_int_eq(b.rc, 0);
    ck_assert_str_eq(b.value, "{\"message\":\"a \\\"quoted\\\" line\\n\",\"user\":\"ann\",\"n\":3}");
    ck_assert_str_eq(b.key, "ann");
    ck_assert_str_eq(b.time, "1795667400000000123");
    /* A key that is not a string is its JSON text; no such field, no key. */
    b = build(KAFKA_FORMAT_JSON, "message", "n", T0, "{\"n\":3}");
    ck_assert_str_eq(b.key, "3");
    b = build(KAFKA_FORMAT_JSON, "message", "absent", T0, "{\"n\":3}");
    ck_assert_ptr_null(b.m.key);
}
END_TEST

START_TEST(test_msgpack_value_is_the_body)
{
    built b = build(KAFKA_FORMAT_MSGPACK, "message", NULL, T0, "{\"a\":1}");
    ck_assert_int_eq(b.rc, 0);
    ck_assert_uint_eq(b.m.value_len, 4);
    ck_assert_int_eq(memcmp(b.value, "\x81\xa1" "a\x01", 4), 0);
}
END_TEST

START_TEST(test_raw_value)
{
    built b = build(KAFKA_FORMAT_RAW, "message", NULL, T0, "{\"message\":\"plain text\"}");
    ck_assert_int_eq(b.rc, 0);
    ck_assert_str_eq(b.value, "plain text");
    b = build(KAFKA_FORMAT_RAW, "code", NULL, T0, "{\"code\":{\"x\":[1,2]}}");
    ck_assert_str_eq(b.value, "{\"x\":[1,2]}");
    b = build(KAFKA_FORMAT_RAW, "message", NULL, T0, "{\"other\":1}");
    ck_assert_int_eq(b.rc, -1);
    ck_assert_str_eq(b.why, "format raw sends field 'message', which the event lacks");
}
END_TEST

/* Every digit of the nanoseconds, leading zeros of the fraction kept;
 * times in the first second the plain way. */
START_TEST(test_time_digits)
{
    static const struct {
        sluice_time_t t;
        const char *text;
    } cases[] = {
        {T0, "1795667400000000123"},
        {T0 + 1, "1795667400000000124"},       /* the same second: cached */
        {T0 + 999999876, "1795667400999999999"},
        {T0 + 999999877, "1795667401000000000"}, /* the next second */
        {T0, "1795667400000000123"},             /* and back */
        {INT64_C(1000000000), "1000000000"},
        {INT64_C(999999999), "999999999"},
        {0, "0"},
        {INT64_C(4294967295999999999), "4294967295999999999"}, /* the last EventTime */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        built b = build(KAFKA_FORMAT_JSON, "message", NULL, cases[i].t, "{}");
        ck_assert_int_eq(b.rc, 0);
        ck_assert_str_eq(b.time, cases[i].text);
        ck_assert_uint_eq(b.m.time_len, strlen(cases[i].text));
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("kafka_message");
    TCase *tc = tcase_create("kafka_message");
    tcase_add_test(tc, test_json_value_and_key);
    tcase_add_test(tc, test_msgpack_value_is_the_body);
    tcase_add_test(tc, test_raw_value);
    tcase_add_test(tc, test_time_digits);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

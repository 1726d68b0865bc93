/* The JSON parser: the JSONTestSuite conformance cases (every y_ accepted,
 * every n_ rejected, every i_ survived), exact values, escapes, UTF-8, the
 * nesting bound, and objects without some members. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/format.h"
#include "sluice/json.h"
#include "testutil.h"

#define SUITE_DIR SLUICE_SOURCE_DIR "/../shared/testdata/JSONTestSuite/test_parsing"

/* Parse `text` and render it back as JSON; NULL when rejected. */
static char *
round_trip(const char *text, size_t len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[128];
    if (sluice_json_to_msgpack(text, len, &pk, err, sizeof err) < 0) {
        ck_assert_uint_eq(sb.size, 0); /* nothing packed on failure */
        msgpack_sbuffer_destroy(&sb);
        return NULL;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    ck_assert_int_eq(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    ck_assert_uint_eq(off, sb.size);
    /* The very bytes msgpack-c packs for the same value: the smallest forms. */
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    msgpack_packer apk;
    msgpack_packer_init(&apk, &again, msgpack_sbuffer_write);
    msgpack_pack_object(&apk, up.data);
    ck_assert_uint_eq(again.size, sb.size);
    ck_assert(memcmp(again.data, sb.data, sb.size) == 0);
    msgpack_sbuffer_destroy(&again);
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_json_value(&out, &up.data);
    sluice_buf_putc(&out, '\0');
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    return out.data;
}

START_TEST(test_json_test_suite)
{
    DIR *d = opendir(SUITE_DIR);
    ck_assert_msg(d != NULL, "JSONTestSuite not found at %s", SUITE_DIR);
    struct dirent *de;
    int y = 0, n = 0, i = 0;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (name[0] != 'y' && name[0] != 'n' && name[0] != 'i')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SUITE_DIR, name);
        size_t len;
        char *text = test_read(path, &len);
        ck_assert_ptr_nonnull(text);
        char *json = round_trip(text, len);
        if (name[0] == 'y') {
            ck_assert_msg(json != NULL, "%s must be accepted", name);
            /* What we render parses again. */
            char *again = round_trip(json, strlen(json));
            ck_assert_msg(again != NULL, "%s: our own output %s does not parse", name, json);
            free(again);
            y++;
        } else if (name[0] == 'n') {
            ck_assert_msg(json == NULL, "%s must be rejected, got %s", name, json);
            n++;
        } else {
            i++;
        }
        free(json);
        free(text);
    }
    closedir(d);
    fprintf(stderr, "JSONTestSuite: %d y_ accepted, %d n_ rejected, %d i_ survived\n", y, n, i);
    ck_assert_int_gt(y, 90);
    ck_assert_int_gt(n, 180);
}
END_TEST

START_TEST(test_json_values_exact)
{
    const char *in = " {\"a\": [1, -2, 1.5, -0, true, false, null],"
                     " \"big\": 18446744073709551615, \"min\": -9223372036854775808,"
                     " \"huge\": 1e400, \"over\": 18446744073709551616} ";
    char *s = round_trip(in, strlen(in));
    ck_assert_str_eq(s, "{\"a\":[1,-2,1.5,0,true,false,null],\"big\":18446744073709551615,"
                        "\"min\":-9223372036854775808,\"huge\":null,"
                        "\"over\":1.8446744073709552e+19}");
    free(s);
}
END_TEST

/* An object without some members, rendered back as JSON; NULL if refused. */
static char *
object_without(const char *text, const char *const *drop, size_t n_drop)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    sluice_json_members m;
    char err[128];
    char *r = NULL;
    if (sluice_json_object_without(text, strlen(text), drop, n_drop, &sb, &m, err, sizeof err) ==
        0) {
        /* The members under a map header of the canonical (smallest) size. */
        msgpack_sbuffer map;
        msgpack_sbuffer_init(&map);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &map, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, m.count);
        msgpack_sbuffer_write(&map, m.data, m.len);
        ck_assert_uint_eq(m.data - sb.data, map.size - m.len);
        ck_assert(memcmp(sb.data, map.data, map.size - m.len) == 0);
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        ck_assert_int_eq(msgpack_unpack_next(&up, map.data, map.size, &off),
                         MSGPACK_UNPACK_SUCCESS);
        ck_assert_uint_eq(off, map.size);
        sluice_buf out = SLUICE_BUF_INIT;
        sluice_json_value(&out, &up.data);
        sluice_buf_putc(&out, '\0');
        r = out.data;
        msgpack_unpacked_destroy(&up);
        msgpack_sbuffer_destroy(&map);
    }
    msgpack_sbuffer_destroy(&sb);
    return r;
}

/* Members named like the fields an input adds go, at the top level only,
 * every one of a repeated name; the map header shrinks with the count. */
START_TEST(test_json_object_without)
{
    const char *drop[] = {"path", NULL, "off", "file\x01"};
    char *s = object_without("{\"a\":1,\"path\":{\"path\":2},\"b\":[3],\"path\":\"x\","
                             "\"c\":{\"off\":4},\"off\":null,\"pat\":5,\"paths\":6}",
                             drop, 4);
    ck_assert_str_eq(s, "{\"a\":1,\"b\":[3],\"c\":{\"off\":4},\"pat\":5,\"paths\":6}");
    free(s);
    s = object_without("{\"path\":1}", drop, 4);
    ck_assert_str_eq(s, "{}");
    free(s);
    s = object_without("{\"p\\u0061th\":1,\"q\":2}", drop, 4); /* escaped: still "path" */
    ck_assert_str_eq(s, "{\"q\":2}");
    free(s);
    s = object_without("{\"path\":1}", NULL, 0);
    ck_assert_str_eq(s, "{\"path\":1}");
    free(s);
    /* 16 members (map 16) less one: 15 (fixmap). */
    sluice_buf in = SLUICE_BUF_INIT, want = SLUICE_BUF_INIT;
    sluice_buf_putc(&in, '{');
    sluice_buf_putc(&want, '{');
    for (int i = 0; i < 16; i++) {
        sluice_buf_printf(&in, "%s\"%s\":%d", i ? "," : "", i == 7 ? "off" : "k", i);
        if (i != 7)
            sluice_buf_printf(&want, "%s\"k\":%d", i ? "," : "", i);
    }
    sluice_buf_printf(&in, "}");
    sluice_buf_printf(&want, "}");
    s = object_without(in.data, drop, 4);
    ck_assert_str_eq(s, want.data);
    free(s);
    sluice_buf_free(&in);
    sluice_buf_free(&want);
    /* Not an object: refused, as by sluice_json_object. */
    ck_assert_ptr_null(object_without("[{\"path\":1}]", drop, 4));
    ck_assert_ptr_null(object_without("{\"path\":", drop, 4));
}
END_TEST

START_TEST(test_json_strings)
{
    const char *in = "[\"tab\\t nl\\n \\\"q\\\" \\\\ \\/ \\u00e9 \\ud83d\\ude00 \\ud800 x\"]";
    char *s = round_trip(in, strlen(in));
    ck_assert_str_eq(s, "[\"tab\\t nl\\n \\\"q\\\" \\\\ / \xc3\xa9 \xf0\x9f\x98\x80 "
                        "\xef\xbf\xbd x\"]");
    free(s);
    /* Invalid UTF-8 inside a string becomes U+FFFD. */
    s = round_trip("\"a\xff" "b\"", 5);
    ck_assert_str_eq(s, "\"a\xef\xbf\xbd" "b\"");
    free(s);
}
END_TEST

/* Numbers read on the fast path equal what strtod and strtoll make of
 * them, bit for bit, over 50,000 random integers and decimals of every length
 * and exponent around the path's limits. */
START_TEST(test_json_numbers_as_strtod)
{
    srand(7);
    for (int i = 0; i < 50000; i++) {
        char text[64];
        int n = 0;
        if (rand() % 2)
            text[n++] = '-';
        int ints = 1 + rand() % 20, fracs = rand() % 18;
        text[n++] = (char)('1' + rand() % 9);
        for (int k = 1; k < ints; k++)
            text[n++] = (char)('0' + rand() % 10);
        if (fracs) {
            text[n++] = '.';
            for (int k = 0; k < fracs; k++)
                text[n++] = (char)('0' + rand() % 10);
        }
        if (rand() % 3 == 0)
            n += snprintf(text + n, sizeof text - (size_t)n, "e%d", rand() % 60 - 30);
        text[n] = '\0';
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        char err[64];
        ck_assert_int_eq(sluice_json_to_msgpack(text, (size_t)n, &pk, err, sizeof err), 0);
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        ck_assert(msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS);
        int integer = !strchr(text, '.') && !strchr(text, 'e');
        if (integer && up.data.type != MSGPACK_OBJECT_FLOAT64) {
            errno = 0;
            if (text[0] == '-')
                ck_assert_msg(up.data.via.i64 == strtoll(text, NULL, 10), "%s", text);
            else
                ck_assert_msg(up.data.via.u64 == strtoull(text, NULL, 10), "%s", text);
        } else {
            ck_assert_int_eq(up.data.type, MSGPACK_OBJECT_FLOAT64);
            double want = strtod(text, NULL);
            ck_assert_msg(memcmp(&up.data.via.f64, &want, sizeof want) == 0, "%s: %.17g != %.17g",
                          text, up.data.via.f64, want);
        }
        msgpack_unpacked_destroy(&up);
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

START_TEST(test_json_rejects_with_position)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[128];
    ck_assert_int_eq(sluice_json_to_msgpack("{\"a\": tru}", 10, &pk, err, sizeof err), -1);
    ck_assert_str_eq(err, "unexpected character at byte 6");
    ck_assert_int_eq(sluice_json_to_msgpack("[1,]", 4, &pk, err, sizeof err), -1);
    ck_assert_str_eq(err, "bad number at byte 3");
    /* Nesting is bounded. */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    ck_assert_int_eq(sluice_json_to_msgpack(deep, 200, &pk, err, sizeof err), -1);
    ck_assert_str_eq(err, "nested too deeply at byte 30");
    ck_assert_uint_eq(sb.size, 0);
    /* The deepest it accepts still reads back as an event's field. */
    char max[2 * SLUICE_JSON_MAX_DEPTH];
    memset(max, '[', SLUICE_JSON_MAX_DEPTH);
    memset(max + SLUICE_JSON_MAX_DEPTH, ']', SLUICE_JSON_MAX_DEPTH);
    test_event_head(&pk, 0);
    msgpack_pack_map(&pk, 1);
    sluice_pack_cstr(&pk, "wrapped");
    ck_assert_int_eq(sluice_json_to_msgpack(max, sizeof max, &pk, err, sizeof err), 0);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, sb.data, sb.size);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("json_parse");
    TCase *tc = tcase_create("json_parse");
    tcase_add_test(tc, test_json_test_suite);
    tcase_add_test(tc, test_json_values_exact);
    tcase_add_test(tc, test_json_strings);
    tcase_add_test(tc, test_json_object_without);
    tcase_add_test(tc, test_json_rejects_with_position);
    tcase_add_test(tc, test_json_numbers_as_strtod);
    tcase_set_timeout(tc, 120); /* the random numbers, under ASan */
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

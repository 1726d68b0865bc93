/* Option schemas: scalar parsers, typed filling, defaults, ranges, enums,
 * lists, maps as MessagePack, sections, suggestions and check hooks. */
#include <check.h>

#include "testutil.h"
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "option.h"
#include "xalloc.h"

START_TEST(test_option_durations)
{
    int64_t ns;
    ck_assert_int_eq(option_parse_duration("500ms", &ns), 0);
    ck_assert_int_eq(ns, 500 * SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(option_parse_duration("1s", &ns), 0);
    ck_assert_int_eq(ns, SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(option_parse_duration("5m", &ns), 0);
    ck_assert_int_eq(ns, 300 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(option_parse_duration("1h", &ns), 0);
    ck_assert_int_eq(ns, 3600 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(option_parse_duration("1.5s", &ns), 0);
    ck_assert_int_eq(ns, 1500 * SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(option_parse_duration("2", &ns), 0);
    ck_assert_int_eq(ns, 2 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(option_parse_duration("250us", &ns), 0);
    ck_assert_int_eq(ns, 250000);
    ck_assert_int_eq(option_parse_duration("1d", &ns), 0);
    ck_assert_int_eq(ns, 86400 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(option_parse_duration("-1s", &ns), -1);
    ck_assert_int_eq(option_parse_duration("1 fortnight", &ns), -1);
    ck_assert_int_eq(option_parse_duration("", &ns), -1);
    ck_assert_int_eq(option_parse_duration("s", &ns), -1);
    ck_assert_int_eq(option_parse_duration("1e30h", &ns), -1);
}
END_TEST

START_TEST(test_option_sizes)
{
    int64_t b;
    ck_assert_int_eq(option_parse_size("512KiB", &b), 0);
    ck_assert_int_eq(b, 512 * 1024);
    ck_assert_int_eq(option_parse_size("2MiB", &b), 0);
    ck_assert_int_eq(b, 2 * 1024 * 1024);
    ck_assert_int_eq(option_parse_size("1GiB", &b), 0);
    ck_assert_int_eq(b, INT64_C(1) << 30);
    ck_assert_int_eq(option_parse_size("1MB", &b), 0);
    ck_assert_int_eq(b, 1000000);
    ck_assert_int_eq(option_parse_size("4K", &b), 0);
    ck_assert_int_eq(b, 4096);
    ck_assert_int_eq(option_parse_size("100", &b), 0);
    ck_assert_int_eq(b, 100);
    ck_assert_int_eq(option_parse_size("1.5KiB", &b), 0);
    ck_assert_int_eq(b, 1536);
    ck_assert_int_eq(option_parse_size("2 MBs", &b), -1);
    ck_assert_int_eq(option_parse_size("-1K", &b), -1);
    ck_assert_int_eq(option_parse_size("lots", &b), -1);
}
END_TEST

START_TEST(test_option_scalars)
{
    int64_t i;
    int flag;
    double d;
    ck_assert_int_eq(option_parse_int("42", &i), 0);
    ck_assert_int_eq(i, 42);
    ck_assert_int_eq(option_parse_int("0x10", &i), 0);
    ck_assert_int_eq(i, 16);
    ck_assert_int_eq(option_parse_int("0644", &i), 0);
    ck_assert_int_eq(i, 0644);
    ck_assert_int_eq(option_parse_int("4 2", &i), -1);
    ck_assert_int_eq(option_parse_int("99999999999999999999", &i), -1);
    ck_assert_int_eq(option_parse_bool("yes", &flag), 0);
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(option_parse_bool("Off", &flag), 0);
    ck_assert_int_eq(flag, 0);
    ck_assert_int_eq(option_parse_bool("maybe", &flag), -1);
    ck_assert_int_eq(option_parse_double("2.5e3", &d), 0);
    ck_assert_double_eq(d, 2500.0);
    ck_assert_int_eq(option_parse_double("nan", &d), -1);
}
END_TEST

START_TEST(test_option_suggestions)
{
    const char *names[] = {"flush_interval", "grace", "log_level", "max_memory"};
    ck_assert_str_eq(option_suggest("flush_intervall", names, 4), "flush_interval");
    ck_assert_str_eq(option_suggest("grcae", names, 4), "grace");
    ck_assert_str_eq(option_suggest("max_mem", names, 4), "max_memory");
    ck_assert_ptr_null(option_suggest("colour", names, 4));
}
END_TEST

typedef struct all_types {
    char *str;
    int64_t num;
    double ratio;
    int flag;
    int64_t wait;
    int64_t size;
    int mode;
    sluice_strlist paths;
    sluice_bytes record;
    int sub_on;
    char *sub_name;
} all_types;

static const char *const modes[] = {"fast", "safe", NULL};

static const sluice_option sub_schema[] = {
    {.name = "name", .type = SLUICE_OPT_STR, .def = "inner",
     .offset = offsetof(all_types, sub_name)},
    SLUICE_OPTIONS_END,
};

static const sluice_option schema[] = {
    {.name = "str", .type = SLUICE_OPT_STR, .def = "hello", .offset = offsetof(all_types, str)},
    {.name = "num", .type = SLUICE_OPT_INT, .def = "7", .flags = SLUICE_OPT_RANGE, .min = 1,
     .max = 10, .offset = offsetof(all_types, num)},
    {.name = "ratio", .type = SLUICE_OPT_DOUBLE, .def = "0.25",
     .offset = offsetof(all_types, ratio)},
    {.name = "flag", .type = SLUICE_OPT_BOOL, .def = "true", .offset = offsetof(all_types, flag)},
    {.name = "wait", .type = SLUICE_OPT_DURATION, .def = "1500ms",
     .offset = offsetof(all_types, wait)},
    {.name = "size", .type = SLUICE_OPT_SIZE, .def = "2MiB", .offset = offsetof(all_types, size)},
    {.name = "mode", .type = SLUICE_OPT_ENUM, .def = "safe", .values = modes,
     .offset = offsetof(all_types, mode)},
    {.name = "paths", .type = SLUICE_OPT_STR_LIST, .def = "[/a, /b]",
     .offset = offsetof(all_types, paths)},
    {.name = "record", .type = SLUICE_OPT_MAP, .def = "{k: v, n: 3, f: 1.5, t: true, z: ~}",
     .offset = offsetof(all_types, record)},
    {.name = "sub", .type = SLUICE_OPT_SECTION, .flags = SLUICE_OPT_OFF,
     .offset = offsetof(all_types, sub_on), .sub = sub_schema},
    SLUICE_OPTIONS_END,
};

START_TEST(test_option_defaults_applied)
{
    all_types t = {0};
    cfg_errors errs = {0};
    ck_assert_int_eq(option_fill(schema, &t, NULL, "x", NULL, &errs), 0);
    ck_assert_str_eq(t.str, "hello");
    ck_assert_int_eq(t.num, 7);
    ck_assert_double_eq(t.ratio, 0.25);
    ck_assert_int_eq(t.flag, 1);
    ck_assert_int_eq(t.wait, 1500 * SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(t.size, 2 << 20);
    ck_assert_int_eq(t.mode, 1);
    ck_assert_uint_eq(t.paths.n, 2);
    ck_assert_str_eq(t.paths.v[1], "/b");
    ck_assert_int_eq(t.sub_on, 1);
    ck_assert_str_eq(t.sub_name, "inner");

    /* The map default is a MessagePack map with YAML's scalar types. */
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    ck_assert_int_eq(msgpack_unpack_next(&up, t.record.data, t.record.len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    ck_assert_int_eq(up.data.type, MSGPACK_OBJECT_MAP);
    ck_assert_uint_eq(up.data.via.map.size, 5);
    const msgpack_object_kv *kv = up.data.via.map.ptr;
    ck_assert_int_eq(kv[0].val.type, MSGPACK_OBJECT_STR);
    ck_assert_int_eq(kv[1].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    ck_assert_int_eq(kv[2].val.type, MSGPACK_OBJECT_FLOAT64);
    ck_assert_int_eq(kv[3].val.type, MSGPACK_OBJECT_BOOLEAN);
    ck_assert_int_eq(kv[4].val.type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy(&up);
    option_free(schema, &t);
    ck_assert_ptr_null(t.str);
    cfg_errors_free(&errs);
}
END_TEST

START_TEST(test_option_values_override_defaults)
{
    const char *yaml = "str: there\nnum: 3\nflag: off\nwait: 2m\nmode: fast\npaths: /only\n"
                       "record: {q: '12'}\nsub: off\n";
    cfg_errors errs = {0};
    cfg_node *root = cfg_parse_string("t", yaml, strlen(yaml), &errs);
    ck_assert_ptr_nonnull(root);
    all_types t = {0};
    ck_assert_int_eq(option_fill(schema, &t, root, "x", NULL, &errs), 0);
    ck_assert_str_eq(t.str, "there");
    ck_assert_int_eq(t.num, 3);
    ck_assert_int_eq(t.flag, 0);
    ck_assert_int_eq(t.wait, 120 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(t.mode, 0);
    ck_assert_uint_eq(t.paths.n, 1);
    ck_assert_str_eq(t.paths.v[0], "/only");
    ck_assert_int_eq(t.sub_on, 0);
    /* A quoted scalar stays a string. */
    ck_assert_uint_eq(t.record.len, 6);
    ck_assert_int_eq((unsigned char)t.record.data[3], 0xa2);
    option_free(schema, &t);
    cfg_tree_free(root);
    cfg_errors_free(&errs);
}
END_TEST

START_TEST(test_option_range_and_required)
{
    static const sluice_option req[] = {
        {.name = "path", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED},
        SLUICE_OPTIONS_END,
    };
    const char *yaml = "num: 11\n";
    cfg_errors errs = {0};
    cfg_node *root = cfg_parse_string("t", yaml, strlen(yaml), &errs);
    all_types t = {0};
    ck_assert_int_eq(option_fill(schema, &t, root, "x", NULL, &errs), 1);
    char *msg = cfg_error_str(&errs.v[0]);
    ck_assert_str_eq(msg, "t:1:6: x.num: expected an integer from 1 to 10, found '11'");
    free(msg);
    option_free(schema, &t);

    char *path = NULL;
    ck_assert_int_eq(option_fill(req, &path, root, "y", (const char *const[]){"num", NULL},
                                 &errs),
                     1);
    msg = cfg_error_str(&errs.v[1]);
    ck_assert_str_eq(msg, "t:1:1: y: missing required option 'path'");
    free(msg);
    cfg_tree_free(root);
    cfg_errors_free(&errs);
}
END_TEST

static int
no_spaces(const void *value, char *err, size_t errlen)
{
    const char *s = *(char *const *)value;
    if (!strchr(s, ' '))
        return 0;
    snprintf(err, errlen, "'%s' has a space", s);
    return -1;
}

/* A plugin's check hook judges what the config gave (each item of a list
 * on its own, located), and never the defaults. */
START_TEST(test_option_check_hook)
{
    typedef struct {
        char *name;
        sluice_strlist hosts;
    } checked;
    static const sluice_option with_check[] = {
        {.name = "name", .type = SLUICE_OPT_STR, .def = "a b", .check = no_spaces,
         .offset = offsetof(checked, name)},
        {.name = "hosts", .type = SLUICE_OPT_STR_LIST, .check = no_spaces,
         .offset = offsetof(checked, hosts)},
        SLUICE_OPTIONS_END,
    };
    const char *yaml = "hosts: [ok, 'x y', fine, 'p q']\n";
    cfg_errors errs = {0};
    cfg_node *root = cfg_parse_string("t", yaml, strlen(yaml), &errs);
    checked c = {0};
    ck_assert_int_eq(option_fill(with_check, &c, root, "x", NULL, &errs), 2);
    ck_assert_str_eq(c.name, "a b");
    char *msg = cfg_error_str(&errs.v[0]);
    ck_assert_str_eq(msg, "t:1:13: x.hosts[1]: 'x y' has a space");
    free(msg);
    msg = cfg_error_str(&errs.v[1]);
    ck_assert_str_eq(msg, "t:1:26: x.hosts[3]: 'p q' has a space");
    free(msg);
    option_free(with_check, &c);
    cfg_tree_free(root);

    yaml = "name: two words\nhosts: one\n";
    root = cfg_parse_string("t", yaml, strlen(yaml), &errs);
    ck_assert_int_eq(option_fill(with_check, &c, root, "x", NULL, &errs), 1);
    msg = cfg_error_str(&errs.v[2]);
    ck_assert_str_eq(msg, "t:1:7: x.name: 'two words' has a space");
    free(msg);
    option_free(with_check, &c);
    cfg_tree_free(root);
    cfg_errors_free(&errs);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("option");
    TCase *tc = tcase_create("option");
    tcase_add_test(tc, test_option_durations);
    tcase_add_test(tc, test_option_sizes);
    tcase_add_test(tc, test_option_scalars);
    tcase_add_test(tc, test_option_suggestions);
    tcase_add_test(tc, test_option_defaults_applied);
    tcase_add_test(tc, test_option_values_override_defaults);
    tcase_add_test(tc, test_option_range_and_required);
    tcase_add_test(tc, test_option_check_hook);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

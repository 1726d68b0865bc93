/* Events: time encoding, iteration (including malformed tails and the
 * integer/float times other Fluentd-family senders use), field paths,
 * copying a map's members without some keys. */
#include <check.h>
#include <string.h>

#include "sluice/event.h"
#include "testutil.h"

START_TEST(test_event_time_round_trip)
{
    const sluice_time_t times[] = {0, 1, SLUICE_NSEC_PER_SEC - 1,
                                   INT64_C(1764144000123456789), INT64_C(4294967295999999999)};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        char b[8];
        sluice_time_encode(times[i], b);
        ck_assert_int_eq(sluice_time_decode(b), times[i]);
    }
    char b[8];
    sluice_time_encode(INT64_C(1) * SLUICE_NSEC_PER_SEC + 2, b);
    ck_assert_mem_eq(b, "\x00\x00\x00\x01\x00\x00\x00\x02", 8);
}
END_TEST

START_TEST(test_event_iteration_and_malformed_tail)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    test_event_head(&pk, 5 * SLUICE_NSEC_PER_SEC);
    msgpack_pack_map(&pk, 0);
    /* Fluent Bit's legacy integer time. */
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint32(&pk, 7);
    msgpack_pack_map(&pk, 0);
    /* Float time. */
    msgpack_pack_array(&pk, 2);
    msgpack_pack_double(&pk, 8.5);
    msgpack_pack_map(&pk, 0);
    size_t good = sb.size;
    /* Not an event: an array of three. */
    msgpack_pack_array(&pk, 3);
    msgpack_pack_nil(&pk);
    msgpack_pack_nil(&pk);
    msgpack_pack_nil(&pk);

    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, sb.data, sb.size);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    ck_assert_int_eq(ev.time, 5 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    ck_assert_int_eq(ev.time, 7 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    ck_assert_int_eq(ev.time, 8500 * SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(sluice_event_next(&it, &ev), -1);
    ck_assert_ptr_eq(ev.raw, sb.data + good);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 0);
    sluice_event_iter_destroy(&it);

    /* Truncated in the middle of an event. */
    sluice_event_iter_init(&it, sb.data, good - 1);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
    ck_assert_int_eq(sluice_event_next(&it, &ev), -1);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_event_record_paths)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    /* {a: {b: {c: 1}}, a.b: 2, s: "x"} */
    msgpack_pack_map(&pk, 3);
    sluice_pack_cstr(&pk, "a");
    msgpack_pack_map(&pk, 1);
    sluice_pack_cstr(&pk, "b");
    msgpack_pack_map(&pk, 1);
    sluice_pack_cstr(&pk, "c");
    msgpack_pack_int(&pk, 1);
    sluice_pack_cstr(&pk, "a.b");
    msgpack_pack_int(&pk, 2);
    sluice_pack_cstr(&pk, "s");
    sluice_pack_cstr(&pk, "x");
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_next(&up, sb.data, sb.size, &off);
    const msgpack_object *v = sluice_record_get(&up.data, "a.b.c");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq((int)v->via.u64, 1);
    ck_assert_int_eq(sluice_record_get(&up.data, "a.b")->type, MSGPACK_OBJECT_MAP);
    ck_assert_ptr_null(sluice_record_get(&up.data, "a.x"));
    ck_assert_ptr_null(sluice_record_get(&up.data, "s.t"));
    ck_assert_ptr_null(sluice_record_get(&up.data, "a.b.c.d"));
    ck_assert_ptr_null(sluice_record_get(&up.data, ""));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* Members with keys of every string width, a non-string key and nested
 * values; the dropped ones go, the others stay in order, byte for byte. */
START_TEST(test_event_members_without)
{
    msgpack_sbuffer in, out, want;
    msgpack_packer pi, po, pw;
    msgpack_sbuffer_init(&in);
    msgpack_sbuffer_init(&out);
    msgpack_sbuffer_init(&want);
    msgpack_packer_init(&pi, &in, msgpack_sbuffer_write);
    msgpack_packer_init(&po, &out, msgpack_sbuffer_write);
    msgpack_packer_init(&pw, &want, msgpack_sbuffer_write);
    char k32[40], k300[300];
    memset(k32, 'k', 32);
    k32[32] = '\0';
    memset(k300, 'w', 299);
    k300[299] = '\0';
    /* a: 1, <32 k>: [x, {y: 2}], topic: "mine", 7: true, <299 w>: nil, b: "z" */
    const char *keys[] = {"a", k32, "topic", NULL, k300, "b"};
    for (int pass = 0; pass < 2; pass++) {
        msgpack_packer *pk = pass ? &pw : &pi;
        for (int i = 0; i < 6; i++) {
            int keep = i != 2 && i != 4;
            if (pass && !keep)
                continue;
            if (keys[i])
                sluice_pack_cstr(pk, keys[i]);
            else
                msgpack_pack_int(pk, 7);
            switch (i) {
            case 0: msgpack_pack_int(pk, 1); break;
            case 1:
                msgpack_pack_array(pk, 2);
                sluice_pack_cstr(pk, "x");
                msgpack_pack_map(pk, 1);
                sluice_pack_cstr(pk, "y");
                msgpack_pack_int(pk, 2);
                break;
            case 2: sluice_pack_cstr(pk, "mine"); break;
            case 3: msgpack_pack_true(pk); break;
            case 4: msgpack_pack_nil(pk); break;
            default: sluice_pack_cstr(pk, "z"); break;
            }
        }
    }
    const char *drop[] = {"topic", NULL, k300, "absent", "7"};
    ck_assert_uint_eq(sluice_members_without(NULL, in.data, in.size, 6, drop, 5), 4);
    ck_assert_uint_eq(sluice_members_without(&po, in.data, in.size, 6, drop, 5), 4);
    ck_assert_uint_eq(out.size, want.size);
    ck_assert_mem_eq(out.data, want.data, want.size);

    /* Nothing to drop: all of it; a truncated item: stops there. */
    out.size = 0;
    ck_assert_uint_eq(sluice_members_without(&po, in.data, in.size, 6, NULL, 0), 6);
    ck_assert_mem_eq(out.data, in.data, in.size);
    ck_assert_uint_eq(sluice_members_without(NULL, in.data, in.size - 1, 6, drop, 5), 3);
    msgpack_sbuffer_destroy(&in);
    msgpack_sbuffer_destroy(&out);
    msgpack_sbuffer_destroy(&want);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("event");
    tcase_add_test(tc, test_event_time_round_trip);
    tcase_add_test(tc, test_event_iteration_and_malformed_tail);
    tcase_add_test(tc, test_event_record_paths);
    tcase_add_test(tc, test_event_members_without);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/* out_http bodies: any range of a rendered chunk as NDJSON, a JSON array or
 * MessagePack, gzipped or not, exactly. */
#include <check.h>
#include <string.h>
#include <zlib.h>

#include "../../plugins/out_http/http_body.h"
#include "testutil.h"

#define T1 (INT64_C(1764144000) * SLUICE_NSEC_PER_SEC)

static msgpack_sbuffer sb;

static void
setup(void)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int i = 0; i < 3; i++) {
        test_event_head(&pk, T1);
        msgpack_pack_map(&pk, 1);
        sluice_pack_cstr(&pk, "n");
        msgpack_pack_int(&pk, i);
    }
}

static void
teardown(void)
{
    msgpack_sbuffer_destroy(&sb);
}

static char *
range(http_format fmt, size_t first, size_t last)
{
    http_body b;
    http_body_build(&b, fmt, NULL, sb.data, sb.size);
    ck_assert_uint_eq(b.n, 3);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes out = http_body_range(&b, fmt, 0, first, last, &scratch);
    char *s = strndup(out.data, out.len);
    sluice_buf_free(&scratch);
    http_body_free(&b);
    return s;
}

START_TEST(test_http_body_ndjson_ranges)
{
    char *s = range(HTTP_NDJSON, 0, 3);
    ck_assert_str_eq(s, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
    free(s);
    s = range(HTTP_NDJSON, 1, 2);
    ck_assert_str_eq(s, "{\"n\":1}\n");
    free(s);
}
END_TEST

START_TEST(test_http_body_json_array_ranges)
{
    char *s = range(HTTP_JSON_ARRAY, 0, 3);
    ck_assert_str_eq(s, "[{\"n\":0},{\"n\":1},{\"n\":2}]");
    free(s);
    s = range(HTTP_JSON_ARRAY, 2, 3);
    ck_assert_str_eq(s, "[{\"n\":2}]");
    free(s);
    s = range(HTTP_JSON_ARRAY, 0, 2);
    ck_assert_str_eq(s, "[{\"n\":0},{\"n\":1}]");
    free(s);
}
END_TEST

START_TEST(test_http_body_msgpack_is_the_events)
{
    http_body b;
    http_body_build(&b, HTTP_MSGPACK, NULL, sb.data, sb.size);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes all = http_body_range(&b, HTTP_MSGPACK, 0, 0, 3, &scratch);
    ck_assert_uint_eq(all.len, sb.size);
    ck_assert_mem_eq(all.data, sb.data, sb.size);
    sluice_bytes one = http_body_range(&b, HTTP_MSGPACK, 0, 1, 2, &scratch);
    ck_assert_uint_eq(one.len, sb.size / 3);
    http_body_free(&b);
}
END_TEST

START_TEST(test_http_body_gzip_round_trips)
{
    http_body b;
    http_body_build(&b, HTTP_NDJSON, "t", sb.data, sb.size);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes gz = http_body_range(&b, HTTP_NDJSON, 1, 0, 3, &scratch);
    ck_assert_int_eq((unsigned char)gz.data[0], 0x1f);
    ck_assert_int_eq((unsigned char)gz.data[1], 0x8b);
    char plain[512];
    z_stream zs = {0};
    inflateInit2(&zs, 15 + 16);
    zs.next_in = (Bytef *)gz.data;
    zs.avail_in = (uInt)gz.len;
    zs.next_out = (Bytef *)plain;
    zs.avail_out = sizeof plain;
    ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(zs.total_out, b.text.len);
    ck_assert_mem_eq(plain, b.text.data, b.text.len);
    inflateEnd(&zs);
    sluice_buf_free(&scratch);
    http_body_free(&b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("http_body");
    TCase *tc = tcase_create("http_body");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_http_body_ndjson_ranges);
    tcase_add_test(tc, test_http_body_json_array_ranges);
    tcase_add_test(tc, test_http_body_msgpack_is_the_events);
    tcase_add_test(tc, test_http_body_gzip_round_trips);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

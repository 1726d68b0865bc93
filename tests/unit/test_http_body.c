/* Batched HTTP bodies: any range of a rendered chunk as NDJSON, a JSON array
 * or MessagePack, gzipped or not, exactly; an event the renderer refuses
 * gets no piece and the others keep their positions in the chunk. */
#include <check.h>
#include <string.h>
#include <zlib.h>

#include "http_body.h"
#include "sluice/format.h"
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

/* ctx: the format; the event with n == 1 is refused when refuse_one. */
static int refuse_one;

static int
render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out, char *why,
       size_t whylen)
{
    (void)kind;
    const msgpack_object *n = sluice_record_get(&ev->body, "n");
    if (refuse_one && n && n->via.u64 == 1) {
        snprintf(why, whylen, "no");
        return -1;
    }
    sluice_format_event(out, ctx, ev);
    return 0;
}

static const sluice_http_batch_ops ops = {render, NULL, NULL};
static sluice_format_opts json = {SLUICE_FORMAT_JSON, NULL, NULL};
static sluice_format_opts json_t = {SLUICE_FORMAT_JSON, "t", NULL};
static sluice_format_opts mp = {SLUICE_FORMAT_MSGPACK, NULL, NULL};

static char *
range(sluice_format_opts *fmt, int array, size_t first, size_t last)
{
    sluice_http_batch_config cfg = {.ops = &ops, .ctx = fmt, .json_array = array};
    body b;
    body_build(&b, &cfg, SLUICE_EVENT_LOG, sb.data, sb.size, NULL);
    ck_assert_uint_eq(b.n, 3);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes out = body_range(&b, &cfg, first, last, &scratch);
    char *s = strndup(out.data, out.len);
    sluice_buf_free(&scratch);
    body_free(&b);
    return s;
}

START_TEST(test_http_body_ndjson_ranges)
{
    char *s = range(&json, 0, 0, 3);
    ck_assert_str_eq(s, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
    free(s);
    s = range(&json, 0, 1, 2);
    ck_assert_str_eq(s, "{\"n\":1}\n");
    free(s);
}
END_TEST

START_TEST(test_http_body_json_array_ranges)
{
    char *s = range(&json, 1, 0, 3);
    ck_assert_str_eq(s, "[{\"n\":0},{\"n\":1},{\"n\":2}]");
    free(s);
    s = range(&json, 1, 2, 3);
    ck_assert_str_eq(s, "[{\"n\":2}]");
    free(s);
    s = range(&json, 1, 0, 2);
    ck_assert_str_eq(s, "[{\"n\":0},{\"n\":1}]");
    free(s);
}
END_TEST

START_TEST(test_http_body_msgpack_is_the_events)
{
    sluice_http_batch_config cfg = {.ops = &ops, .ctx = &mp};
    body b;
    body_build(&b, &cfg, SLUICE_EVENT_LOG, sb.data, sb.size, NULL);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes all = body_range(&b, &cfg, 0, 3, &scratch);
    ck_assert_uint_eq(all.len, sb.size);
    ck_assert_mem_eq(all.data, sb.data, sb.size);
    sluice_bytes one = body_range(&b, &cfg, 1, 2, &scratch);
    ck_assert_uint_eq(one.len, sb.size / 3);
    body_free(&b);
}
END_TEST

START_TEST(test_http_body_refused_event_has_no_piece)
{
    refuse_one = 1;
    sluice_http_batch_config cfg = {.ops = &ops, .ctx = &json};
    body b;
    body_build(&b, &cfg, SLUICE_EVENT_LOG, sb.data, sb.size, NULL);
    refuse_one = 0;
    ck_assert_uint_eq(b.n, 2);
    ck_assert_uint_eq(b.index[0], 0);
    ck_assert_uint_eq(b.index[1], 2);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes all = body_range(&b, &cfg, 0, 2, &scratch);
    ck_assert_uint_eq(all.len, 16);
    ck_assert_mem_eq(all.data, "{\"n\":0}\n{\"n\":2}\n", 16);
    body_free(&b);
}
END_TEST

/* Shards: event n goes to shard n % 2. */
static unsigned
parity(void *ctx, const sluice_event *ev)
{
    (void)ctx;
    return (unsigned)sluice_record_get(&ev->body, "n")->via.u64;
}

START_TEST(test_http_body_grouped_by_shard)
{
    /* Six events: shard 0 gets n = 0, 2, 4 and shard 1 n = 1, 3, 5, each
     * in its order, as runs of the text. */
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int i = 3; i < 6; i++) {
        test_event_head(&pk, T1);
        msgpack_pack_map(&pk, 1);
        sluice_pack_cstr(&pk, "n");
        msgpack_pack_int(&pk, i);
    }
    sluice_http_batch_config cfg = {.ops = &ops, .ctx = &json, .sequential = 1, .shards = 2,
                                    .shard = parity};
    body bd;
    body_build(&bd, &cfg, SLUICE_EVENT_LOG, sb.data, sb.size, NULL);
    ck_assert_uint_eq(bd.n, 6);
    ck_assert_ptr_nonnull(bd.shard_start);
    ck_assert_uint_eq(bd.shard_start[0], 0);
    ck_assert_uint_eq(bd.shard_start[1], 3);
    ck_assert_uint_eq(bd.shard_start[2], 6);
    static const size_t want[] = {0, 2, 4, 1, 3, 5};
    for (size_t k = 0; k < 6; k++)
        ck_assert_uint_eq(bd.index[k], want[k]);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes b = body_range(&bd, &cfg, 3, 6, &scratch);
    ck_assert_int_eq(strncmp(b.data, "{\"n\":1}\n{\"n\":3}\n{\"n\":5}\n", b.len), 0);
    ck_assert_uint_eq(b.len, 24);
    sluice_buf_free(&scratch);
    body_free(&bd);
}
END_TEST

START_TEST(test_http_body_gzip_round_trips)
{
    sluice_http_output_config http = {.compress = SLUICE_HTTP_COMPRESS_GZIP};
    sluice_http_batch_config cfg = {.ops = &ops, .ctx = &json_t, .http = &http};
    body b;
    body_build(&b, &cfg, SLUICE_EVENT_LOG, sb.data, sb.size, NULL);
    sluice_buf scratch = SLUICE_BUF_INIT;
    sluice_bytes gz = body_range(&b, &cfg, 0, 3, &scratch);
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
    body_free(&b);
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
    tcase_add_test(tc, test_http_body_refused_event_has_no_piece);
    tcase_add_test(tc, test_http_body_gzip_round_trips);
    tcase_add_test(tc, test_http_body_grouped_by_shard);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

/* Chunks: the serialized form round-trips, and every kind of damage is
 * detected and named. */
#include <check.h>
#include <string.h>

#include "chunk.h"
#include "testutil.h"
#include "xalloc.h"

#define N_EVENTS 1000
#define T0 (INT64_C(1764144000) * SLUICE_NSEC_PER_SEC + 123456789)

static chunk *
make_chunk(void)
{
    chunk *c = chunk_new(NULL, SLUICE_EVENT_LOG, 4096);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &c->buf, msgpack_sbuffer_write);
    for (int i = 0; i < N_EVENTS; i++) {
        test_event_head(&pk, T0 + i);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "message", 7);
        msgpack_pack_str_with_body(&pk, "line", 4);
        msgpack_pack_str_with_body(&pk, "seq", 3);
        msgpack_pack_int(&pk, i);
        c->count++;
    }
    return c;
}

/* Header + payload in one buffer, as a chunk file holds it. */
static unsigned char *
serialize(const chunk *c, size_t *len)
{
    *len = CHUNK_HEADER_SIZE + c->buf.size;
    unsigned char *out = xmalloc(*len);
    chunk_encode_header(c, out);
    memcpy(out + CHUNK_HEADER_SIZE, c->buf.data, c->buf.size);
    return out;
}

START_TEST(test_chunk_round_trip)
{
    chunk *c = make_chunk();
    size_t len;
    unsigned char *bytes = serialize(c, &len);
    chunk_header h;
    ck_assert_int_eq(chunk_decode(bytes, len, &h), CHUNK_VALID);
    ck_assert_int_eq(h.kind, SLUICE_EVENT_LOG);
    ck_assert_uint_eq(h.count, N_EVENTS);
    ck_assert_uint_eq(h.payload_len, c->buf.size);
    ck_assert_int_eq(h.created, c->created);

    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, (const char *)bytes + CHUNK_HEADER_SIZE, h.payload_len);
    for (int i = 0; i < N_EVENTS; i++) {
        ck_assert_int_eq(sluice_event_next(&it, &ev), 1);
        ck_assert_int_eq(ev.time, T0 + i);
        const msgpack_object *seq = sluice_record_get(&ev.body, "seq");
        ck_assert_ptr_nonnull(seq);
        ck_assert_int_eq((int)seq->via.u64, i);
    }
    ck_assert_int_eq(sluice_event_next(&it, &ev), 0);
    sluice_event_iter_destroy(&it);
    free(bytes);
    chunk_free(c);
}
END_TEST

START_TEST(test_chunk_damage_detected)
{
    chunk *c = make_chunk();
    size_t len;
    unsigned char *good = serialize(c, &len);
    unsigned char *bad = xmalloc(len);
    chunk_header h;

    memcpy(bad, good, len);
    bad[CHUNK_HEADER_SIZE + len / 2 - 16] ^= 0x40;
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_PAYLOAD);

    memcpy(bad, good, len);
    bad[9] ^= 0x01; /* record count */
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_HEADER);

    ck_assert_int_eq(chunk_decode(good, len - 7, &h), CHUNK_TRUNCATED);
    ck_assert_int_eq(chunk_decode(good, 20, &h), CHUNK_TRUNCATED);
    ck_assert_int_eq(chunk_decode(good, 2, &h), CHUNK_TRUNCATED);

    memcpy(bad, good, len);
    bad[0] = 'X';
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_MAGIC);

    memcpy(bad, good, len);
    bad[4] = 9;
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_VERSION);

    /* A consistent header that claims one event more than the payload has. */
    c->count++;
    chunk_encode_header(c, bad);
    memcpy(bad + CHUNK_HEADER_SIZE, good + CHUNK_HEADER_SIZE, len - CHUNK_HEADER_SIZE);
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_PAYLOAD);
    ck_assert_str_eq(chunk_status_str(CHUNK_BAD_PAYLOAD), "corrupt payload");

    free(bad);
    free(good);
    chunk_free(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("chunk");
    TCase *tc = tcase_create("chunk");
    tcase_add_test(tc, test_chunk_round_trip);
    tcase_add_test(tc, test_chunk_damage_detected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Chunks: the serialized form round-trips, and every kind of damage is
 * detected and named. */
#include <check.h>
#include <string.h>

#include "chunk.h"
#include "msgpack_check.h"
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
    chunk_encode_header(c, 0, out);
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
    chunk_encode_header(c, 0, bad);
    memcpy(bad + CHUNK_HEADER_SIZE, good + CHUNK_HEADER_SIZE, len - CHUNK_HEADER_SIZE);
    ck_assert_int_eq(chunk_decode(bad, len, &h), CHUNK_BAD_PAYLOAD);
    ck_assert_str_eq(chunk_status_str(CHUNK_BAD_PAYLOAD), "corrupt payload");

    free(bad);
    free(good);
    chunk_free(c);
}
END_TEST

START_TEST(test_msgpack_check_refuses_hostile_sizes)
{
    /* An array32 claiming 2^32-1 items, a str32 claiming 4 GiB, a map16
     * claiming more pairs than bytes: all refused without allocating. */
    ck_assert_uint_eq(mp_object_size((const unsigned char *)"\xdd\xff\xff\xff\xff\x01", 6), 0);
    ck_assert_uint_eq(mp_object_size((const unsigned char *)"\xdb\xff\xff\xff\xff" "ab", 7), 0);
    ck_assert_uint_eq(mp_object_size((const unsigned char *)"\xde\x00\x09\x01\x02", 5), 0);
    ck_assert_uint_eq(mp_object_size((const unsigned char *)"\xc1", 1), 0);
    /* Nesting past msgpack-c's own limit. */
    unsigned char deep[40];
    memset(deep, 0x91, sizeof deep);
    deep[39] = 0x01;
    ck_assert_uint_eq(mp_object_size(deep, sizeof deep), 0);
    ck_assert_uint_eq(mp_object_size(deep + 8, sizeof deep - 8), 32);
}
END_TEST

START_TEST(test_msgpack_check_agrees_with_msgpack_c)
{
    chunk *c = make_chunk();
    msgpack_packer pk;
    msgpack_packer_init(&pk, &c->buf, msgpack_sbuffer_write);
    /* Every kind of value, as a last event. */
    test_event_head(&pk, T0);
    msgpack_pack_map(&pk, 12);
    static const char big[70000];
    msgpack_pack_str_with_body(&pk, "a", 1), msgpack_pack_str_with_body(&pk, big, 300);
    msgpack_pack_str_with_body(&pk, "b", 1), msgpack_pack_bin_with_body(&pk, big, 70000);
    msgpack_pack_str_with_body(&pk, "c", 1), msgpack_pack_ext_with_body(&pk, big, 3, 5);
    msgpack_pack_str_with_body(&pk, "d", 1), msgpack_pack_ext_with_body(&pk, big, 0, 5);
    msgpack_pack_str_with_body(&pk, "e", 1), msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_str_with_body(&pk, "f", 1), msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "g", 1), msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_str_with_body(&pk, "h", 1), msgpack_pack_double(&pk, -2.5);
    msgpack_pack_str_with_body(&pk, "i", 1), msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_int(&pk, -i * 1000);
    msgpack_pack_str_with_body(&pk, "j", 1), msgpack_pack_str_with_body(&pk, "", 0);
    msgpack_pack_str_with_body(&pk, "k", 1), msgpack_pack_ext_with_body(&pk, big, 16, 7);
    msgpack_pack_str_with_body(&pk, "l", 1), msgpack_pack_map(&pk, 0);
    c->count++;

    uint32_t n;
    ck_assert_int_eq(mp_check_events(c->buf.data, c->buf.size, &n), 0);
    ck_assert_uint_eq(n, N_EVENTS + 1);
    size_t off = 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    while (off < c->buf.size) {
        size_t k = mp_object_size((const unsigned char *)c->buf.data + off, c->buf.size - off);
        size_t before = off;
        ck_assert_int_eq(msgpack_unpack_next(&up, c->buf.data, c->buf.size, &off),
                         MSGPACK_UNPACK_SUCCESS);
        ck_assert_uint_eq(k, off - before);
    }
    msgpack_unpacked_destroy(&up);
    /* Cut anywhere inside the last event: refused. */
    ck_assert_int_eq(mp_check_events(c->buf.data, c->buf.size - 1, &n), -1);
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
    tcase_add_test(tc, test_msgpack_check_refuses_hostile_sizes);
    tcase_add_test(tc, test_msgpack_check_agrees_with_msgpack_c);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

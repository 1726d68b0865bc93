/* Remote write's wire format, decoded with protobuf-c from the spec's
 * messages: metric events (a counter, a histogram) become TimeSeries with
 * sorted labels, __name__, no empty value, the event's time in ms; pieces
 * concatenate into one WriteRequest; snappy's block format round-trips. */
#include <check.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "remote_write.pb-c.h"
#include "remote_write_encode.h"
#include "testutil.h"

#define T0 INT64_C(1796169153123456789)

static int
encode(const char *json, sluice_buf *out)
{
    msgpack_sbuffer sb;
    sluice_event_iter it;
    sluice_event ev;
    test_event_from_json(&sb, &it, &ev, T0, json);
    int n = rw_encode(&ev, out);
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

static const char *
label(const Sluice__RemoteWrite__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i]->name, name) == 0)
            return ts->labels[i]->value;
    return NULL;
}

START_TEST(test_write_request)
{
    sluice_buf body = SLUICE_BUF_INIT;
    ck_assert_int_eq(encode("{\"name\":\"http_requests_total\",\"kind\":\"counter\",\"tags\":"
                            "{\"status\":\"200\",\"Method\":\"GET\",\"empty\":\"\"},"
                            "\"fields\":{\"value\":42}}",
                            &body),
                     1);
    ck_assert_int_eq(encode("{\"name\":\"lat\",\"kind\":\"histogram\",\"tags\":{\"z\":\"1\"},"
                            "\"fields\":{\"count\":3,\"sum\":1.5,\"bucket_0.5\":2,"
                            "\"bucket_+Inf\":3}}",
                            &body),
                     4);
    ck_assert_int_eq(encode("{\"message\":\"not a metric\"}", &body), -1);

    /* Through snappy and back, as a receiver reads it. */
    sluice_buf z = SLUICE_BUF_INIT;
    rw_snappy(body.data, body.len, &z);
    size_t raw_len;
    ck_assert_int_eq(snappy_uncompressed_length(z.data, z.len, &raw_len), SNAPPY_OK);
    char *raw = malloc(raw_len);
    ck_assert_int_eq(snappy_uncompress(z.data, z.len, raw, &raw_len), SNAPPY_OK);
    ck_assert_uint_eq(raw_len, body.len);
    ck_assert_int_eq(memcmp(raw, body.data, raw_len), 0);

    Sluice__RemoteWrite__WriteRequest *wr =
        sluice__remote_write__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
    ck_assert_ptr_nonnull(wr);
    ck_assert_uint_eq(wr->n_timeseries, 5);
    for (size_t i = 0; i < wr->n_timeseries; i++) {
        const Sluice__RemoteWrite__TimeSeries *ts = wr->timeseries[i];
        ck_assert_uint_eq(ts->n_samples, 1);
        ck_assert_int_eq(ts->samples[0]->timestamp, T0 / 1000000);
        for (size_t k = 1; k < ts->n_labels; k++)
            ck_assert_int_lt(strcmp(ts->labels[k - 1]->name, ts->labels[k]->name), 0);
        for (size_t k = 0; k < ts->n_labels; k++)
            ck_assert_uint_gt(strlen(ts->labels[k]->value), 0);
    }
    const Sluice__RemoteWrite__TimeSeries *c = wr->timeseries[0];
    ck_assert_uint_eq(c->n_labels, 3);
    ck_assert_str_eq(c->labels[0]->name, "Method"); /* byte order: M < _ < s */
    ck_assert_str_eq(c->labels[1]->name, "__name__");
    ck_assert_str_eq(label(c, "__name__"), "http_requests_total");
    ck_assert_str_eq(label(c, "status"), "200");
    ck_assert(c->samples[0]->value == 42);
    ck_assert_str_eq(label(wr->timeseries[1], "__name__"), "lat_count");
    ck_assert_str_eq(label(wr->timeseries[2], "__name__"), "lat_sum");
    ck_assert(wr->timeseries[2]->samples[0]->value == 1.5);
    ck_assert_str_eq(label(wr->timeseries[3], "__name__"), "lat_bucket");
    ck_assert_str_eq(label(wr->timeseries[3], "le"), "0.5");
    ck_assert_str_eq(label(wr->timeseries[4], "le"), "+Inf");
    ck_assert(wr->timeseries[4]->samples[0]->value == 3);
    sluice__remote_write__write_request__free_unpacked(wr, NULL);
    free(raw);
    sluice_buf_free(&z);
    sluice_buf_free(&body);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("remote_write");
    TCase *tc = tcase_create("remote_write");
    tcase_add_test(tc, test_write_request);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

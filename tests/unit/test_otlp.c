/* The OTLP decoding core of the opentelemetry input (plugins/
 * in_opentelemetry/otlp_*.c): the same requests, built with protobuf-c and
 * written as OTLP/JSON, give the same events, every field checked (each
 * event body is compared whole, as JSON); items that cannot be mapped are
 * counted for partial_success and the answer says so in the request's
 * encoding; malformed bodies are refused with where; delta series are
 * added up. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/event.h>
#include <sluice/json.h>
#include <sluice/timefmt.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp.h"
#include "otlp_internal.h"
#include "testutil.h"

#define T1 UINT64_C(1700000000000000001)
#define T2 UINT64_C(1700000000500000000)

typedef Opentelemetry__Proto__Common__V1__InstrumentationScope scope_t;
typedef Opentelemetry__Proto__Resource__V1__Resource resource_t;
typedef Opentelemetry__Proto__Logs__V1__LogRecord log_record;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs scope_logs;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs resource_logs;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_request;
typedef Opentelemetry__Proto__Metrics__V1__Metric metric_t;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint histogram_point;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint summary_point;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile quantile_t;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint exp_point;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics resource_metrics;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_request;

#define ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x
#define M(x) OPENTELEMETRY__PROTO__METRICS__V1__##x

/* ==== Building requests with protobuf-c ==== */

static otlp_arena A; /* everything a test builds; freed by teardown */

static void
setup(void)
{
    otlp_arena_init(&A);
}

static void
teardown(void)
{
    otlp_arena_destroy(&A);
}

static void *
alloc(size_t n)
{
    return memset(otlp_arena_alloc(&A, n), 0, n);
}

static otlp_any *
any(int which)
{
    otlp_any *v = alloc(sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = which;
    return v;
}

static otlp_any *
any_str(const char *s)
{
    otlp_any *v = any(ANY(STRING_VALUE));
    v->string_value = (char *)s;
    return v;
}

static otlp_any *
any_int(int64_t i)
{
    otlp_any *v = any(ANY(INT_VALUE));
    v->int_value = i;
    return v;
}

static otlp_kv *
kv(const char *key, otlp_any *v)
{
    otlp_kv *p = alloc(sizeof *p);
    opentelemetry__proto__common__v1__key_value__init(p);
    p->key = (char *)key;
    p->value = v;
    return p;
}

/* A NULL-terminated argument list as an array; its length in *n. */
static void **
list(size_t *n, ...)
{
    va_list ap;
    size_t count = 0;
    va_start(ap, n);
    while (va_arg(ap, void *))
        count++;
    va_end(ap);
    void **v = alloc((count + 1) * sizeof *v);
    va_start(ap, n);
    for (size_t i = 0; i < count; i++)
        v[i] = va_arg(ap, void *);
    va_end(ap);
    *n = count;
    return v;
}

/* The same, for arguments of the helpers below. */
typedef struct vlist {
    void **v;
    size_t n;
} vlist;
#define LIST(...) list_(0, __VA_ARGS__, NULL)

static vlist
list_(int unused, ...)
{
    va_list ap;
    vlist l = {NULL, 0};
    va_start(ap, unused);
    while (va_arg(ap, void *))
        l.n++;
    va_end(ap);
    l.v = alloc((l.n + 1) * sizeof *l.v);
    va_start(ap, unused);
    for (size_t i = 0; i < l.n; i++)
        l.v[i] = va_arg(ap, void *);
    va_end(ap);
    return l;
}

static otlp_any *
any_kvlist(vlist l)
{
    otlp_kv **kvs = (otlp_kv **)l.v;
    size_t n = l.n;
    otlp_any *v = any(ANY(KVLIST_VALUE));
    v->kvlist_value = alloc(sizeof *v->kvlist_value);
    opentelemetry__proto__common__v1__key_value_list__init(v->kvlist_value);
    v->kvlist_value->values = kvs;
    v->kvlist_value->n_values = n;
    return v;
}

static resource_t *
resource(vlist attrs)
{
    resource_t *r = alloc(sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    r->attributes = (otlp_kv **)attrs.v;
    r->n_attributes = attrs.n;
    return r;
}

static char *
pack_msg(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    char *buf = alloc(*len + 1);
    protobuf_c_message_pack(m, (uint8_t *)buf);
    return buf;
}

/* ==== Reading events ==== */

typedef struct decoded {
    int rc;
    otlp_result res;
    char err[256];
    size_t n;
    sluice_time_t time[16];
    char *json[16]; /* each event's body as JSON */
} decoded;

static void
decoded_free(decoded *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->json[i]);
}

static void
decode(decoded *d, int metrics, const char *body, size_t len, otlp_encoding enc,
       const otlp_options *opt)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    memset(d, 0, sizeof *d);
    d->rc = (metrics ? otlp_metrics_decode : otlp_logs_decode)(body, len, enc, opt, &out, &d->res,
                                                               d->err, sizeof d->err);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, out.data, out.size);
    int r;
    while ((r = sluice_event_next(&it, &ev)) == 1) {
        ck_assert_uint_lt(d->n, 16);
        sluice_buf b = SLUICE_BUF_INIT;
        sluice_json_value(&b, &ev.body);
        sluice_buf_putc(&b, '\0');
        d->time[d->n] = ev.time;
        d->json[d->n++] = b.data;
    }
    ck_assert_int_eq(r, 0); /* every byte staged is a well-formed event */
    sluice_event_iter_destroy(&it);
    msgpack_sbuffer_destroy(&out);
}

/* ==== Logs ==== */

static char *
logs_protobuf(size_t *len)
{
    resource_t *res =
        resource(LIST(kv("service.name", any_str("checkout")), kv("host.name", any_str("h1"))));

    scope_t *scope = alloc(sizeof *scope);
    opentelemetry__proto__common__v1__instrumentation_scope__init(scope);
    scope->name = "io.test";
    scope->version = "1.2";
    scope->attributes = (otlp_kv **)list(&scope->n_attributes, kv("lib", any_str("x")), NULL);

    log_record *r0 = alloc(sizeof *r0), *r1 = alloc(sizeof *r1), *r2 = alloc(sizeof *r2);
    opentelemetry__proto__logs__v1__log_record__init(r0);
    opentelemetry__proto__logs__v1__log_record__init(r1);
    opentelemetry__proto__logs__v1__log_record__init(r2);
    r0->time_unix_nano = T1;
    r0->observed_time_unix_nano = T2;
    r0->severity_number = 17;
    r0->severity_text = "ERROR";
    r0->body = any_str("payment failed");
    otlp_any *ok = any(ANY(BOOL_VALUE)), *ratio = any(ANY(DOUBLE_VALUE));
    ok->bool_value = 0;
    ratio->double_value = 0.25;
    otlp_any *tags = any(ANY(ARRAY_VALUE));
    tags->array_value = alloc(sizeof *tags->array_value);
    opentelemetry__proto__common__v1__array_value__init(tags->array_value);
    tags->array_value->values =
        (otlp_any **)list(&tags->array_value->n_values, any_str("a"), any_int(1), NULL);
    otlp_any *raw = any(ANY(BYTES_VALUE));
    static uint8_t raw_bytes[] = {1, 2, 0xff};
    raw->bytes_value = (ProtobufCBinaryData){3, raw_bytes};
    otlp_any *ctx = any_kvlist(LIST(kv("k", any_str("v"))));
    r0->attributes = (otlp_kv **)list(&r0->n_attributes, kv("user.id", any_int(42)), kv("ok", ok),
                                      kv("ratio", ratio), kv("tags", tags), kv("ctx", ctx),
                                      kv("raw", raw), NULL);
    static uint8_t trace[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static uint8_t span[8] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    r0->trace_id = (ProtobufCBinaryData){16, trace};
    r0->span_id = (ProtobufCBinaryData){8, span};
    r0->flags = 1;
    r0->event_name = "pay.fail";

    static uint8_t zeros[16];
    r1->observed_time_unix_nano = T2;
    otlp_any *b = any_kvlist(LIST(kv("c", any_str("d"))));
    r1->body = any_kvlist(LIST(kv("a", any_int(1)), kv("b", b)));
    r1->severity_number = 9;
    r1->trace_id = (ProtobufCBinaryData){16, zeros};

    r2->body = any_int(7);

    scope_logs *sl = alloc(sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->scope = scope;
    sl->log_records = (log_record **)list(&sl->n_log_records, r0, r1, r2, NULL);
    resource_logs *rl = alloc(sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = res;
    rl->scope_logs = (scope_logs **)list(&rl->n_scope_logs, sl, NULL);
    logs_request req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    req.resource_logs = (resource_logs **)list(&req.n_resource_logs, rl, NULL);
    return pack_msg(&req.base, len);
}

/* The same request in OTLP/JSON: camelCase and snake_case keys, int64 as
 * strings and as numbers, an enum by name and by number, unknown keys. */
static const char logs_json[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
    "{\"key\":\"host.name\",\"value\":{\"string_value\":\"h1\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"io.test\",\"version\":\"1.2\",\"attributes\":["
    "{\"key\":\"lib\",\"value\":{\"stringValue\":\"x\"}}]},\"schemaUrl\":\"https://x\","
    "\"logRecords\":["
    "{\"timeUnixNano\":\"1700000000000000001\",\"observed_time_unix_nano\":1700000000500000000,"
    "\"severityNumber\":\"SEVERITY_NUMBER_ERROR\",\"severityText\":\"ERROR\","
    "\"body\":{\"stringValue\":\"payment failed\"},\"attributes\":["
    "{\"key\":\"user.id\",\"value\":{\"intValue\":\"42\"}},"
    "{\"key\":\"ok\",\"value\":{\"boolValue\":false}},"
    "{\"key\":\"ratio\",\"value\":{\"doubleValue\":0.25}},"
    "{\"key\":\"tags\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},"
    "{\"intValue\":1}]}}},"
    "{\"key\":\"ctx\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
    "{\"stringValue\":\"v\"}}]}}},"
    "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"AQL/\"}}],"
    "\"traceId\":\"0102030405060708090A0b0c0d0e0f10\",\"spanId\":\"1112131415161718\","
    "\"flags\":1,\"eventName\":\"pay.fail\",\"droppedAttributesCount\":null,"
    "\"someFutureField\":{\"x\":[1,2]}},"
    "{\"observedTimeUnixNano\":\"1700000000500000000\",\"body\":{\"kvlistValue\":{\"values\":["
    "{\"key\":\"a\",\"value\":{\"intValue\":1}},{\"key\":\"b\",\"value\":{\"kvlistValue\":"
    "{\"values\":[{\"key\":\"c\",\"value\":{\"stringValue\":\"d\"}}]}}}]}},"
    "\"trace_id\":\"00000000000000000000000000000000\",\"severityNumber\":9},"
    "{\"body\":{\"intValue\":7}}]}]}]}";

static void
check_log_events(const decoded *d, sluice_time_t before, sluice_time_t after)
{
    ck_assert_msg(d->rc == 0, "%s", d->err);
    ck_assert_uint_eq(d->res.accepted, 3);
    ck_assert_uint_eq(d->res.rejected, 0);
    ck_assert_uint_eq(d->n, 3);
    const char *resource = "\"resource\":{\"service.name\":\"checkout\",\"host.name\":\"h1\"},"
                           "\"scope\":{\"name\":\"io.test\",\"version\":\"1.2\","
                           "\"attributes\":{\"lib\":\"x\"}}";
    char want[1024];
    snprintf(want, sizeof want,
             "{\"message\":\"payment failed\",\"severity_text\":\"ERROR\","
             "\"severity_number\":17,\"event_name\":\"pay.fail\","
             "\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\","
             "\"span_id\":\"1112131415161718\",\"flags\":1,"
             "\"observed_time\":\"2023-11-14T22:13:20.500000000Z\","
             "\"attributes\":{\"user.id\":42,\"ok\":false,\"ratio\":0.25,\"tags\":[\"a\",1],"
             "\"ctx\":{\"k\":\"v\"},\"raw\":\"AQL/\"},%s}",
             resource);
    ck_assert_str_eq(d->json[0], want);
    ck_assert_int_eq(d->time[0], (sluice_time_t)T1);

    snprintf(want, sizeof want,
             "{\"message\":{\"a\":1,\"b\":{\"c\":\"d\"}},\"severity_number\":9,%s}", resource);
    ck_assert_str_eq(d->json[1], want);
    ck_assert_int_eq(d->time[1], (sluice_time_t)T2); /* no time: the observed time */

    snprintf(want, sizeof want, "{\"message\":7,%s}", resource);
    ck_assert_str_eq(d->json[2], want);
    ck_assert_int_ge(d->time[2], before); /* neither: now */
    ck_assert_int_le(d->time[2], after);
}

START_TEST(test_logs_protobuf_and_json_give_the_same_events)
{
    size_t len;
    char *pb = logs_protobuf(&len);
    decoded d;
    sluice_time_t before = sluice_time_now();
    decode(&d, 0, pb, len, OTLP_PROTOBUF, NULL);
    check_log_events(&d, before, sluice_time_now());
    decoded_free(&d);

    before = sluice_time_now();
    decode(&d, 0, logs_json, strlen(logs_json), OTLP_JSON, NULL);
    check_log_events(&d, before, sluice_time_now());
    decoded_free(&d);
}
END_TEST

START_TEST(test_logs_empty_requests)
{
    decoded d;
    decode(&d, 0, "", 0, OTLP_PROTOBUF, NULL);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(d.res.accepted + d.res.rejected, 0);
    decode(&d, 0, " {} ", 4, OTLP_JSON, NULL);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_uint_eq(d.n, 0);
    const char *j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{}]}]}]}";
    decode(&d, 0, j, strlen(j), OTLP_JSON, NULL);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.json[0], "{}");
    decoded_free(&d);
}
END_TEST

/* A body nested deeper than events may be is refused alone; the answer
 * says so, as partial_success, in both encodings. (In JSON, the parser's
 * own depth limit refuses the whole request first.) */
START_TEST(test_logs_partial_success)
{
    otlp_any *deep = any_int(1);
    for (int i = 0; i < 20; i++) {
        otlp_any *a = any(ANY(ARRAY_VALUE));
        a->array_value = alloc(sizeof *a->array_value);
        opentelemetry__proto__common__v1__array_value__init(a->array_value);
        a->array_value->values = (otlp_any **)list(&a->array_value->n_values, deep, NULL);
        deep = a;
    }
    log_record fine, bad;
    opentelemetry__proto__logs__v1__log_record__init(&fine);
    opentelemetry__proto__logs__v1__log_record__init(&bad);
    fine.body = any_str("fine");
    bad.body = deep;
    scope_logs sl;
    opentelemetry__proto__logs__v1__scope_logs__init(&sl);
    sl.log_records = (log_record **)list(&sl.n_log_records, &fine, &bad, NULL);
    resource_logs rl;
    opentelemetry__proto__logs__v1__resource_logs__init(&rl);
    rl.scope_logs = (scope_logs **)list(&rl.n_scope_logs, &sl, NULL);
    logs_request req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    req.resource_logs = (resource_logs **)list(&req.n_resource_logs, &rl, NULL);
    size_t len;
    char *pb = pack_msg(&req.base, &len);
    decoded d;
    decode(&d, 0, pb, len, OTLP_PROTOBUF, NULL);
    ck_assert_msg(d.rc == 0, "%s", d.err);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.json[0], "{\"message\":\"fine\"}");
    ck_assert_uint_eq(d.res.accepted, 1);
    ck_assert_uint_eq(d.res.rejected, 1);
    ck_assert_str_eq(d.res.message,
                     "resourceLogs[0].scopeLogs[0].logRecords[1]: value nested deeper than 16");
    decoded_free(&d);

    sluice_buf out = SLUICE_BUF_INIT;
    otlp_response(0, OTLP_JSON, &d.res, &out);
    sluice_buf_putc(&out, '\0');
    ck_assert_str_eq(out.data, "{\"partialSuccess\":{\"rejectedLogRecords\":\"1\",\"errorMessage\":"
                               "\"resourceLogs[0].scopeLogs[0].logRecords[1]: value nested "
                               "deeper than 16\"}}");
    sluice_buf_reset(&out);
    otlp_response(0, OTLP_PROTOBUF, &d.res, &out);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
            NULL, out.len, (const uint8_t *)out.data);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(r->partial_success);
    ck_assert_int_eq(r->partial_success->rejected_log_records, 1);
    ck_assert_str_eq(r->partial_success->error_message, d.res.message);
    opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(r, NULL);

    /* Nothing rejected: the empty message, or {} */
    otlp_result ok = {.accepted = 3};
    sluice_buf_reset(&out);
    otlp_response(1, OTLP_PROTOBUF, &ok, &out);
    ck_assert_uint_eq(out.len, 0);
    otlp_response(1, OTLP_JSON, &ok, &out);
    ck_assert_uint_eq(out.len, 2);
    ck_assert_int_eq(memcmp(out.data, "{}", 2), 0);
    ok.rejected = 2;
    snprintf(ok.message, sizeof ok.message, "metric x: \"why\"");
    sluice_buf_reset(&out);
    otlp_response(1, OTLP_JSON, &ok, &out);
    sluice_buf_putc(&out, '\0');
    ck_assert_str_eq(out.data, "{\"partialSuccess\":{\"rejectedDataPoints\":\"2\","
                               "\"errorMessage\":\"metric x: \\\"why\\\"\"}}");
    sluice_buf_reset(&out);
    otlp_response(1, OTLP_PROTOBUF, &ok, &out);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *mr =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
            NULL, out.len, (const uint8_t *)out.data);
    ck_assert_ptr_nonnull(mr);
    ck_assert_int_eq(mr->partial_success->rejected_data_points, 2);
    ck_assert_str_eq(mr->partial_success->error_message, "metric x: \"why\"");
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
        mr, NULL);
    sluice_buf_free(&out);
}
END_TEST

/* ==== Malformed bodies ==== */

static void
refused(int metrics, otlp_encoding enc, const char *body, size_t len, const char *want)
{
    decoded d;
    decode(&d, metrics, body, len, enc, NULL);
    ck_assert_int_eq(d.rc, -1);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_str_eq(d.err, want);
}

START_TEST(test_malformed_protobuf_is_refused_with_where)
{
    /* field 1 (resource_logs), length 5, but 2 bytes follow */
    refused(0, OTLP_PROTOBUF, "\x0a\x05\x0a\x00\x12", 5, "protobuf: at byte 0: field 1 truncated");
    /* inside: ResourceLogs.scope_logs as a varint */
    refused(0, OTLP_PROTOBUF, "\x0a\x02\x10\x01", 4,
            "protobuf: at byte 2: opentelemetry.proto.logs.v1.ResourceLogs.scope_logs: wire type "
            "0, not 2");
    refused(1, OTLP_PROTOBUF, "\x2b", 1, "protobuf: at byte 0: field 5: wire type 3 not supported");
    refused(1, OTLP_PROTOBUF, "\x0b", 1,
            "protobuf: at byte 0: opentelemetry.proto.collector.metrics.v1."
            "ExportMetricsServiceRequest.resource_metrics: wire type 3, not 2");
    refused(1, OTLP_PROTOBUF, "\x80", 1, "protobuf: at byte 0: truncated field tag");
    refused(1, OTLP_PROTOBUF, "\x00\x01", 2, "protobuf: at byte 0: bad field number 0");

    /* An AnyValue map in a map... 200 deep: refused before protobuf-c. */
    otlp_any *v = any_int(1);
    for (int i = 0; i < 200; i++)
        v = any_kvlist(LIST(kv("k", v)));
    log_record r;
    opentelemetry__proto__logs__v1__log_record__init(&r);
    r.body = v;
    scope_logs sl;
    opentelemetry__proto__logs__v1__scope_logs__init(&sl);
    sl.log_records = (log_record **)list(&sl.n_log_records, &r, NULL);
    resource_logs rl;
    opentelemetry__proto__logs__v1__resource_logs__init(&rl);
    rl.scope_logs = (scope_logs **)list(&rl.n_scope_logs, &sl, NULL);
    logs_request req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    req.resource_logs = (resource_logs **)list(&req.n_resource_logs, &rl, NULL);
    size_t len;
    char *pb = pack_msg(&req.base, &len);
    decoded d;
    decode(&d, 0, pb, len, OTLP_PROTOBUF, NULL);
    ck_assert_int_eq(d.rc, -1);
    ck_assert_ptr_nonnull(strstr(d.err, "messages nested deeper than 100"));
}
END_TEST

START_TEST(test_malformed_json_is_refused_with_where)
{
    decoded d;
    decode(&d, 0, "{\"resourceLogs\":[}", 18, OTLP_JSON, NULL);
    ck_assert_int_eq(d.rc, -1);
    ck_assert_msg(strncmp(d.err, "json: ", 6) == 0 && strstr(d.err, "17"), "%s", d.err);
    refused(0, OTLP_JSON, "[]", 2, "not an object");
    refused(0, OTLP_JSON, "{\"resourceLogs\":{}}", 19, "resourceLogs: not a list");
    const char *j = "{\"resourceLogs\":[{\"scopeLogs\":[{},{\"logRecords\":[{},{},{},"
                    "{\"timeUnixNano\":\"12ab\"}]}]}]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[1].logRecords[3].timeUnixNano: not an integer");
    j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"0102\"}]}]}]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: not 32 hex digits");
    j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":\"010203040506070g\"}]}]}"
        "]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: not 16 hex digits");
    j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":\"LOUD\"}]}]}]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: unknown value \"LOUD\"");
    j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"flags\":-1}]}]}]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[0].logRecords[0].flags: not a 32-bit unsigned integer");
    j = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":\"A\"}}]}]}"
        "]}";
    refused(0, OTLP_JSON, j, strlen(j),
            "resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue: not base64");
    j = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"x\",\"gauge\":"
        "{\"dataPoints\":[{\"asDouble\":true}]}}]}]}]}";
    refused(1, OTLP_JSON, j, strlen(j),
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble: not a "
            "number");
    j = "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"x\",\"gauge\":"
        "{\"dataPoints\":[null]}}]}]}]}";
    refused(1, OTLP_JSON, j, strlen(j),
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]: null in a list");
}
END_TEST

/* ==== Metrics ==== */

static const vlist none;

static number_point *
number(uint64_t t, vlist attrs)
{
    number_point *p = alloc(sizeof *p);
    opentelemetry__proto__metrics__v1__number_data_point__init(p);
    p->time_unix_nano = t;
    p->attributes = (otlp_kv **)attrs.v;
    p->n_attributes = attrs.n;
    return p;
}

static metric_t *
metric(const char *name)
{
    metric_t *m = alloc(sizeof *m);
    opentelemetry__proto__metrics__v1__metric__init(m);
    m->name = (char *)name;
    return m;
}

static metric_t *
gauge(const char *name, number_point *p)
{
    metric_t *m = metric(name);
    m->data_case = M(METRIC__DATA_GAUGE);
    m->gauge = alloc(sizeof *m->gauge);
    opentelemetry__proto__metrics__v1__gauge__init(m->gauge);
    m->gauge->data_points = (number_point **)list(&m->gauge->n_data_points, p, NULL);
    return m;
}

static metric_t *
sum(const char *name, number_point *p, int temporality, int monotonic)
{
    metric_t *m = metric(name);
    m->data_case = M(METRIC__DATA_SUM);
    m->sum = alloc(sizeof *m->sum);
    opentelemetry__proto__metrics__v1__sum__init(m->sum);
    m->sum->data_points = (number_point **)list(&m->sum->n_data_points, p, NULL);
    m->sum->aggregation_temporality = temporality;
    m->sum->is_monotonic = monotonic;
    return m;
}

static metric_t *
histogram(const char *name, int temporality, uint64_t count, double s, size_t nb,
          const double *bounds, const uint64_t *counts)
{
    histogram_point *p = alloc(sizeof *p);
    opentelemetry__proto__metrics__v1__histogram_data_point__init(p);
    p->time_unix_nano = T1;
    p->count = count;
    p->_sum_case = M(HISTOGRAM_DATA_POINT___SUM_SUM);
    p->sum = s;
    p->n_explicit_bounds = nb;
    p->explicit_bounds = (double *)bounds;
    p->n_bucket_counts = nb + 1;
    p->bucket_counts = (uint64_t *)counts;
    metric_t *m = metric(name);
    m->data_case = M(METRIC__DATA_HISTOGRAM);
    m->histogram = alloc(sizeof *m->histogram);
    opentelemetry__proto__metrics__v1__histogram__init(m->histogram);
    m->histogram->data_points = (histogram_point **)list(&m->histogram->n_data_points, p, NULL);
    m->histogram->aggregation_temporality = temporality;
    return m;
}

/* One resource, one scope, these metrics. */
static char *
metrics_request_of(size_t *len, resource_t *res, vlist metrics)
{
    scope_metrics *sm = alloc(sizeof *sm);
    opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
    sm->metrics = (metric_t **)metrics.v;
    sm->n_metrics = metrics.n;
    resource_metrics *rm = alloc(sizeof *rm);
    opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
    rm->resource = res;
    rm->scope_metrics = (scope_metrics **)list(&rm->n_scope_metrics, sm, NULL);
    metrics_request req;
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__init(&req);
    req.resource_metrics = (resource_metrics **)list(&req.n_resource_metrics, rm, NULL);
    return pack_msg(&req.base, len);
}

static const double latency_bounds[] = {0.1, 1};
static const uint64_t latency_counts[] = {2, 3, 1};

static char *
metrics_protobuf(size_t *len)
{
    resource_t *res =
        resource(LIST(kv("service.name", any_str("api")), kv("service.namespace", any_str("shop")),
                      kv("service.instance.id", any_str("pod-1")), kv("host.name", any_str("h1")),
                      kv("region", any_str("eu"))));
    number_point *p0 = number(T1, LIST(kv("queue", any_str("q1")), kv("region", any_str("us"))));
    p0->value_case = M(NUMBER_DATA_POINT__VALUE_AS_INT);
    p0->as_int = 5;
    number_point *p1 = number(T1, LIST(kv("code", any_int(200))));
    p1->value_case = M(NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
    p1->as_double = 10.5;
    number_point *p2 = number(T2, none);
    p2->value_case = M(NUMBER_DATA_POINT__VALUE_AS_INT);
    p2->as_int = -3;

    summary_point *sp = alloc(sizeof *sp);
    opentelemetry__proto__metrics__v1__summary_data_point__init(sp);
    sp->time_unix_nano = T1;
    sp->count = 4;
    sp->sum = 2.0;
    quantile_t *q0 = alloc(sizeof *q0), *q1 = alloc(sizeof *q1);
    opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(q0);
    opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile__init(q1);
    q0->quantile = 0.5;
    q0->value = 0.4;
    q1->quantile = 0.99;
    q1->value = 0.9;
    sp->quantile_values = (quantile_t **)list(&sp->n_quantile_values, q0, q1, NULL);
    metric_t *summary = metric("rpc");
    summary->data_case = M(METRIC__DATA_SUMMARY);
    summary->summary = alloc(sizeof *summary->summary);
    opentelemetry__proto__metrics__v1__summary__init(summary->summary);
    summary->summary->data_points =
        (summary_point **)list(&summary->summary->n_data_points, sp, NULL);

    exp_point *ep = alloc(sizeof *ep);
    opentelemetry__proto__metrics__v1__exponential_histogram_data_point__init(ep);
    ep->count = 1;
    metric_t *exp = metric("exp");
    exp->data_case = M(METRIC__DATA_EXPONENTIAL_HISTOGRAM);
    exp->exponential_histogram = alloc(sizeof *exp->exponential_histogram);
    opentelemetry__proto__metrics__v1__exponential_histogram__init(exp->exponential_histogram);
    exp->exponential_histogram->data_points =
        (exp_point **)list(&exp->exponential_histogram->n_data_points, ep, NULL);
    exp->exponential_histogram->aggregation_temporality = 2;

    number_point *unnamed = number(T1, none);
    unnamed->value_case = M(NUMBER_DATA_POINT__VALUE_AS_INT);
    return metrics_request_of(
        len, res,
        LIST(gauge("queue.depth", p0), sum("http.requests", p1, 2, 1), sum("temp", p2, 2, 0),
             histogram("latency", 2, 6, 3.5, 2, latency_bounds, latency_counts), summary, exp,
             gauge("", unnamed), gauge("novalue", number(T1, none))));
}

static const char metrics_json[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}},"
    "{\"key\":\"service.namespace\",\"value\":{\"stringValue\":\"shop\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"pod-1\"}},"
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h1\"}},"
    "{\"key\":\"region\",\"value\":{\"stringValue\":\"eu\"}}]},"
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"meter\"},\"metrics\":["
    "{\"name\":\"queue.depth\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":[{\"attributes\":["
    "{\"key\":\"queue\",\"value\":{\"stringValue\":\"q1\"}},"
    "{\"key\":\"region\",\"value\":{\"stringValue\":\"us\"}}],"
    "\"timeUnixNano\":\"1700000000000000001\",\"asInt\":\"5\"}]}},"
    "{\"name\":\"http.requests\",\"sum\":{\"aggregationTemporality\":"
    "\"AGGREGATION_TEMPORALITY_CUMULATIVE\",\"isMonotonic\":true,\"dataPoints\":[{"
    "\"attributes\":[{\"key\":\"code\",\"value\":{\"intValue\":200}}],"
    "\"timeUnixNano\":\"1700000000000000001\",\"asDouble\":10.5}]}},"
    "{\"name\":\"temp\",\"sum\":{\"aggregation_temporality\":2,\"dataPoints\":[{"
    "\"time_unix_nano\":1700000000500000000,\"as_int\":-3}]}},"
    "{\"name\":\"latency\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{"
    "\"timeUnixNano\":\"1700000000000000001\",\"count\":\"6\",\"sum\":3.5,"
    "\"bucketCounts\":[\"2\",3,\"1\"],\"explicitBounds\":[0.1,1]}]}},"
    "{\"name\":\"rpc\",\"summary\":{\"dataPoints\":[{\"timeUnixNano\":\"1700000000000000001\","
    "\"count\":4,\"sum\":2,\"quantileValues\":[{\"quantile\":0.5,\"value\":0.4},"
    "{\"quantile\":0.99,\"value\":0.9}]}]}},"
    "{\"name\":\"exp\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"count\":\"1\",\"scale\":0}]}},"
    "{\"name\":\"\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"1700000000000000001\","
    "\"asInt\":0}]}},"
    "{\"name\":\"novalue\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":"
    "\"1700000000000000001\"}]}}]}]}]}";

#define RES_TAGS                                                                                   \
    "\"host.name\":\"h1\",\"instance\":\"pod-1\",\"job\":\"shop/api\","                            \
    "\"region\":\"eu\",\"service.instance.id\":\"pod-1\",\"service.name\":\"api\","                \
    "\"service.namespace\":\"shop\""

/* the same, sorted with a quantile */
#define RES_TAGS_Q(q)                                                                              \
    "\"host.name\":\"h1\",\"instance\":\"pod-1\",\"job\":\"shop/api\",\"quantile\":\"" q           \
    "\",\"region\":\"eu\",\"service.instance.id\":\"pod-1\",\"service.name\":\"api\","             \
    "\"service.namespace\":\"shop\""

static void
check_metric_events(const decoded *d)
{
    ck_assert_msg(d->rc == 0, "%s", d->err);
    ck_assert_uint_eq(d->res.accepted, 5);
    ck_assert_uint_eq(d->res.rejected, 3);
    ck_assert_str_eq(d->res.message, "metric exp: exponential histograms are not supported");
    ck_assert_uint_eq(d->n, 8);
    /* a point's attribute (region us) wins over the resource's (eu) */
    ck_assert_str_eq(d->json[0],
                     "{\"name\":\"queue.depth\",\"kind\":\"gauge\",\"tags\":{\"host.name\":\"h1\","
                     "\"instance\":\"pod-1\",\"job\":\"shop/api\",\"queue\":\"q1\","
                     "\"region\":\"us\",\"service.instance.id\":\"pod-1\","
                     "\"service.name\":\"api\",\"service.namespace\":\"shop\"},"
                     "\"fields\":{\"value\":5}}");
    ck_assert_int_eq(d->time[0], (sluice_time_t)T1);
    ck_assert_str_eq(d->json[1], "{\"name\":\"http.requests\",\"kind\":\"counter\",\"tags\":{"
                                 "\"code\":\"200\"," RES_TAGS "},\"fields\":{\"value\":10.5}}");
    ck_assert_str_eq(d->json[2], "{\"name\":\"temp\",\"kind\":\"gauge\",\"tags\":{" RES_TAGS
                                 "},\"fields\":{\"value\":-3}}");
    ck_assert_int_eq(d->time[2], (sluice_time_t)T2);
    ck_assert_str_eq(d->json[3], "{\"name\":\"latency\",\"kind\":\"histogram\",\"tags\":{" RES_TAGS
                                 "},\"fields\":{\"count\":6,\"sum\":3.5,\"bucket_0.1\":2,"
                                 "\"bucket_1\":5,\"bucket_+Inf\":6}}");
    ck_assert_str_eq(d->json[4], "{\"name\":\"rpc\",\"kind\":\"summary\",\"tags\":{" RES_TAGS_Q(
                                     "0.5") "},\"fields\":{\"value\":0.4}}");
    ck_assert_str_eq(d->json[5], "{\"name\":\"rpc\",\"kind\":\"summary\",\"tags\":{" RES_TAGS_Q(
                                     "0.99") "},\"fields\":{\"value\":0.9}}");
    ck_assert_str_eq(d->json[6], "{\"name\":\"rpc_sum\",\"kind\":\"summary\",\"tags\":{" RES_TAGS
                                 "},\"fields\":{\"value\":2.0}}");
    ck_assert_str_eq(d->json[7], "{\"name\":\"rpc_count\",\"kind\":\"summary\",\"tags\":{" RES_TAGS
                                 "},\"fields\":{\"value\":4}}");
    for (size_t i = 3; i < 8; i++)
        ck_assert_int_eq(d->time[i], (sluice_time_t)T1);
}

START_TEST(test_metrics_protobuf_and_json_give_the_same_events)
{
    size_t len;
    char *pb = metrics_protobuf(&len);
    decoded d;
    decode(&d, 1, pb, len, OTLP_PROTOBUF, NULL);
    check_metric_events(&d);
    decoded_free(&d);
    decode(&d, 1, metrics_json, strlen(metrics_json), OTLP_JSON, NULL);
    check_metric_events(&d);
    decoded_free(&d);
}
END_TEST

/* resource_tags 0: of the resource, only job and instance. */
START_TEST(test_metrics_job_and_instance_only)
{
    size_t len;
    char *pb = metrics_protobuf(&len);
    otlp_options opt = OTLP_OPTIONS_DEFAULT;
    opt.resource_tags = 0;
    decoded d;
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_uint_eq(d.n, 8);
    ck_assert_str_eq(d.json[0],
                     "{\"name\":\"queue.depth\",\"kind\":\"gauge\",\"tags\":{\"instance\":"
                     "\"pod-1\",\"job\":\"shop/api\",\"queue\":\"q1\",\"region\":\"us\"},"
                     "\"fields\":{\"value\":5}}");
    ck_assert_str_eq(d.json[2], "{\"name\":\"temp\",\"kind\":\"gauge\",\"tags\":{\"instance\":"
                                "\"pod-1\",\"job\":\"shop/api\"},\"fields\":{\"value\":-3}}");
    decoded_free(&d);
}
END_TEST

static char *
delta_sum_request(size_t *len, const char *series, int64_t v)
{
    number_point *p = number(T1, LIST(kv("k", any_str(series))));
    p->value_case = M(NUMBER_DATA_POINT__VALUE_AS_INT);
    p->as_int = v;
    return metrics_request_of(len, NULL, LIST(sum("hits", p, 1, 1)));
}

START_TEST(test_metrics_delta_series_are_added_up)
{
    otlp_options opt = OTLP_OPTIONS_DEFAULT;
    opt.delta = otlp_delta_new(2, 60 * SLUICE_NSEC_PER_SEC);
    size_t len;
    decoded d;
    char *pb = delta_sum_request(&len, "a", 5);
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.json[0], "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{\"k\":\"a\"},"
                                "\"fields\":{\"value\":5.0}}");
    decoded_free(&d);
    pb = delta_sum_request(&len, "a", 3);
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.json[0], "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{\"k\":\"a\"},"
                                "\"fields\":{\"value\":8.0}}");
    decoded_free(&d);

    static const double b[] = {1};
    static const uint64_t c1[] = {1, 2}, c2[] = {0, 1};
    pb = metrics_request_of(&len, NULL, LIST(histogram("lat", 1, 3, 4, 1, b, c1)));
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    decoded_free(&d);
    pb = metrics_request_of(&len, NULL, LIST(histogram("lat", 1, 1, 2, 1, b, c2)));
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.json[0], "{\"name\":\"lat\",\"kind\":\"histogram\",\"tags\":{},"
                                "\"fields\":{\"count\":4,\"sum\":6.0,\"bucket_1\":1,"
                                "\"bucket_+Inf\":4}}");
    decoded_free(&d);
    ck_assert_uint_eq(otlp_delta_size(opt.delta), 2);

    /* full: a third series is refused, the known ones go on */
    pb = delta_sum_request(&len, "b", 1);
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(d.res.rejected, 1);
    ck_assert_str_eq(d.res.message, "metric hits: too many delta series");
    pb = delta_sum_request(&len, "a", 1);
    decode(&d, 1, pb, len, OTLP_PROTOBUF, &opt);
    ck_assert_uint_eq(d.res.accepted, 1);
    ck_assert_str_eq(d.json[0], "{\"name\":\"hits\",\"kind\":\"counter\",\"tags\":{\"k\":\"a\"},"
                                "\"fields\":{\"value\":9.0}}");
    decoded_free(&d);
    otlp_delta_free(opt.delta);

    /* without the state, delta points are refused */
    pb = delta_sum_request(&len, "a", 1);
    decode(&d, 1, pb, len, OTLP_PROTOBUF, NULL);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(d.res.rejected, 1);
    ck_assert_str_eq(d.res.message, "metric hits: delta temporality is not accepted here");
}
END_TEST

START_TEST(test_metrics_bad_points_are_rejected)
{
    static const double b[] = {2, 1};
    static const uint64_t c[] = {1, 1, 1};
    size_t len;
    number_point *p = number(T1, none);
    p->value_case = M(NUMBER_DATA_POINT__VALUE_AS_INT);
    number_point *norec = number(T1, none);
    norec->flags = 1; /* no recorded value: nothing to emit, nothing wrong */
    char *pb = metrics_request_of(
        &len, NULL, LIST(histogram("h", 2, 3, 1, 2, b, c), sum("s", p, 0, 1), gauge("g", norec)));
    decoded d;
    decode(&d, 1, pb, len, OTLP_PROTOBUF, NULL);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(d.res.rejected, 2);
    ck_assert_uint_eq(d.res.accepted, 1);
    ck_assert_str_eq(d.res.message, "metric h: explicit_bounds are not finite and increasing");
}
END_TEST

/* ==== Values ==== */

START_TEST(test_base64_and_hex)
{
    sluice_buf b = SLUICE_BUF_INIT;
    otlp_base64(&b, (const uint8_t *)"hello!?", 7);
    ck_assert_int_eq((int)b.len, 12);
    ck_assert_int_eq(memcmp(b.data, "aGVsbG8hPw==", 12), 0);
    uint8_t out[16];
    ck_assert_int_eq(otlp_base64_decode("aGVsbG8hPw==", 12, out), 7);
    ck_assert_int_eq(memcmp(out, "hello!?", 7), 0);
    ck_assert_int_eq(otlp_base64_decode("aGVsbG8hPw", 10, out), 7); /* no padding */
    ck_assert_int_eq(otlp_base64_decode("-_8", 3, out), 2);         /* URL-safe */
    ck_assert_int_eq(out[0], 0xfb);
    ck_assert_int_eq(out[1], 0xff);
    ck_assert_int_eq(otlp_base64_decode("a*==", 4, out), -1);
    sluice_buf_free(&b);
    char hex[33];
    static const uint8_t zero[8], id[2] = {0xab, 0x01};
    ck_assert_uint_eq(otlp_hex_id(zero, 8, hex), 0);
    ck_assert_uint_eq(otlp_hex_id(id, 2, hex), 4);
    ck_assert_str_eq(hex, "ab01");
}
END_TEST

static Suite *
otlp_suite(void)
{
    Suite *s = suite_create("otlp");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_logs_protobuf_and_json_give_the_same_events);
    tcase_add_test(tc, test_logs_empty_requests);
    tcase_add_test(tc, test_logs_partial_success);
    tcase_add_test(tc, test_malformed_protobuf_is_refused_with_where);
    tcase_add_test(tc, test_malformed_json_is_refused_with_where);
    tcase_add_test(tc, test_metrics_protobuf_and_json_give_the_same_events);
    tcase_add_test(tc, test_metrics_job_and_instance_only);
    tcase_add_test(tc, test_metrics_delta_series_are_added_up);
    tcase_add_test(tc, test_metrics_bad_points_are_rejected);
    tcase_add_test(tc, test_base64_and_hex);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return test_run_suite(otlp_suite());
}

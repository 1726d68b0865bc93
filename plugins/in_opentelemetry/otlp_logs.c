/* OTLP logs to log events: one event per LogRecord, with the record's
 * fields under the names docs/opentelemetry.md lists (message,
 * severity_text, trace_id, attributes, resource, scope...). The resource
 * and scope maps are packed once and copied into each of their records'
 * events. */
#include <stdio.h>
#include <string.h>

#include <sluice/event.h>
#include <sluice/timefmt.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "otlp_internal.h"

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_request;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs resource_logs;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs scope_logs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord log_record;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope scope_t;

#define REQUEST_DESCRIPTOR                                                                         \
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor

static uint64_t
count_records(const resource_logs *rl)
{
    uint64_t n = 0;
    for (size_t s = 0; s < rl->n_scope_logs; s++)
        n += rl->scope_logs[s]->n_log_records;
    return n;
}

/* {name, version, attributes}, each only when set; 0 when nothing is. */
static int
pack_scope(msgpack_packer *pk, const scope_t *s)
{
    if (!s) return 0;
    uint32_t n = (s->name[0] != '\0') + (s->version[0] != '\0') + (s->n_attributes > 0);
    if (n == 0) return 0;
    msgpack_pack_map(pk, n);
    if (s->name[0]) {
        sluice_pack_cstr(pk, "name");
        sluice_pack_cstr(pk, s->name);
    }
    if (s->version[0]) {
        sluice_pack_cstr(pk, "version");
        sluice_pack_cstr(pk, s->version);
    }
    if (s->n_attributes) {
        sluice_pack_cstr(pk, "attributes");
        otlp_pack_kvs(pk, s->attributes, s->n_attributes);
    }
    return 1;
}

static void
pack_id(msgpack_packer *pk, const char *key, const ProtobufCBinaryData *id)
{
    char hex[2 * 32 + 1];
    if (id->len == 0 || id->len > 32) return;
    size_t n = otlp_hex_id(id->data, id->len, hex);
    sluice_pack_cstr(pk, key);
    sluice_pack_str(pk, hex, n);
}

static int
has_id(const ProtobufCBinaryData *id)
{
    if (id->len == 0 || id->len > 32) return 0;
    for (size_t i = 0; i < id->len; i++)
        if (id->data[i]) return 1;
    return 0;
}

/* One record's event. `resource` and `scope` are packed maps (size 0:
 * none). */
static void
pack_record(msgpack_packer *pk, msgpack_sbuffer *out, const log_record *r,
            const msgpack_sbuffer *resource, const msgpack_sbuffer *scope, sluice_time_t now)
{
    sluice_time_t t = r->time_unix_nano            ? otlp_time(r->time_unix_nano)
                      : r->observed_time_unix_nano ? otlp_time(r->observed_time_unix_nano)
                                                   : now;
    int has_body = r->body && r->body->value_case !=
                                  OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET;
    int observed = r->time_unix_nano && r->observed_time_unix_nano &&
                   r->observed_time_unix_nano != r->time_unix_nano;
    uint32_t n = (uint32_t)has_body + (r->severity_text[0] != '\0') + (r->severity_number != 0) +
                 (r->event_name[0] != '\0') + (uint32_t)has_id(&r->trace_id) +
                 (uint32_t)has_id(&r->span_id) + (r->flags != 0) + (uint32_t)observed +
                 (r->n_attributes > 0) + (resource->size > 0) + (scope->size > 0);
    sluice_event_pack_head(pk, t);
    msgpack_pack_map(pk, n);
    if (has_body) {
        sluice_pack_cstr(pk, "message");
        otlp_pack_any(pk, r->body);
    }
    if (r->severity_text[0]) {
        sluice_pack_cstr(pk, "severity_text");
        sluice_pack_cstr(pk, r->severity_text);
    }
    if (r->severity_number) {
        sluice_pack_cstr(pk, "severity_number");
        msgpack_pack_int(pk, r->severity_number);
    }
    if (r->event_name[0]) {
        sluice_pack_cstr(pk, "event_name");
        sluice_pack_cstr(pk, r->event_name);
    }
    if (has_id(&r->trace_id)) pack_id(pk, "trace_id", &r->trace_id);
    if (has_id(&r->span_id)) pack_id(pk, "span_id", &r->span_id);
    if (r->flags) {
        sluice_pack_cstr(pk, "flags");
        msgpack_pack_uint32(pk, r->flags);
    }
    if (observed) {
        sluice_buf b = SLUICE_BUF_INIT;
        sluice_format_rfc3339(&b, otlp_time(r->observed_time_unix_nano));
        sluice_pack_cstr(pk, "observed_time");
        sluice_pack_str(pk, b.data, b.len);
        sluice_buf_free(&b);
    }
    if (r->n_attributes) {
        sluice_pack_cstr(pk, "attributes");
        otlp_pack_kvs(pk, r->attributes, r->n_attributes);
    }
    if (resource->size) {
        sluice_pack_cstr(pk, "resource");
        msgpack_sbuffer_write(out, resource->data, resource->size);
    }
    if (scope->size) {
        sluice_pack_cstr(pk, "scope");
        msgpack_sbuffer_write(out, scope->data, scope->size);
    }
}

static void
map_request(const logs_request *req, msgpack_sbuffer *out, otlp_result *res)
{
    msgpack_packer pk, rpk, spk;
    msgpack_sbuffer resource, scope;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_sbuffer_init(&resource);
    msgpack_sbuffer_init(&scope);
    msgpack_packer_init(&rpk, &resource, msgpack_sbuffer_write);
    msgpack_packer_init(&spk, &scope, msgpack_sbuffer_write);
    sluice_time_t now = sluice_time_now();
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const resource_logs *rl = req->resource_logs[i];
        msgpack_sbuffer_clear(&resource);
        if (rl->resource && rl->resource->n_attributes) {
            if (!otlp_kvs_fit(rl->resource->attributes, rl->resource->n_attributes)) {
                otlp_reject(res, count_records(rl),
                            "resourceLogs[%zu]: resource attributes nested deeper than %d", i,
                            OTLP_MAX_VALUE_DEPTH);
                continue;
            }
            otlp_pack_kvs(&rpk, rl->resource->attributes, rl->resource->n_attributes);
        }
        for (size_t s = 0; s < rl->n_scope_logs; s++) {
            const scope_logs *sl = rl->scope_logs[s];
            msgpack_sbuffer_clear(&scope);
            if (sl->scope && !otlp_kvs_fit(sl->scope->attributes, sl->scope->n_attributes)) {
                otlp_reject(res, sl->n_log_records,
                            "resourceLogs[%zu].scopeLogs[%zu]: scope attributes nested deeper "
                            "than %d",
                            i, s, OTLP_MAX_VALUE_DEPTH);
                continue;
            }
            pack_scope(&spk, sl->scope);
            for (size_t k = 0; k < sl->n_log_records; k++) {
                const log_record *r = sl->log_records[k];
                if (!otlp_any_fits(r->body) || !otlp_kvs_fit(r->attributes, r->n_attributes)) {
                    otlp_reject(res, 1,
                                "resourceLogs[%zu].scopeLogs[%zu].logRecords[%zu]: value "
                                "nested deeper than %d",
                                i, s, k, OTLP_MAX_VALUE_DEPTH);
                    continue;
                }
                pack_record(&pk, out, r, &resource, &scope, now);
                res->accepted++;
                res->events++;
            }
        }
    }
    msgpack_sbuffer_destroy(&resource);
    msgpack_sbuffer_destroy(&scope);
}

int
otlp_logs_decode(const char *body, size_t len, otlp_encoding enc, const otlp_options *opt,
                 msgpack_sbuffer *out, otlp_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    otlp_arena a;
    otlp_arena_init(&a);
    ProtobufCMessage *msg;
    int rc = otlp_decode(&REQUEST_DESCRIPTOR, body, len, enc, &a, &msg, err, errlen);
    if (rc == 0) map_request((const logs_request *)msg, out, res);
    otlp_arena_destroy(&a);
    return rc;
}

/* The body of the answer to an export request: Export{Logs,Metrics}
 * ServiceResponse, with partial_success only when items were rejected,
 * in the encoding of the request. */
#include <stdio.h>
#include <string.h>

#include <sluice/json.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "otlp_internal.h"

static void
response_protobuf(int metrics, const otlp_result *res, sluice_buf *out)
{
    size_t n;
    if (metrics) {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
        ps.rejected_data_points = (int64_t)res->rejected;
        ps.error_message = (char *)res->message;
        r.partial_success = &ps;
        n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__get_packed_size(
            &r);
        sluice_buf_reserve(out, n);
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
            &r, (uint8_t *)out->data + out->len);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
        ps.rejected_log_records = (int64_t)res->rejected;
        ps.error_message = (char *)res->message;
        r.partial_success = &ps;
        n = opentelemetry__proto__collector__logs__v1__export_logs_service_response__get_packed_size(
            &r);
        sluice_buf_reserve(out, n);
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(
            &r, (uint8_t *)out->data + out->len);
    }
    out->len += n;
}

void
otlp_response(int metrics, otlp_encoding enc, const otlp_result *res, sluice_buf *out)
{
    if (res->rejected == 0) {
        if (enc == OTLP_JSON) sluice_buf_append(out, "{}", 2);
        return; /* the empty message */
    }
    if (enc == OTLP_PROTOBUF) {
        response_protobuf(metrics, res, out);
        return;
    }
    /* int64 is a decimal string in the JSON mapping of protobuf */
    sluice_buf_printf(out, "{\"partialSuccess\":{\"%s\":\"%llu\",\"errorMessage\":",
                      metrics ? "rejectedDataPoints" : "rejectedLogRecords",
                      (unsigned long long)res->rejected);
    sluice_json_string(out, res->message, strnlen(res->message, sizeof res->message));
    sluice_buf_append(out, "}}", 2);
}

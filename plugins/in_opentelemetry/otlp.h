/* The OTLP/HTTP decoding core of the opentelemetry input: request bodies
 * (ExportLogsServiceRequest, ExportMetricsServiceRequest) in binary
 * protobuf or OTLP/JSON become sluice events, and the answer's body is
 * built here. The HTTP side (server, status codes, gzip, backpressure) is
 * opentelemetry.c's. The mapping is documented in docs/opentelemetry.md.
 *
 * Every function here may run on several threads at once, provided each
 * has its own `out` buffer; the one shared object, otlp_delta, locks
 * itself. */
#ifndef SLUICE_OTLP_H
#define SLUICE_OTLP_H

#include <msgpack.h>
#include <sluice/buf.h>
#include <sluice/common.h>

typedef enum otlp_encoding {
    OTLP_PROTOBUF = 0, /* application/x-protobuf */
    OTLP_JSON = 1,     /* application/json */
} otlp_encoding;

/* What became of a request's items (log records, or metric data points). */
typedef struct otlp_result {
    uint64_t accepted; /* items that became events (or were absorbed: see the doc) */
    uint64_t rejected; /* items decoded but not mapped; OTLP's partial_success */
    uint64_t events;   /* events staged into `out` (a summary point makes several) */
    char message[256]; /* why, for the first rejected item: "metric x: ..." */
} otlp_result;

/* Turns delta sums and histograms into the cumulative ones Prometheus
 * needs, by adding each new delta to its series' running total. Bounded:
 * a series not updated for `expire_after` ns is forgotten, and a point of
 * a new series when `max_series` are held is rejected. Thread-safe. */
typedef struct otlp_delta otlp_delta;

otlp_delta *otlp_delta_new(size_t max_series, int64_t expire_after);
void otlp_delta_free(otlp_delta *d);
/* How many series it holds now. */
size_t otlp_delta_size(otlp_delta *d);

typedef struct otlp_options {
    /* Metrics: every resource attribute becomes a tag as well (1, the
     * default), or only `job` and `instance` made of the service.*
     * attributes (0), as Prometheus's own OTLP receiver does. */
    int resource_tags;
    /* Metrics: the running totals of delta series; borrowed. NULL: delta
     * points are rejected. */
    otlp_delta *delta;
} otlp_options;

#define OTLP_OPTIONS_DEFAULT                                                                       \
    {                                                                                              \
        1, NULL                                                                                    \
    }

/* Decode a whole (already gunzipped) body and stage its events into `out`,
 * each a full encoded event ([time, body]; log events, or metric events
 * for otlp_metrics_decode), ready for sluice_emit_raw. `opt` may be NULL
 * for the defaults.
 *
 * Returns 0, or -1 when the body cannot be decoded at all (answer 400)
 * with `err` saying what and where, e.g. "resourceLogs[0].scopeLogs[1].
 * logRecords[3].timeUnixNano: not an integer" or "protobuf: at byte 17:
 * field 2 truncated", and nothing appended to `out`. Items that decode
 * but cannot be mapped are counted in res->rejected, with res->message
 * naming the first. `res` is cleared first. */
int otlp_logs_decode(const char *body, size_t len, otlp_encoding enc, const otlp_options *opt,
                     msgpack_sbuffer *out, otlp_result *res, char *err, size_t errlen);
int otlp_metrics_decode(const char *body, size_t len, otlp_encoding enc, const otlp_options *opt,
                        msgpack_sbuffer *out, otlp_result *res, char *err, size_t errlen);

/* Append the answer's body for a request to `out`: an
 * ExportLogsServiceResponse (metrics 0) or ExportMetricsServiceResponse
 * (metrics 1) in the request's encoding, with partial_success only when
 * res->rejected is not 0 (an empty message, or "{}", otherwise). */
void otlp_response(int metrics, otlp_encoding enc, const otlp_result *res, sluice_buf *out);

#endif

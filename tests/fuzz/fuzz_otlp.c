/* libFuzzer target: the OTLP decoding core of the opentelemetry input
 * (plugins/in_opentelemetry/otlp_*.c). The first byte picks logs or
 * metrics and protobuf or JSON; the rest is the request body. Every event
 * staged must read back, and the answer is built too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sluice/event.h>

#include "../../plugins/in_opentelemetry/otlp.h"

static otlp_delta *delta;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!delta) delta = otlp_delta_new(1000, INT64_MAX);
    int metrics = data[0] & 1;
    otlp_encoding enc = data[0] & 2 ? OTLP_JSON : OTLP_PROTOBUF;
    otlp_options opt = OTLP_OPTIONS_DEFAULT;
    opt.resource_tags = !(data[0] & 4);
    opt.delta = delta;
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    otlp_result res;
    char err[256];
    const char *body = (const char *)data + 1;
    int rc = (metrics ? otlp_metrics_decode : otlp_logs_decode)(body, size - 1, enc, &opt, &out,
                                                                &res, err, sizeof err);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, out.data, out.size);
    int r;
    while ((r = sluice_event_next(&it, &ev)) == 1)
        ;
    if (r != 0 || (rc < 0 && out.size)) abort();
    sluice_event_iter_destroy(&it);
    sluice_buf resp = SLUICE_BUF_INIT;
    otlp_response(metrics, enc, &res, &resp);
    sluice_buf_free(&resp);
    msgpack_sbuffer_destroy(&out);
    return 0;
}

/* Remote write's wire format (remote_write_encode.h): metric events as
 * WriteRequest messages packed by protobuf-c, and snappy's block format. */
#include <snappy-c.h>
#include <stdlib.h>

#include "promql_metric.h"
#include "remote_write.pb-c.h"
#include "remote_write_encode.h"

typedef struct render_state {
    sluice_buf *out;
    int64_t time_ms;
} render_state;

/* One sample: a WriteRequest of one TimeSeries of one Sample. */
static void
pack_sample(void *arg, const pq_lset *l, double v)
{
    render_state *rs = arg;
    Sluice__RemoteWrite__Label stack_labels[32], *stack_ptrs[32];
    Sluice__RemoteWrite__Label *labels = stack_labels;
    Sluice__RemoteWrite__Label **ptrs = stack_ptrs;
    size_t n = l->n;
    if (n > 32) {
        labels = sluice_malloc(n * sizeof *labels);
        ptrs = sluice_malloc(n * sizeof *ptrs);
    }
    for (size_t i = 0; i < n; i++) {
        sluice__remote_write__label__init(&labels[i]);
        labels[i].name = l->kv[2 * i];
        labels[i].value = l->kv[2 * i + 1];
        ptrs[i] = &labels[i];
    }
    Sluice__RemoteWrite__Sample sample;
    sluice__remote_write__sample__init(&sample);
    sample.value = v;
    sample.timestamp = rs->time_ms;
    Sluice__RemoteWrite__Sample *samples[1] = {&sample};
    Sluice__RemoteWrite__TimeSeries ts;
    sluice__remote_write__time_series__init(&ts);
    ts.n_labels = n;
    ts.labels = ptrs;
    ts.n_samples = 1;
    ts.samples = samples;
    Sluice__RemoteWrite__TimeSeries *series[1] = {&ts};
    Sluice__RemoteWrite__WriteRequest wr;
    sluice__remote_write__write_request__init(&wr);
    wr.n_timeseries = 1;
    wr.timeseries = series;
    sluice_buf_reserve(rs->out, sluice__remote_write__write_request__get_packed_size(&wr));
    rs->out->len += sluice__remote_write__write_request__pack(
        &wr, (uint8_t *)rs->out->data + rs->out->len);
    if (labels != stack_labels) {
        free(labels);
        free(ptrs);
    }
}

int
rw_encode(const sluice_event *ev, sluice_buf *out)
{
    render_state rs = {out, ev->time / SLUICE_NSEC_PER_MSEC};
    return pq_metric_samples(&ev->body, pack_sample, &rs);
}

void
rw_snappy(const char *data, size_t len, sluice_buf *out)
{
    size_t max = snappy_max_compressed_length(len);
    sluice_buf_reserve(out, max);
    size_t n = max;
    if (snappy_compress(data, len, out->data + out->len, &n) != SNAPPY_OK)
        abort(); /* only with a too small buffer, which max rules out */
    out->len += n;
}


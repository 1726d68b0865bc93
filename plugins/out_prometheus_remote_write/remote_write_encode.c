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
    /* The WriteRequest around it is its field 1, length-delimited: written
     * here so that protobuf-c sizes the series once, not once per level. */
    size_t size = sluice__remote_write__time_series__get_packed_size(&ts);
    uint8_t head[11];
    size_t h = 0;
    head[h++] = (1 << 3) | 2;
    for (size_t left = size;; left >>= 7) {
        head[h++] = (uint8_t)((left & 0x7f) | (left >= 0x80 ? 0x80 : 0));
        if (left < 0x80)
            break;
    }
    sluice_buf_reserve(rs->out, h + size);
    sluice_buf_append(rs->out, head, h);
    rs->out->len += sluice__remote_write__time_series__pack(
        &ts, (uint8_t *)rs->out->data + rs->out->len);
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


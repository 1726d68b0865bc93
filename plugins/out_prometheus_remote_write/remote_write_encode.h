/* Remote write's wire format, apart from the plugin so that the unit
 * tests decode what it makes with protobuf-c. */
#ifndef SLUICE_REMOTE_WRITE_ENCODE_H
#define SLUICE_REMOTE_WRITE_ENCODE_H

#include <sluice/sluice.h>

/* Append the samples of a metric event as one packed WriteRequest (one
 * TimeSeries of one Sample each; concatenated requests are one request).
 * Returns the samples, or -1 if it is not a metric event. */
int rw_encode(const sluice_event *ev, sluice_buf *out);
/* Append snappy's block format of `len` bytes at `data`. */
void rw_snappy(const char *data, size_t len, sluice_buf *out);

#endif

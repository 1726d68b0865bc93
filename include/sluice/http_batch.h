/* Batched HTTP outputs: the machinery that http, elasticsearch and influxdb
 * share, in the sluice-http library next to the client (http.h).
 *
 * A chunk is rendered once, event by event, into pieces of one body (an
 * NDJSON line, a bulk action and document, a line-protocol point). Ranges
 * of pieces go out as requests of at most max_events pieces and max_bytes
 * bytes through the worker's libcurl multi client; each worker renders at
 * most max_in_flight chunks at a time, the rest wait unrendered. The plugin
 * reads every response and returns what became of the range:
 *
 *   DONE    finished; pieces it did not mark with sluice_flush_event_failed
 *           or sluice_flush_event_retry were delivered
 *   SPLIT   send it again as two halves (413, or a 400 that refuses some
 *           events); a single piece that still fails is failed with `why`
 *   RESEND  send it again now, e.g. to another host; after max_resends in a
 *           row it is retried later instead
 *   RETRY   every piece is retried later, with backoff (Retry-After kept)
 *   FAIL    every piece failed for good, with `why` (dead letters)
 *
 * The flush is done when every range is; if every piece is to be retried,
 * the whole chunk is. */
#ifndef SLUICE_HTTP_BATCH_H
#define SLUICE_HTTP_BATCH_H

#include "http.h"
#include "plugin.h"

typedef enum sluice_batch_verdict {
    SLUICE_BATCH_DONE,
    SLUICE_BATCH_SPLIT,
    SLUICE_BATCH_RESEND,
    SLUICE_BATCH_RETRY,
    SLUICE_BATCH_FAIL,
} sluice_batch_verdict;

/* The pieces [first, last) one request carries; index[j] is the position in
 * the chunk of piece j (the event to mark). */
typedef struct sluice_batch_range {
    size_t first, last;
    const size_t *index;
    unsigned resends; /* RESENDs of this range so far */
    uintptr_t user;   /* set by prepare (e.g. which host), read by response */
} sluice_batch_range;

typedef struct sluice_batch_ops {
    /* Append one event's piece to `out` (`kind`: the chunk's). Return 0; or
     * -1 with `why` for an event that can never be sent: it goes to the
     * dead letters and gets no piece. */
    int (*render)(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out,
                  char *why, size_t whylen);
    /* Fill in everything but the body (url, method, headers, auth, TLS,
     * timeouts) for a request carrying `rg`. */
    void (*prepare)(void *ctx, sluice_http_request *req, sluice_batch_range *rg);
    /* Read the answer to `rg` (see above). `why` (whylen bytes) is the
     * reason given with RETRY, FAIL and a failing single-piece SPLIT. */
    sluice_batch_verdict (*response)(void *ctx, sluice_flush *fl, const sluice_batch_range *rg,
                                     const sluice_http_response *r, char *why, size_t whylen);
} sluice_batch_ops;

typedef struct sluice_batch_config {
    const sluice_batch_ops *ops;
    void *ctx;             /* passed to the ops */
    size_t max_in_flight;  /* chunks per worker */
    size_t max_events;     /* pieces per request; 0: no limit */
    size_t max_bytes;      /* body bytes per request (before gzip); 0: no limit */
    int gzip;              /* Content-Encoding: gzip (the plugin adds the header) */
    int json_array;        /* pieces are JSON lines sent as one JSON array */
    unsigned max_resends;  /* RESENDs in a row before RETRY */
} sluice_batch_config;

typedef struct sluice_batch sluice_batch;

/* An output instance's batcher (init); `cfg` is copied. */
SLUICE_API sluice_batch *sluice_batch_new(const sluice_batch_config *cfg);
SLUICE_API void sluice_batch_free(sluice_batch *b);
/* The plugin's worker_init, worker_exit and flush delegate to these. */
SLUICE_API int sluice_batch_worker_init(sluice_batch *b, uv_loop_t *loop, void **worker_ctx);
SLUICE_API void sluice_batch_worker_exit(void *worker_ctx);
SLUICE_API void sluice_batch_flush(sluice_batch *b, sluice_flush *fl);

/* "HTTP 400: first bytes of the body" (or the transport error) on one
 * line, for reasons. */
SLUICE_API void sluice_http_describe(char *out, size_t size, const sluice_http_response *r);

#endif

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

/* ==== The options every batched HTTP output has ==== */

enum { SLUICE_HTTP_COMPRESS_NONE, SLUICE_HTTP_COMPRESS_GZIP };

/* Embed as member `m` of the plugin's config and list
 * SLUICE_HTTP_OUTPUT_OPTIONS(T, m, "2") among its options (the last
 * argument: max_in_flight's default). The batcher reads it as it is. */
typedef struct sluice_http_output_config {
    sluice_http_client_config client; /* user, password, time limits, tls */
    int compress;                     /* SLUICE_HTTP_COMPRESS_* */
    int64_t max_in_flight;            /* chunks each worker renders and sends at once */
    sluice_bytes headers;             /* more request headers: a map of strings */
} sluice_http_output_config;

/* An option check: a map whose names and values are all strings. */
SLUICE_API int sluice_http_check_headers(const void *value, char *err, size_t errlen);

#define SLUICE_HTTP_OUTPUT_OPTIONS(T, m, in_flight)                                                \
    SLUICE_HTTP_CLIENT_OPTIONS(T, m.client),                                                      \
        {.name = "compress", .type = SLUICE_OPT_ENUM, .def = "none",                              \
         .values = (const char *const[]){"none", "gzip", NULL}, .offset = offsetof(T, m.compress), \
         .help = "Content-Encoding of request bodies."},                                          \
        {.name = "headers", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(T, m.headers), \
         .check = sluice_http_check_headers, .help = "More request headers, name: value."},        \
        {.name = "max_in_flight", .type = SLUICE_OPT_INT, .def = in_flight,                       \
         .flags = SLUICE_OPT_RANGE, .min = 1, .max = 1024, .offset = offsetof(T, m.max_in_flight), \
         .help = "Chunks each worker sends at once; the rest wait in the buffer, unrendered."},   \
        {.name = "tls", .type = SLUICE_OPT_SECTION, .help = "TLS settings.",                      \
         .sub = (const sluice_option[]){SLUICE_HTTP_TLS_OPTIONS(T, m.client.tls),                 \
                                        SLUICE_OPTIONS_END}}

/* ==== The batcher ==== */

typedef enum sluice_http_batch_verdict {
    SLUICE_HTTP_BATCH_DONE,
    SLUICE_HTTP_BATCH_SPLIT,
    SLUICE_HTTP_BATCH_RESEND,
    SLUICE_HTTP_BATCH_RETRY,
    SLUICE_HTTP_BATCH_FAIL,
} sluice_http_batch_verdict;

/* The pieces [first, last) one request carries; index[j] is the position in
 * the chunk of piece j (the event to mark). */
typedef struct sluice_http_batch_range {
    size_t first, last;
    const size_t *index;
    unsigned resends; /* RESENDs of this range so far */
    uintptr_t user;   /* set by prepare (e.g. which host), read by response */
} sluice_http_batch_range;

typedef struct sluice_http_batch_ops {
    /* Append one event's piece to `out` (`kind`: the chunk's). Return 0; or
     * -1 with `why` for an event that can never be sent: it goes to the
     * dead letters and gets no piece. */
    int (*render)(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out,
                  char *why, size_t whylen);
    /* Set the url (and the method, if not POST) of a request carrying
     * `rg`. The batcher has set the headers, auth, time limits and TLS
     * from the config; prepare may change them. */
    void (*prepare)(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg);
    /* Read the answer to `rg` (see above). `why` (whylen bytes) is the
     * reason given with RETRY, FAIL and a failing single-piece SPLIT. */
    sluice_http_batch_verdict (*response)(void *ctx, sluice_flush *fl,
                                          const sluice_http_batch_range *rg,
                                          const sluice_http_response *r, char *why,
                                          size_t whylen);
} sluice_http_batch_ops;

typedef struct sluice_http_batch_config {
    const sluice_http_batch_ops *ops;
    void *ctx;                             /* passed to the ops */
    const sluice_http_output_config *http; /* the common options; may be NULL */
    const char *content_type;              /* of the rendered body */
    const char *auth_scheme;               /* "Bearer": Authorization: Bearer <auth_token> */
    const char *auth_token;                /* NULL: no Authorization header */
    size_t max_events;                     /* pieces per request; 0: no limit */
    size_t max_bytes;     /* body bytes per request (before gzip); 0: no limit */
    int json_array;       /* pieces are JSON lines sent as one JSON array */
    unsigned max_resends; /* RESENDs in a row before RETRY */
    /* The plugin's own request headers, "Name: value", NULL-terminated
     * (the operator's `headers` win over them). */
    const char *const *headers;
    /* A body encoding of the plugin's instead of `compress` (snappy for
     * remote write): `encode` appends what `len` bytes at `data` become to
     * the empty `out`; the header says `content_encoding`. */
    const char *content_encoding;
    void (*encode)(void *ctx, const char *data, size_t len, sluice_buf *out);
    /* A chunk's requests one after another, in order (halves of a split
     * too), and after a RETRY the rest of the chunk retried with it: for
     * receivers that refuse a series' samples out of order. */
    int sequential;
    /* With sequential: events go to `shards` queues by `shard` (e.g. a hash
     * of their series), each sequential, the queues sent concurrently: one
     * request in flight per shard, so each series' order holds. */
    unsigned shards;
    unsigned (*shard)(void *ctx, const sluice_event *ev);
} sluice_http_batch_config;

typedef struct sluice_http_batch sluice_http_batch;

/* An output instance's batcher (init). `cfg` is copied, and the headers
 * built from it once: Content-Type, Content-Encoding, Authorization and the
 * `headers` option. `cfg->http` must live as long as the batcher. */
SLUICE_API sluice_http_batch *sluice_http_batch_new(const sluice_http_batch_config *cfg);
SLUICE_API void sluice_http_batch_free(sluice_http_batch *b);

/* A batched HTTP output's callbacks, when its context's first member is
 * its `sluice_http_batch *`:
 *     .flush = sluice_http_batch_flush, .worker_init = ..., .worker_exit = ... */
SLUICE_API void sluice_http_batch_flush(void *ctx, sluice_flush *fl);
SLUICE_API int sluice_http_batch_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx);
SLUICE_API void sluice_http_batch_worker_exit(void *worker_ctx);
#define SLUICE_HTTP_BATCH_CALLBACKS                                                                \
    .flush = sluice_http_batch_flush, .worker_init = sluice_http_batch_worker_init,               \
    .worker_exit = sluice_http_batch_worker_exit

/* "HTTP 400: first bytes of the body" (or the transport error) on one
 * line, for reasons. */
SLUICE_API void sluice_http_describe(char *out, size_t size, const sluice_http_response *r);

#endif

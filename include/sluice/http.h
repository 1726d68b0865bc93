/* Asynchronous HTTP for outputs: libcurl's multi interface driven by an
 * output worker's libuv loop, so one worker keeps many requests in flight on
 * kept-alive connections. Create one client per worker (in worker_init) and
 * use it only from that worker's thread.
 *
 * These functions are not in the sluice binary: link the static library
 * that comes with the SDK (`pkg-config --libs sluice-http`), so libcurl is
 * loaded only with the plugins that need it. */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <uv.h>
#include "buf.h"
#include "common.h"

typedef struct sluice_http sluice_http;

typedef struct sluice_http_tls {
    const char *ca_file;   /* NULL: the system's CAs */
    const char *cert_file; /* client certificate, optional */
    const char *key_file;
    int verify;            /* verify the peer and host name */
} sluice_http_tls;

typedef struct sluice_http_request {
    const char *url;
    const char *method;            /* "POST", "PUT", ... */
    const char *const *headers;    /* "Name: value", NULL-terminated; may be NULL */
    const char *body;              /* borrowed until the callback */
    size_t body_len;
    const char *user, *password;   /* basic auth when user is set */
    sluice_time_t timeout;         /* whole request; 0: none */
    sluice_time_t connect_timeout; /* 0: libcurl's default */
    const sluice_http_tls *tls;    /* may be NULL: verify with system CAs */
} sluice_http_request;

typedef struct sluice_http_response {
    long status;              /* 0 when no response was received */
    const char *error;        /* transport error (refused, timeout, reset), or NULL */
    const char *body;         /* at most the first 16 MiB */
    size_t body_len;
    sluice_time_t retry_after; /* from a Retry-After header, 0 if none */
} sluice_http_response;

/* Called once per request on the worker's loop; `r` is valid only during
 * the call. */
typedef void (*sluice_http_cb)(void *arg, const sluice_http_response *r);

SLUICE_API sluice_http *sluice_http_new(uv_loop_t *loop);
/* Start a request. Returns 0, or -1 if it could not be started (the callback
 * is then not called). */
SLUICE_API int sluice_http_send(sluice_http *h, const sluice_http_request *req, sluice_http_cb cb,
                                void *arg);
/* Abort what is in flight (each callback runs with error "aborted") and
 * free the client once its handles are closed. */
SLUICE_API void sluice_http_free(sluice_http *h);

/* The usual reading of a response: 2xx SLUICE_OK; no response, 408, 429 and
 * 5xx SLUICE_RETRY; any other status SLUICE_ERROR. */
SLUICE_API int sluice_http_classify(const sluice_http_response *r);

/* Append `len` bytes of `data` to `out` as one gzip member. */
SLUICE_API int sluice_gzip(sluice_buf *out, const void *data, size_t len);

#endif

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

/* The options of a `tls:` section for a plugin config of type T whose
 * member `m` is a sluice_http_tls (list them in a section's sub-schema). */
#define SLUICE_HTTP_TLS_OPTIONS(T, m)                                                              \
    {.name = "verify", .type = SLUICE_OPT_BOOL, .def = "true", .offset = offsetof(T, m.verify),   \
     .help = "Verify the server's certificate and name."},                                        \
        {.name = "ca_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.ca_file),             \
         .help = "CA bundle to verify with; default: the system's."},                             \
        {.name = "cert_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.cert_file),         \
         .help = "Client certificate (PEM)."},                                                    \
        {.name = "key_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.key_file),           \
         .help = "Client key (PEM)."}

/* What every HTTP output configures the same way: basic auth, time
 * limits, TLS. Embed it in the plugin's config as member `m` and list
 * SLUICE_HTTP_CLIENT_OPTIONS(T, m) among the options, with a `tls` section
 * whose sub-schema is SLUICE_HTTP_TLS_OPTIONS(T, m.tls). */
typedef struct sluice_http_client_config {
    char *user, *password;
    int64_t timeout, connect_timeout;
    sluice_http_tls tls;
} sluice_http_client_config;

#define SLUICE_HTTP_CLIENT_OPTIONS(T, m)                                                           \
    {.name = "user", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.user),                       \
     .help = "Basic auth user."},                                                                 \
        {.name = "password", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.password),           \
         .help = "Basic auth password; write ${VAR} to take it from the environment."},           \
        {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "30s", .flags = SLUICE_OPT_RANGE, \
         .min = SLUICE_NSEC_PER_MSEC, .max = 3600 * SLUICE_NSEC_PER_SEC,                          \
         .offset = offsetof(T, m.timeout), .help = "Time limit of one request."},                 \
        {.name = "connect_timeout", .type = SLUICE_OPT_DURATION, .def = "10s",                    \
         .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC,                                  \
         .max = 600 * SLUICE_NSEC_PER_SEC, .offset = offsetof(T, m.connect_timeout),              \
         .help = "Time limit to connect."}

typedef struct sluice_http_request {
    const char *url;
    const char *method;            /* "POST", "PUT", ...; "GET" sends no body and takes
                                      gzip, decoded */
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
    const char *content_type;  /* the Content-Type header, or NULL */
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

/* An option check (sluice_option.check) for a string, or each string of a
 * list, that must be an http:// or https:// URL with a host. */
SLUICE_API int sluice_http_check_url(const void *value, char *err, size_t errlen);

/* Copy auth, time limits and TLS from `cfg` into `req`. */
SLUICE_API void sluice_http_request_apply(sluice_http_request *req,
                                          const sluice_http_client_config *cfg);

/* The usual reading of a response: 2xx SLUICE_OK; no response, 408, 429 and
 * 5xx SLUICE_RETRY; any other status SLUICE_ERROR. */
SLUICE_API int sluice_http_classify(const sluice_http_response *r);

/* Append `len` bytes of `data` to `out` as one gzip member. */
SLUICE_API int sluice_gzip(sluice_buf *out, const void *data, size_t len);

#endif

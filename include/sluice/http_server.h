/* An HTTP server for inputs that receive events (http, opentelemetry):
 * libmicrohttpd run by the engine's libuv loop, so a request's handler runs
 * on the engine thread and may emit events directly, and a slow client
 * holds only its own connection.
 *
 * The server reads a whole request body before it calls the handler, and
 * answers by itself what needs no plugin: 401 (bearer token or basic auth),
 * 413 (over max_body_size, also once gunzipped), 415 (an unknown
 * Content-Encoding), 400 (a corrupt gzip body) and, while the input is
 * paused by backpressure, 503 with Retry-After. gzip and deflate bodies
 * reach the handler decoded.
 *
 * Like http.h, these functions are in a static library of the SDK
 * (`pkg-config --libs sluice-http-server`), not in the sluice binary. */
#ifndef SLUICE_HTTP_SERVER_H
#define SLUICE_HTTP_SERVER_H

#include "common.h"
#include "option.h"
#include "plugin.h"

typedef struct sluice_http_server sluice_http_server;
/* One request and its answer. */
typedef struct sluice_http_exchange sluice_http_exchange;

/* What every receiving input configures the same way. Embed it as member
 * `m`, list SLUICE_HTTP_SERVER_OPTIONS(T, m) among the options and a `tls`
 * section whose sub-schema is SLUICE_HTTP_SERVER_TLS_OPTIONS(T, m). */
typedef struct sluice_http_server_config {
    int ack; /* SLUICE_HTTP_ACK_* */
    int64_t ack_timeout, retry_after;
    char *bearer_token;
    char *user, *password;
    int64_t max_body_size;
    int64_t max_connections;
    int64_t idle_timeout;
    int tls;
    char *cert_file, *key_file, *ca_file;
} sluice_http_server_config;

/* When a request is answered: once its events are in the pipeline, or once
 * every output delivered them, dead-lettered them or wrote them to a
 * filesystem buffer. */
enum { SLUICE_HTTP_ACK_ACCEPTED, SLUICE_HTTP_ACK_DELIVERED };
extern const char *const sluice_http_ack_values[];

#define SLUICE_HTTP_SERVER_OPTIONS(T, m)                                                           \
    {.name = "ack", .type = SLUICE_OPT_ENUM, .def = "accepted", .values = sluice_http_ack_values, \
     .offset = offsetof(T, m.ack),                                                                \
     .help = "When to answer: once the events are in the pipeline (accepted), or once every "     \
             "output delivered them, dead-lettered them or wrote them to a filesystem buffer "    \
             "(delivered)."},                                                                     \
        {.name = "ack_timeout", .type = SLUICE_OPT_DURATION, .def = "60s",                        \
         .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC, .max = 3600 * SLUICE_NSEC_PER_SEC, \
         .offset = offsetof(T, m.ack_timeout),                                                    \
         .help = "With ack: delivered, a request not acknowledged this long is answered 503 "     \
                 "(its events stay in the pipeline: a client that resends may duplicate them)."}, \
        {.name = "retry_after", .type = SLUICE_OPT_DURATION, .def = "1s",                         \
         .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC, .max = 3600 * SLUICE_NSEC_PER_SEC, \
         .offset = offsetof(T, m.retry_after),                                                    \
         .help = "The Retry-After of 503 answers under backpressure."},                          \
        {.name = "bearer_token", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.bearer_token),       \
     .help = "Requests must carry `Authorization: Bearer <token>`; write ${VAR} to take it from "  \
             "the environment."},                                                                 \
        {.name = "user", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.user),                   \
         .help = "Requests must carry basic auth with this user and `password`."},                \
        {.name = "password", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.password),           \
         .help = "Basic auth password."},                                                         \
        {.name = "max_body_size", .type = SLUICE_OPT_SIZE, .def = "10MiB",                        \
         .flags = SLUICE_OPT_RANGE, .min = 1024, .max = INT64_C(1) << 30,                          \
         .offset = offsetof(T, m.max_body_size),                                                  \
         .help = "Larger bodies (also once decompressed) are answered 413."},                     \
        {.name = "max_connections", .type = SLUICE_OPT_INT, .def = "1024",                        \
         .flags = SLUICE_OPT_RANGE, .min = 1, .max = 100000,                                      \
         .offset = offsetof(T, m.max_connections),                                                \
         .help = "Connections at once; more are refused."},                                       \
        {.name = "idle_timeout", .type = SLUICE_OPT_DURATION, .def = "30s",                       \
         .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC,                                   \
         .max = 3600 * SLUICE_NSEC_PER_SEC, .offset = offsetof(T, m.idle_timeout),                \
         .help = "A connection silent this long is closed (a slow client holds only its own)."}

#define SLUICE_HTTP_SERVER_TLS_OPTIONS(T, m)                                                       \
    {.name = "cert_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.cert_file),             \
     .help = "Server certificate chain (PEM); required."},                                        \
        {.name = "key_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.key_file),           \
         .help = "Its private key (PEM); required."},                                             \
        {.name = "ca_file", .type = SLUICE_OPT_STR, .offset = offsetof(T, m.ca_file),             \
         .help = "If set, clients must present a certificate signed by these CAs."}

/* From init: judge the options together (a password without a user, TLS
 * without a certificate). Returns SLUICE_OK, or SLUICE_ERROR after
 * reporting what is wrong against its option. */
SLUICE_API int sluice_http_server_check(sluice_instance *ins, const sluice_http_server_config *cfg);

/* Called on the engine thread once a request's body is complete; it must
 * answer (sluice_http_respond) or defer the answer (sluice_http_defer). */
typedef void (*sluice_http_handler)(void *arg, sluice_http_exchange *x);

/* Listen on `listen` (HOST:PORT) and serve. Call from start. Returns NULL
 * after reporting why against the option `listen`. */
SLUICE_API sluice_http_server *sluice_http_server_start(sluice_instance *ins, const char *listen,
                                                        const sluice_http_server_config *cfg,
                                                        sluice_http_handler handler, void *arg);
/* Backpressure: while `retry_after` is not 0, requests are answered 503
 * with Retry-After (rounded up to seconds) before their bodies are read. */
SLUICE_API void sluice_http_server_busy(sluice_http_server *s, sluice_time_t retry_after);
/* Answer deferred requests 503, stop listening, close every connection and
 * free the server once its handles are closed. Call from stop. */
SLUICE_API void sluice_http_server_stop(sluice_http_server *s);

/* ==== Answers after acknowledgement (ack: delivered) ==== */

typedef struct sluice_http_acks sluice_http_acks;

/* From start, when cfg->ack is SLUICE_HTTP_ACK_DELIVERED. */
SLUICE_API sluice_http_acks *sluice_http_acks_new(sluice_instance *ins,
                                                  const sluice_http_server_config *cfg);
/* Mark everything `em` emitted so far with a token and defer `x`: the
 * answer given here (copied) goes out once those events are acknowledged,
 * or 503 with Retry-After after ack_timeout. */
SLUICE_API void sluice_http_acks_defer(sluice_http_acks *a, sluice_http_exchange *x,
                                       sluice_emitter *em, unsigned status,
                                       const char *content_type, const char *body, size_t len);
/* From the input's ack callback. */
SLUICE_API void sluice_http_acks_done(sluice_http_acks *a, uint64_t token);
/* From stop, before sluice_http_server_stop: let go of the waiting requests
 * (the server answers them 503) and free once the timer is closed. */
SLUICE_API void sluice_http_acks_stop(sluice_http_acks *a);

/* ==== The request ==== */

SLUICE_API const char *sluice_http_method(const sluice_http_exchange *x);
/* The path without the query string. */
SLUICE_API const char *sluice_http_path(const sluice_http_exchange *x);
/* A header's value (name in any case), or NULL. */
SLUICE_API const char *sluice_http_header(const sluice_http_exchange *x, const char *name);
/* A query argument's value (decoded), or NULL. */
SLUICE_API const char *sluice_http_query(const sluice_http_exchange *x, const char *name);
/* The media type of Content-Type, lower case and without parameters
 * ("application/json"), or "" when there is none. */
SLUICE_API const char *sluice_http_content_type(const sluice_http_exchange *x);
/* The client's address, "127.0.0.1:40512" or "[::1]:40512". */
SLUICE_API const char *sluice_http_peer(const sluice_http_exchange *x);
/* The body, decompressed. Valid until the answer is sent. */
SLUICE_API const char *sluice_http_body(const sluice_http_exchange *x, size_t *len);

/* ==== The answer ==== */

/* Add a header to the answer ("Retry-After", "5"). Before respond. */
SLUICE_API void sluice_http_add_header(sluice_http_exchange *x, const char *name,
                                       const char *value);
/* Send the answer; `body` is copied. Exactly once per exchange, from the
 * handler or, after sluice_http_defer, later on the engine thread. */
SLUICE_API void sluice_http_respond(sluice_http_exchange *x, unsigned status,
                                    const char *content_type, const char *body, size_t len);
/* From the handler: the answer comes later (e.g. once the request's events
 * are acknowledged). The connection waits without holding the loop. */
SLUICE_API void sluice_http_defer(sluice_http_exchange *x);
/* The plugin's own pointer on a deferred exchange. */
SLUICE_API void sluice_http_set_data(sluice_http_exchange *x, void *data);
SLUICE_API void *sluice_http_data(const sluice_http_exchange *x);

#endif

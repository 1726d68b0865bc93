/* The receiving HTTP server (include/sluice/http_server.h): libmicrohttpd
 * in its epoll mode with no thread of its own. Its epoll descriptor is
 * watched by a uv_poll on the engine loop and its connection timeouts by a
 * uv_timer, so MHD_run, and with it every handler, runs on the engine
 * thread. A deferred answer suspends the connection; responding resumes it
 * and libmicrohttpd calls us once more to queue the response. */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <sluice/buf.h>
#include <sluice/http_server.h>
#include <sluice/log.h>
#include <sluice/net.h>

#include "http_decode.h"
#include "http_server_tls.h"

struct sluice_http_server {
    sluice_instance *ins;
    const sluice_http_server_config *cfg;
    sluice_http_handler handler;
    void *arg;
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    sluice_time_t busy;
    sluice_http_exchange *deferred; /* suspended, waiting for their answers */
    sluice_http_exchange *paused;   /* suspended before their bodies, by backpressure */
    uv_timer_t pause_timer;
    int kick;     /* a connection was resumed: run libmicrohttpd again soon */
    int stopping; /* answer at once, pause and defer nothing */
    char *tls_mem[3];               /* cert, key, CA, as libmicrohttpd wants them */
    sluice_buf spare;               /* the last request's body buffer, for the next */
    uint64_t unauthorized, too_large, refused_busy;
};

/* Where an exchange is: reading its body, then answered or waiting. */
enum x_state { X_PAUSED, X_READING, X_DISCARDING, X_DEFERRED, X_ANSWERED };

struct sluice_http_exchange {
    sluice_http_server *s;
    struct MHD_Connection *conn;
    enum x_state state;
    const char *method, *path;
    sluice_buf raw;     /* the body as received */
    sluice_buf decoded; /* gunzipped, when it was compressed */
    const char *body;
    size_t body_len;
    char content_type[96];
    char peer[64];
    struct MHD_Response *response; /* a deferred answer, ready to queue */
    unsigned status;
    const char *headers[8][2]; /* extra answer headers, copied into the response */
    char header_store[256];
    size_t n_headers, header_used;
    void *data;
    sluice_time_t deadline; /* paused: answer 503 after it */
    int expired;
    int suspended; /* in the deferred or paused list, its connection suspended */
    sluice_http_exchange *prev, *next; /* in the deferred or paused list */
};

/* The largest body buffer kept for reuse between requests. */
#define SPARE_MAX (16u << 20)

static void run(sluice_http_server *s);

/* ==== The loop ==== */

static void
on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    run(h->data);
}

static void
on_timer(uv_timer_t *h)
{
    run(h->data);
}

/* Let libmicrohttpd do what is ready, then wake it again when it next has
 * something to do by time (timeouts, or connections it left ready). */
static void
run(sluice_http_server *s)
{
    if (!s->daemon)
        return;
    s->kick = 0;
    MHD_run(s->daemon);
    MHD_UNSIGNED_LONG_LONG ms;
    /* Without a thread of its own libmicrohttpd has no wake-up for a
     * resumed connection: it takes it on its next run, which its timeout
     * does not count. */
    if (s->kick)
        uv_timer_start(&s->timer, on_timer, 0, 0);
    else if (MHD_get_timeout(s->daemon, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_timer, ms > 60000 ? 60000 : ms, 0);
    else
        uv_timer_stop(&s->timer);
}

/* ==== Answers ==== */

static void
queue(sluice_http_exchange *x, unsigned status, struct MHD_Response *r)
{
    MHD_queue_response(x->conn, status, r);
    MHD_destroy_response(r);
    x->state = X_ANSWERED;
}

static struct MHD_Response *
make_response(sluice_http_exchange *x, const char *content_type, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (size_t i = 0; i < x->n_headers; i++)
        MHD_add_response_header(r, x->headers[i][0], x->headers[i][1]);
    return r;
}

/* An answer of the server's own: a short JSON error, as the inputs give. */
static void
refuse(sluice_http_exchange *x, unsigned status, const char *why)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_printf(&b, "{\"error\":\"%s\"}\n", why);
    queue(x, status, make_response(x, "application/json", b.data, b.len));
    sluice_buf_free(&b);
}

void
sluice_http_add_header(sluice_http_exchange *x, const char *name, const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    if (x->n_headers == sizeof x->headers / sizeof *x->headers ||
        x->header_used + nl + vl > sizeof x->header_store)
        return;
    char *n = memcpy(x->header_store + x->header_used, name, nl);
    char *v = memcpy(n + nl, value, vl);
    x->header_used += nl + vl;
    x->headers[x->n_headers][0] = n;
    x->headers[x->n_headers][1] = v;
    x->n_headers++;
}

static void
add_retry_after(sluice_http_exchange *x, sluice_time_t delay)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld",
             (long long)((delay + SLUICE_NSEC_PER_SEC - 1) / SLUICE_NSEC_PER_SEC));
    sluice_http_add_header(x, MHD_HTTP_HEADER_RETRY_AFTER, secs);
}

static void
link_exchange(sluice_http_exchange **list, sluice_http_exchange *x)
{
    x->prev = NULL;
    x->next = *list;
    if (x->next)
        x->next->prev = x;
    *list = x;
}

static void
unlink_exchange(sluice_http_exchange **list, sluice_http_exchange *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        *list = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

/* Take a suspended exchange out of its list and let its connection go on. */
static void
resume_exchange(sluice_http_exchange **list, sluice_http_exchange *x)
{
    unlink_exchange(list, x);
    x->suspended = 0;
    MHD_resume_connection(x->conn);
    x->s->kick = 1;
    uv_timer_start(&x->s->timer, on_timer, 0, 0);
}

static void
suspend_exchange(sluice_http_exchange **list, sluice_http_exchange *x)
{
    MHD_suspend_connection(x->conn);
    x->suspended = 1;
    link_exchange(list, x);
}

void
sluice_http_respond(sluice_http_exchange *x, unsigned status, const char *content_type,
                    const char *body, size_t len)
{
    if (x->state == X_ANSWERED || x->response)
        return;
    /* Deferred but still in its handler (an acknowledgement that came at
     * once): answered as if never deferred. */
    if (x->state != X_DEFERRED || !x->suspended) {
        queue(x, status, make_response(x, content_type, body, len));
        return;
    }
    /* Resumed, libmicrohttpd calls the access handler again, which queues
     * this. */
    x->response = make_response(x, content_type, body, len);
    x->status = status;
    resume_exchange(&x->s->deferred, x);
}

void
sluice_http_defer(sluice_http_exchange *x)
{
    if (x->state == X_ANSWERED)
        return;
    x->state = X_DEFERRED;
}

void
sluice_http_set_data(sluice_http_exchange *x, void *data)
{
    x->data = data;
}

void *
sluice_http_data(const sluice_http_exchange *x)
{
    return x->data;
}

/* ==== The request ==== */

const char *
sluice_http_method(const sluice_http_exchange *x)
{
    return x->method;
}

const char *
sluice_http_path(const sluice_http_exchange *x)
{
    return x->path;
}

const char *
sluice_http_header(const sluice_http_exchange *x, const char *name)
{
    return MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, name);
}

const char *
sluice_http_query(const sluice_http_exchange *x, const char *name)
{
    return MHD_lookup_connection_value(x->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
sluice_http_content_type(const sluice_http_exchange *x)
{
    return x->content_type;
}

const char *
sluice_http_peer(const sluice_http_exchange *x)
{
    return x->peer;
}

const char *
sluice_http_body(const sluice_http_exchange *x, size_t *len)
{
    *len = x->body_len;
    return x->body ? x->body : "";
}

/* ==== Serving ==== */

static void
describe(sluice_http_exchange *x)
{
    const char *ct = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = 0;
    for (; ct && ct[n] && ct[n] != ';' && n + 1 < sizeof x->content_type; n++)
        x->content_type[n] = (char)(ct[n] >= 'A' && ct[n] <= 'Z' ? ct[n] + 32 : ct[n]);
    while (n && (x->content_type[n - 1] == ' ' || x->content_type[n - 1] == '\t'))
        n--;
    x->content_type[n] = '\0';

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        sluice_format_address(ci->client_addr, x->peer, sizeof x->peer);
}

/* Whether the request carries the configured credentials; with none
 * configured, every request does. */
static int
authorized(sluice_http_exchange *x)
{
    const sluice_http_server_config *c = x->s->cfg;
    if (!c->bearer_token && !c->user)
        return 1;
    const char *auth = sluice_http_header(x, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth)
        return 0;
    if (c->bearer_token && strncasecmp(auth, "Bearer ", 7) == 0 &&
        sluice_http_secret_equal(auth + 7, c->bearer_token))
        return 1;
    if (c->user) {
        char *pass = NULL;
        char *user = MHD_basic_auth_get_username_password(x->conn, &pass);
        int ok = user && pass && sluice_http_secret_equal(user, c->user) &&
                 sluice_http_secret_equal(pass, c->password ? c->password : "");
        MHD_free(user);
        MHD_free(pass);
        return ok;
    }
    return 0;
}

/* The first call for a request: its headers are in. Answer at once what
 * can be answered without the body. */
static int
begin(sluice_http_exchange *x)
{
    sluice_http_server *s = x->s;
    describe(x);
    if (s->cfg->tls && s->cfg->ca_file && !sluice_http_server_tls_client_ok(x->conn)) {
        s->unauthorized++;
        refuse(x, MHD_HTTP_FORBIDDEN, "a client certificate signed by tls.ca_file is required");
        return 0;
    }
    if (!authorized(x)) {
        s->unauthorized++;
        sluice_http_add_header(x, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                               s->cfg->user ? "Basic realm=\"sluice\"" : "Bearer");
        refuse(x, MHD_HTTP_UNAUTHORIZED, "missing or wrong credentials");
        return 0;
    }
    const char *cl = sluice_http_header(x, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > (unsigned long long)s->cfg->max_body_size) {
        s->too_large++;
        refuse(x, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than max_body_size");
        return 0;
    }
    x->state = X_READING;
    return 1;
}

/* ==== Backpressure ====
 * While the input is paused a new request waits, suspended before its body
 * is read (the sender's TCP window fills, as with any stream input), for
 * at most retry_after; then it is answered 503 with Retry-After. */

static void
on_pause_timer(uv_timer_t *t)
{
    sluice_http_server *s = t->data;
    sluice_time_t now = sluice_time_now();
    for (sluice_http_exchange *x = s->paused, *next; x; x = next) {
        next = x->next;
        if (x->deadline <= now) {
            x->expired = 1;
            resume_exchange(&s->paused, x);
        }
    }
    if (!s->paused)
        uv_timer_stop(t);
}

static void
pause_exchange(sluice_http_exchange *x)
{
    sluice_http_server *s = x->s;
    x->state = X_PAUSED;
    if (!x->deadline)
        x->deadline = sluice_time_now() + s->busy;
    suspend_exchange(&s->paused, x);
    if (!uv_is_active((uv_handle_t *)&s->pause_timer))
        uv_timer_start(&s->pause_timer, on_pause_timer, 100, 100);
}

/* A paused request called again: read it, wait more, or give up. */
static int
unpause(sluice_http_exchange *x)
{
    sluice_http_server *s = x->s;
    if (x->expired || s->stopping || (s->busy && sluice_time_now() >= x->deadline)) {
        s->refused_busy++;
        add_retry_after(x, s->busy ? s->busy : SLUICE_NSEC_PER_SEC);
        refuse(x, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: the pipeline is applying backpressure");
        return 0;
    }
    if (s->busy) {
        pause_exchange(x);
        return 0;
    }
    x->state = X_READING;
    return 1;
}

/* The body is complete: decode it and hand the exchange to the input. */
static void
finish(sluice_http_exchange *x)
{
    sluice_http_server *s = x->s;
    if (x->state == X_DISCARDING) {
        s->too_large++;
        refuse(x, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than max_body_size");
        return;
    }
    const char *enc = sluice_http_header(x, MHD_HTTP_HEADER_CONTENT_ENCODING);
    x->body = x->raw.data;
    x->body_len = x->raw.len;
    if (enc && *enc && strcasecmp(enc, "identity") != 0) {
        char why[160];
        int r = sluice_http_decode(enc, x->raw.data, x->raw.len, (size_t)s->cfg->max_body_size,
                                   &x->decoded, why, sizeof why);
        if (r != 0) {
            if (r == HTTP_DECODE_TOO_LARGE)
                s->too_large++;
            refuse(x,
                   r == HTTP_DECODE_UNKNOWN    ? MHD_HTTP_UNSUPPORTED_MEDIA_TYPE
                   : r == HTTP_DECODE_TOO_LARGE ? MHD_HTTP_CONTENT_TOO_LARGE
                                                : MHD_HTTP_BAD_REQUEST,
                   why);
            return;
        }
        x->body = x->decoded.data;
        x->body_len = x->decoded.len;
    }
    s->handler(s->arg, x);
    if (x->state == X_READING)
        refuse(x, MHD_HTTP_INTERNAL_SERVER_ERROR, "the input gave no answer");
    else if (x->state == X_DEFERRED && s->stopping)
        refuse(x, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
    else if (x->state == X_DEFERRED)
        suspend_exchange(&s->deferred, x);
}

/* What to reserve for a body: its Content-Length, or for a chunked one a
 * size most requests fit in (SDKs batch to 100-500 KB). */
static size_t
body_guess(const sluice_http_exchange *x)
{
    const char *cl = sluice_http_header(x, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t n = cl ? (size_t)strtoull(cl, NULL, 10) : 256 * 1024;
    return n < (size_t)x->s->cfg->max_body_size ? n : (size_t)x->s->cfg->max_body_size;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sluice_http_server *s = cls;
    sluice_http_exchange *x = *con_cls;
    if (!x) {
        x = calloc(1, sizeof *x);
        if (!x)
            return MHD_NO;
        x->s = s;
        x->conn = conn;
        x->method = method;
        x->path = url;
        *con_cls = x;
        if (begin(x) && s->busy) {
            if (s->stopping) {
                add_retry_after(x, s->busy);
                refuse(x, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
            } else {
                pause_exchange(x);
            }
        }
        return MHD_YES;
    }
    /* Resumed from a pause: libmicrohttpd repeats the headers' call (no
     * body yet), then reads the body as for any request. */
    if (x->state == X_PAUSED) {
        unpause(x);
        return MHD_YES;
    }
    if (x->response) { /* resumed with its answer */
        struct MHD_Response *r = x->response;
        x->response = NULL;
        queue(x, x->status, r);
        return MHD_YES;
    }
    if (*upload_size) {
        if (x->state == X_READING) {
            if (x->raw.len + *upload_size > (size_t)s->cfg->max_body_size) {
                x->state = X_DISCARDING;
                sluice_buf_free(&x->raw);
            } else {
                if (x->raw.cap == 0) { /* one allocation for most bodies, reused */
                    size_t want = body_guess(x);
                    if (s->spare.cap >= want) {
                        x->raw = s->spare;
                        s->spare = (sluice_buf)SLUICE_BUF_INIT;
                    } else {
                        sluice_buf_reserve(&x->raw, want);
                    }
                }
                sluice_buf_append(&x->raw, upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (x->state == X_READING || x->state == X_DISCARDING)
        finish(x);
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void)conn;
    (void)code;
    sluice_http_exchange *x = *con_cls;
    if (!x)
        return;
    sluice_http_server *s = cls;
    if (x->response)
        MHD_destroy_response(x->response);
    if (x->raw.cap > s->spare.cap && x->raw.cap <= SPARE_MAX) {
        sluice_buf_free(&s->spare);
        s->spare = x->raw;
        s->spare.len = 0;
    } else {
        sluice_buf_free(&x->raw);
    }
    sluice_buf_free(&x->decoded);
    free(x);
    *con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    sluice_debug(((sluice_http_server *)cls)->ins, "http server: %s", line);
}

static void
free_server(sluice_http_server *s)
{
    for (int i = 0; i < 3; i++)
        free(s->tls_mem[i]);
    sluice_buf_free(&s->spare);
    free(s);
}

static void
on_closed(uv_handle_t *h)
{
    sluice_http_server *s = h->data;
    if (--s->open_handles == 0)
        free_server(s);
}

int
sluice_http_server_check(sluice_instance *ins, const sluice_http_server_config *cfg)
{
    if (cfg->password && !cfg->user) {
        sluice_option_error(ins, "password", "a password needs a `user`");
        return SLUICE_ERROR;
    }
    if (cfg->tls && (!cfg->cert_file || !cfg->key_file)) {
        sluice_option_error(ins, "tls", "TLS needs both cert_file and key_file");
        return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

sluice_http_server *
sluice_http_server_start(sluice_instance *ins, const char *listen,
                         const sluice_http_server_config *cfg, sluice_http_handler handler,
                         void *arg)
{
    struct sockaddr_storage ss;
    char err[160];
    if (sluice_address_parse(listen, &ss, err, sizeof err) < 0) {
        sluice_option_error(ins, "listen", "%s", err);
        return NULL;
    }
    sluice_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ins = ins;
    s->cfg = cfg;
    s->handler = handler;
    s->arg = arg;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cfg->tls) {
        if (sluice_http_server_tls_load(ins, cfg, s->tls_mem) < 0) {
            free_server(s);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    int fd = sluice_listen_tcp(&ss, 512);
    if (fd < 0) {
        sluice_option_error(ins, "listen", "cannot listen on %s: %s", listen, strerror(errno));
        free_server(s);
        return NULL;
    }
    struct MHD_OptionItem tls_opts[] = {
        {s->tls_mem[0] ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls_mem[0]},
        {s->tls_mem[1] ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_mem[1]},
        {s->tls_mem[2] ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->tls_mem[2]},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->idle_timeout / SLUICE_NSEC_PER_SEC),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_ARRAY, s->tls_mem[0] ? tls_opts : tls_opts + 3, MHD_OPTION_END);
    if (!s->daemon) {
        sluice_option_error(ins, cfg->tls ? "tls" : "listen",
                            "cannot start the HTTP server on %s%s", listen,
                            cfg->tls ? " (are cert_file and key_file a matching PEM pair?)"
                                     : "");
        free_server(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    uv_loop_t *loop = sluice_instance_loop(ins);
    uv_poll_init(loop, &s->poll, di->epoll_fd);
    uv_timer_init(loop, &s->timer);
    uv_timer_init(loop, &s->pause_timer);
    s->poll.data = s->timer.data = s->pause_timer.data = s;
    s->open_handles = 3;
    uv_poll_start(&s->poll, UV_READABLE, on_poll);
    run(s);
    return s;
}

void
sluice_http_server_busy(sluice_http_server *s, sluice_time_t retry_after)
{
    s->busy = retry_after;
    if (retry_after || !s->paused)
        return;
    while (s->paused)
        resume_exchange(&s->paused, s->paused);
    uv_timer_stop(&s->pause_timer);
}

void
sluice_http_server_stop(sluice_http_server *s)
{
    if (!s)
        return;
    /* Answer every suspended request, and let libmicrohttpd send the
     * answers: it aborts when stopped with a connection still suspended. A
     * request that comes meanwhile is answered 503 at once. */
    s->stopping = 1;
    for (int round = 0; round < 8 && (s->deferred || s->paused || round == 0); round++) {
        while (s->deferred) {
            sluice_http_exchange *x = s->deferred;
            add_retry_after(x, SLUICE_NSEC_PER_SEC);
            sluice_http_respond(x, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                                "{\"error\":\"shutting down\"}\n", 26);
        }
        while (s->paused) {
            s->paused->expired = 1;
            resume_exchange(&s->paused, s->paused);
        }
        MHD_run(s->daemon);
    }
    if (s->unauthorized || s->too_large || s->refused_busy)
        sluice_info(s->ins,
                    "http server: %llu requests refused for credentials, %llu as too large, "
                    "%llu while busy",
                    (unsigned long long)s->unauthorized, (unsigned long long)s->too_large,
                    (unsigned long long)s->refused_busy);
    uv_poll_stop(&s->poll);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    uv_close((uv_handle_t *)&s->poll, on_closed);
    uv_close((uv_handle_t *)&s->timer, on_closed);
    uv_close((uv_handle_t *)&s->pause_timer, on_closed);
}

/* Stream listeners and their connections for receiving inputs (see
 * stream_server.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "stream_server.h"
#include "stream_tls.h"

/* Ciphertext is read into a buffer of this size per TLS connection. */
#define TLS_READ_SIZE (16 * 1024 + 512)

typedef union stream_handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} stream_handle;

typedef struct listener {
    stream_server *srv;
    char *name; /* as configured */
    char *path; /* unix: the socket file, removed at stop once bound */
    stream_tls *tls; /* tls: borrowed */
    stream_handle h;
    int open, bound;
    struct listener *next;
} listener;

typedef struct conn {
    stream_conn pub; /* the framer's view */
    stream_server *srv;
    stream_handle h;
    char *buf; /* bytes not framed yet (plaintext) */
    size_t len, cap;
    stream_tls_conn *tls; /* or NULL */
    char *raw;            /* TLS: ciphertext read */
    uint64_t accepted_at; /* loop ms */
    struct conn *prev, *next;
} conn;

struct stream_server {
    uv_loop_t *loop;
    stream_server_config cfg;
    stream_server_ops ops;
    void *arg;
    listener *listeners, **last, *last_listener;
    conn *conns;
    size_t n_conns;
    int paused;
    uint64_t refused;
    uv_timer_t sweep; /* TLS listeners: closes handshakes that take too long */
    int sweeping;
};

/* A TLS client has this long (ms) to finish its handshake by default: one
 * that connects and says nothing would hold a connection slot for good. */
#define TLS_HANDSHAKE_MS 10000

/* ==== Connections ==== */

static void
conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    stream_tls_conn_free(c->tls);
    free(c->raw);
    free(c->buf);
    free(c);
}

static void
conn_link(stream_server *srv, conn *c)
{
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
}

static void
conn_unlink(stream_server *srv, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->n_conns--;
}

/* Unlink, hand over what was not framed (a last line without LF), close. */
static void
conn_close(conn *c)
{
    stream_server *srv = c->srv;
    conn_unlink(srv, c);
    if (c->len)
        srv->ops.rest(srv->arg, &c->pub, c->buf, c->len);
    uv_close(&c->h.handle, conn_closed);
}

/* Room for read_size more bytes in the frame buffer, when it is short. */
static void
conn_reserve(conn *c)
{
    const stream_server_config *cfg = &c->srv->cfg;
    if (c->cap - c->len < cfg->read_min && c->cap < c->len + cfg->read_size) {
        size_t want = c->len + cfg->read_size;
        c->cap = want > c->cap * 2 ? want : c->cap * 2;
        c->buf = sluice_realloc(c->buf, c->cap);
    }
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = h->data;
    if (c->tls) {
        buf->base = c->raw;
        buf->len = TLS_READ_SIZE;
        return;
    }
    conn_reserve(c);
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

/* Hand the buffer to the framer and keep what it did not take. */
static void
conn_frame(conn *c)
{
    stream_server *srv = c->srv;
    size_t took = srv->ops.frame(srv->arg, &c->pub, c->buf, c->len);
    c->len -= took;
    if (c->len && took)
        memmove(c->buf, c->buf + took, c->len);
}

static void
on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req->data);
    free(req);
}

/* Send what TLS has for the peer (handshake records, alerts). */
static void
conn_tls_flush(conn *c)
{
    char *data;
    size_t n = stream_tls_take_output(c->tls, &data);
    if (n == 0)
        return;
    uv_write_t *req = sluice_malloc(sizeof *req);
    req->data = data;
    uv_buf_t b = uv_buf_init(data, (unsigned)n);
    if (uv_write(req, &c->h.stream, &b, 1, on_written) != 0)
        on_written(req, -1);
}

/* TLS: decrypt what was read into the frame buffer. Returns -1 when the
 * connection is over. */
static int
conn_tls_read(conn *c, size_t n)
{
    stream_tls_put(c->tls, c->raw, n);
    ssize_t got;
    do {
        conn_reserve(c);
        got = stream_tls_read(c->tls, c->buf + c->len, c->cap - c->len);
        if (got > 0)
            c->len += (size_t)got;
    } while (got > 0);
    conn_tls_flush(c);
    if (got < 0 && stream_tls_error(c->tls) && c->srv->ops.tls_failed)
        c->srv->ops.tls_failed(c->srv->arg, &c->pub, stream_tls_error(c->tls));
    return got < 0 ? -1 : 0;
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (c->tls) {
        int over = conn_tls_read(c, (size_t)n);
        conn_frame(c);
        if (over)
            conn_close(c);
        return;
    }
    c->len += (size_t)n;
    conn_frame(c);
}

static void
conn_name_peer(conn *c, const listener *l)
{
    if (l->path) {
        snprintf(c->pub.peer, sizeof c->pub.peer, "%s", l->path);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0)
        sluice_format_address((struct sockaddr *)&ss, c->pub.peer, sizeof c->pub.peer);
}

static void
on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    stream_server *srv = l->srv;
    if (status < 0)
        return;
    conn *c = sluice_calloc(1, sizeof *c);
    c->srv = srv;
    c->pub.listen = l->name;
    if (l->path)
        uv_pipe_init(srv->loop, &c->h.pipe, 0);
    else
        uv_tcp_init(srv->loop, &c->h.tcp);
    c->h.handle.data = c;
    if (uv_accept(server, &c->h.stream) != 0) {
        uv_close(&c->h.handle, conn_closed);
        return;
    }
    if (srv->n_conns >= srv->cfg.max_connections) {
        srv->ops.refused(srv->arg, l->name, ++srv->refused);
        uv_close(&c->h.handle, conn_closed);
        return;
    }
    if (l->tls) {
        c->tls = stream_tls_accept(l->tls);
        c->raw = sluice_malloc(TLS_READ_SIZE);
        if (!c->tls) {
            uv_close(&c->h.handle, conn_closed);
            return;
        }
    }
    conn_name_peer(c, l);
    c->accepted_at = uv_now(srv->loop);
    conn_link(srv, c);
    if (!srv->paused)
        uv_read_start(&c->h.stream, on_alloc, on_read);
}

/* ==== Listeners ==== */

/* A listener, kept until free; the caller opens its handle. */
static listener *
listener_add(stream_server *srv, const char *name, const char *path)
{
    listener *l = sluice_calloc(1, sizeof *l);
    l->srv = srv;
    l->name = sluice_strdup(name);
    l->path = path ? sluice_strdup(path) : NULL;
    *srv->last = l;
    srv->last = &l->next;
    srv->last_listener = l;
    return l;
}

int
stream_server_listen_tcp(stream_server *srv, const char *name, const struct sockaddr_storage *ss)
{
    listener *l = listener_add(srv, name, NULL);
    uv_tcp_init(srv->loop, &l->h.tcp);
    l->h.handle.data = l;
    l->open = 1;
    int r = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)ss, 0);
    if (r != 0)
        return r;
    return uv_listen(&l->h.stream, 511, on_connection);
}

static void
on_sweep(uv_timer_t *t)
{
    stream_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    for (conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (!c->tls || stream_tls_established(c->tls) || now - c->accepted_at < srv->cfg.handshake_ms)
            continue;
        if (srv->ops.tls_failed) {
            char why[64];
            snprintf(why, sizeof why, "no TLS handshake within %llu ms",
                     (unsigned long long)srv->cfg.handshake_ms);
            srv->ops.tls_failed(srv->arg, &c->pub, why);
        }
        conn_close(c);
    }
}

int
stream_server_listen_tls(stream_server *srv, const char *name, const struct sockaddr_storage *ss,
                         stream_tls *tls)
{
    if (!srv->sweeping) {
        uv_timer_init(srv->loop, &srv->sweep);
        srv->sweep.data = srv;
        uint64_t every = srv->cfg.handshake_ms / 4 < 1000 ? srv->cfg.handshake_ms / 4 + 1 : 1000;
        uv_timer_start(&srv->sweep, on_sweep, every, every);
        srv->sweeping = 1;
    }
    int r = stream_server_listen_tcp(srv, name, ss);
    srv->last_listener->tls = tls;
    return r;
}

int
stream_server_listen_unix(stream_server *srv, const char *name, const char *path, int mode)
{
    listener *l = listener_add(srv, name, path);
    uv_pipe_init(srv->loop, &l->h.pipe, 0);
    l->h.handle.data = l;
    l->open = 1;
    int r = uv_pipe_bind(&l->h.pipe, path);
    if (r != 0)
        return r;
    l->bound = 1;
    chmod(path, (mode_t)mode);
    return uv_listen(&l->h.stream, 511, on_connection);
}

/* ==== The server ==== */

stream_server *
stream_server_new(uv_loop_t *loop, const stream_server_config *cfg, const stream_server_ops *ops,
                  void *arg)
{
    stream_server *srv = sluice_calloc(1, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *cfg;
    if (!srv->cfg.handshake_ms)
        srv->cfg.handshake_ms = TLS_HANDSHAKE_MS;
    srv->ops = *ops;
    srv->arg = arg;
    srv->last = &srv->listeners;
    return srv;
}

void
stream_server_pause(stream_server *srv)
{
    srv->paused = 1;
    for (conn *c = srv->conns; c; c = c->next)
        uv_read_stop(&c->h.stream);
}

void
stream_server_resume(stream_server *srv)
{
    srv->paused = 0;
    for (conn *c = srv->conns; c; c = c->next)
        uv_read_start(&c->h.stream, on_alloc, on_read);
}

void
stream_server_stop(stream_server *srv)
{
    if (srv->sweeping)
        uv_close((uv_handle_t *)&srv->sweep, NULL);
    srv->sweeping = 0;
    while (srv->conns)
        conn_close(srv->conns);
    for (listener *l = srv->listeners; l; l = l->next) {
        if (l->open)
            uv_close(&l->h.handle, NULL);
        l->open = 0;
        if (l->bound)
            unlink(l->path);
        l->bound = 0;
    }
}

uint64_t
stream_server_refused(const stream_server *srv)
{
    return srv ? srv->refused : 0;
}

void
stream_server_free(stream_server *srv)
{
    if (!srv)
        return;
    while (srv->listeners) {
        listener *l = srv->listeners;
        srv->listeners = l->next;
        free(l->name);
        free(l->path);
        free(l);
    }
    free(srv);
}

/* stream_server: the stream side of a receiving input (syslog, statsd).
 * It listens on TCP ports and unix stream sockets on the engine loop,
 * accepts at most max_connections (refusing and counting the others),
 * names each peer, buffers what a connection sends and hands it to the
 * input's framer (decrypted first on a TLS listener), which takes the complete frames and leaves the rest for
 * the next read. Under backpressure every connection stops reading; at
 * stop every connection is closed (its unframed bytes handed over once
 * more) and every listener too. Engine thread only. */
#ifndef SLUICE_STREAM_SERVER_H
#define SLUICE_STREAM_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct stream_server stream_server;

/* What a framer knows of the connection it frames. */
typedef struct stream_conn {
    const char *listen; /* the listener's address, as configured */
    char peer[80];      /* "1.2.3.4:567", "[::1]:567", or the unix socket's path */
    size_t state;       /* the framer's own; 0 when the connection opens */
} stream_conn;

typedef struct stream_server_ops {
    /* Take the complete frames at the head of data[0..len) and return how
     * many bytes were taken; the rest is handed again, with what comes
     * next, after the next read. `data` is borrowed until it returns. */
    size_t (*frame)(void *arg, stream_conn *c, const char *data, size_t len);
    /* The connection is closing and frame left these bytes (len > 0). */
    void (*rest)(void *arg, stream_conn *c, const char *data, size_t len);
    /* A connection past max_connections was just refused on `listen`;
     * `refused` counts every one so far, this one included. */
    void (*refused)(void *arg, const char *listen, uint64_t refused);
    /* Optional: a TLS connection failed (handshake, client certificate,
     * a bad record) and is being closed. */
    void (*tls_failed)(void *arg, stream_conn *c, const char *why);
} stream_server_ops;

typedef struct stream_server_config {
    size_t max_connections;
    /* A connection's buffer grows when less than read_min bytes are free,
     * to hold read_size bytes past what it holds (at least doubling). */
    size_t read_size, read_min;
    /* TLS listeners: a client's handshake must be done within this (ms;
     * 0: 10 s). */
    uint64_t handshake_ms;
} stream_server_config;

/* A server on `loop` that calls `ops` (copied) with `arg` (borrowed until
 * stream_server_free). Listens nowhere yet. */
stream_server *stream_server_new(uv_loop_t *loop, const stream_server_config *cfg,
                                 const stream_server_ops *ops, void *arg);

/* Listen on `ss`; `name` is the address as configured (copied), for the
 * framer and the logs. Returns 0 or a libuv error code; what was opened
 * is closed at stop either way. */
int stream_server_listen_tcp(stream_server *srv, const char *name,
                             const struct sockaddr_storage *ss);

/* As stream_server_listen_tcp, with TLS on every connection (`tls` is
 * borrowed until stream_server_free). */
struct stream_tls;
int stream_server_listen_tls(stream_server *srv, const char *name,
                             const struct sockaddr_storage *ss, struct stream_tls *tls);

/* Listen on a unix stream socket at `path` with permissions `mode`, and
 * remove it at stop. A file already at `path` is the caller's to clear.
 * Returns 0 or a libuv error code, as stream_server_listen_tcp. */
int stream_server_listen_unix(stream_server *srv, const char *name, const char *path, int mode);

/* Backpressure: every connection, and each one accepted meanwhile, stops
 * reading until resume. */
void stream_server_pause(stream_server *srv);
void stream_server_resume(stream_server *srv);

/* Close every connection (handing its unframed bytes to ops->rest) and
 * every listener, removing unix socket files. */
void stream_server_stop(stream_server *srv);

/* Connections refused for max_connections so far; 0 for NULL. */
uint64_t stream_server_refused(const stream_server *srv);

/* Free a stopped server whose handles' closing has run; NULL is a no-op. */
void stream_server_free(stream_server *srv);

#endif

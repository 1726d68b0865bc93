/* One connection of the syslog output to its receiver: UDP, TCP, TLS over
 * TCP, unix stream or unix datagram, driven with blocking semantics (poll
 * with deadlines) on the output's worker thread. */
#ifndef SYSLOG_CONN_H
#define SYSLOG_CONN_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <sluice/sluice.h>

typedef enum sl_transport { SL_UDP, SL_TCP, SL_TLS, SL_UNIX, SL_UNIX_DGRAM } sl_transport;

/* Where to send, parsed once from the `address` option. */
typedef struct sl_target {
    sl_transport transport;
    char *host, *port; /* udp, tcp, tls */
    char *path;        /* unix, unix-dgram */
    SSL_CTX *tls;      /* tls */
    char *server_name; /* tls: SNI and the name verified; NULL: host */
    int verify;
    int64_t connect_timeout;
} sl_target;

typedef struct sl_conn {
    int fd; /* -1: not connected */
    SSL *ssl;
} sl_conn;

/* Parse "udp://HOST:PORT", "tcp://...", "tls://...", "unix:///path" or
 * "unix-dgram:///path". Returns 0, or -1 with what is wrong in `err`. */
int sl_target_parse(sl_target *t, const char *address, char *err, size_t errlen);
void sl_target_free(sl_target *t);

/* Whether the transport carries a byte stream (and so needs framing). */
static inline int
sl_stream(const sl_target *t)
{
    return t->transport == SL_TCP || t->transport == SL_TLS || t->transport == SL_UNIX;
}

/* Connect (and for TLS, handshake and verify) within connect_timeout.
 * Returns 0, or -1 with the cause in `why`. */
int sl_conn_open(sl_conn *c, const sl_target *t, char *why, size_t whylen);
void sl_conn_close(sl_conn *c);

/* Streams: whether the receiver closed the connection. Syslog receivers
 * never send, so a socket with data or a hang-up to read is one the peer
 * is done with (TLS: records other than application data, such as TLS 1.3
 * session tickets, are read and the connection kept). */
int sl_conn_peer_closed(sl_conn *c);

/* Streams: write all of [p, p+n) by `deadline`. Returns 0, or -1 with the
 * cause in `why`. */
int sl_conn_write(sl_conn *c, const char *p, size_t n, sluice_time_t deadline, char *why,
                  size_t whylen);

/* Datagrams: send one. Returns 0, or -1 with the cause in `why`. */
int sl_conn_send(sl_conn *c, const char *p, size_t n, sluice_time_t deadline, char *why,
                 size_t whylen);

#endif

/* stream_tls: TLS for stream_server's connections (syslog over TLS, RFC
 * 5425), with OpenSSL working on memory buffers so that the connection's
 * bytes keep flowing through the engine's libuv loop: ciphertext read from
 * the socket goes in, plaintext comes out for the framer, and what TLS
 * has to send (handshake, alerts) is taken out and written. */
#ifndef SLUICE_STREAM_TLS_H
#define SLUICE_STREAM_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct stream_tls stream_tls;
typedef struct stream_tls_conn stream_tls_conn;

/* A server context from a certificate chain and its key (PEM files);
 * with `ca_file`, clients must present a certificate signed by those CAs.
 * NULL with the reason in err[errlen] when a file cannot be used. */
stream_tls *stream_tls_new(const char *cert_file, const char *key_file, const char *ca_file,
                           char *err, size_t errlen);
void stream_tls_free(stream_tls *tls);

/* The server side of one accepted connection. */
stream_tls_conn *stream_tls_accept(stream_tls *tls);
/* Whether its handshake is done. */
int stream_tls_established(const stream_tls_conn *c);
void stream_tls_conn_free(stream_tls_conn *c);

/* Ciphertext from the peer. */
void stream_tls_put(stream_tls_conn *c, const char *data, size_t len);
/* Plaintext into buf[0..cap): > 0 bytes, 0 when it needs more from the
 * peer, -1 when the connection is over (closed by the peer, or failed:
 * stream_tls_error says why, or NULL for a clean close). */
ssize_t stream_tls_read(stream_tls_conn *c, char *buf, size_t cap);
/* Bytes TLS has to send to the peer, taken out: *data is the caller's to
 * free; 0 when there are none. */
size_t stream_tls_take_output(stream_tls_conn *c, char **data);
const char *stream_tls_error(const stream_tls_conn *c);

#endif

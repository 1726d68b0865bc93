/* Connections of the syslog output (see syslog_conn.h). Sockets are
 * non-blocking; every wait is a poll bounded by a deadline, so a stuck
 * receiver costs a worker at most `timeout`. TLS is OpenSSL on the same
 * socket, its WANT_READ/WANT_WRITE turned into polls. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "syslog_conn.h"

/* ==== Addresses ==== */

int
sl_target_parse(sl_target *t, const char *a, char *err, size_t errlen)
{
    static const struct {
        const char *scheme;
        sl_transport transport;
    } schemes[] = {{"udp://", SL_UDP},
                   {"tcp://", SL_TCP},
                   {"tls://", SL_TLS},
                   {"unix-dgram://", SL_UNIX_DGRAM},
                   {"unix://", SL_UNIX}};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(a, schemes[i].scheme, n) == 0) {
            t->transport = schemes[i].transport;
            rest = a + n;
            break;
        }
    }
    if (!rest) {
        snprintf(err, errlen,
                 "expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, unix:///PATH or "
                 "unix-dgram:///PATH, found '%s'",
                 a);
        return -1;
    }
    if (t->transport == SL_UNIX || t->transport == SL_UNIX_DGRAM) {
        if (rest[0] != '/' || strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(err, errlen,
                     "expected an absolute socket path shorter than 108 bytes after "
                     "the scheme (unix:///run/x.sock)");
            return -1;
        }
        t->path = sluice_strdup(rest);
        return 0;
    }
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        snprintf(err, errlen, "expected HOST:PORT after the scheme (e.g. tcp://127.0.0.1:514)");
        return -1;
    }
    size_t hlen = (size_t)(colon - rest);
    if (rest[0] == '[' && hlen >= 2 && rest[hlen - 1] == ']') { /* [::1]:514 */
        rest++;
        hlen -= 2;
    }
    t->host = sluice_strndup(rest, hlen);
    t->port = sluice_strdup(colon + 1);
    return 0;
}

void
sl_target_free(sl_target *t)
{
    free(t->host);
    free(t->port);
    free(t->path);
    free(t->server_name);
    if (t->tls) SSL_CTX_free(t->tls);
}

/* ==== Waiting ==== */

/* Poll for `events` until `deadline`. 0 when ready, -1 with errno
 * ETIMEDOUT or poll's error. */
static int
wait_fd(int fd, short events, sluice_time_t deadline)
{
    for (;;) {
        sluice_time_t left = deadline - sluice_time_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)((left + SLUICE_NSEC_PER_MSEC - 1) / SLUICE_NSEC_PER_MSEC));
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* The first queued OpenSSL error as text, or `fallback`. */
static const char *
tls_error(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return fallback;
    ERR_error_string_n(e, buf, len);
    return buf;
}

/* ==== Connecting ==== */

static int
connect_fd(int fd, const struct sockaddr *sa, socklen_t len, sluice_time_t deadline)
{
    if (connect(fd, sa, len) == 0) return 0;
    if (errno != EINPROGRESS && errno != EAGAIN) return -1;
    if (wait_fd(fd, POLLOUT, deadline) < 0) return -1;
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    errno = err;
    return err ? -1 : 0;
}

static int
open_unix(const sl_target *t, sluice_time_t deadline, char *why, size_t whylen)
{
    int type = t->transport == SL_UNIX ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", t->path);
    if (fd < 0 || connect_fd(fd, (struct sockaddr *)&sun, sizeof sun, deadline) < 0) {
        snprintf(why, whylen, "cannot connect to %s: %s", t->path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int
open_inet(const sl_target *t, sluice_time_t deadline, char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_socktype = t->transport == SL_UDP ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *ai;
    int rc = getaddrinfo(t->host, t->port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    size_t left = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next)
        left++;
    for (struct addrinfo *a = ai; a; a = a->ai_next, left--) {
        /* Each address gets its share of the time left, so that one that
         * never answers leaves time to try the next. */
        sluice_time_t now = sluice_time_now();
        sluice_time_t mine = deadline > now ? now + (deadline - now) / (sluice_time_t)left : now;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect_fd(fd, a->ai_addr, a->ai_addrlen, mine) == 0) break;
        snprintf(why, whylen, "cannot connect to %s:%s: %s", t->host, t->port, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Run an SSL call that may want to read or write, polling for it, until it
 * succeeds (returns > 0) or fails. */
static int
tls_drive(sl_conn *c, int (*op)(SSL *, const void *, int), const void *buf, int n,
          sluice_time_t deadline)
{
    for (;;) {
        ERR_clear_error();
        int r = op(c->ssl, buf, n);
        if (r > 0) return r;
        int e = SSL_get_error(c->ssl, r);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev) {
            if (e == SSL_ERROR_SYSCALL && errno == 0) errno = EPIPE;
            return -1;
        }
        if (wait_fd(c->fd, ev, deadline) < 0) return -1;
    }
}

static int
ssl_connect_op(SSL *ssl, const void *buf, int n)
{
    (void)buf;
    (void)n;
    return SSL_connect(ssl);
}

static int
ssl_write_op(SSL *ssl, const void *buf, int n)
{
    return SSL_write(ssl, buf, n);
}

static int
is_ip(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

static int
tls_open(sl_conn *c, const sl_target *t, sluice_time_t deadline, char *why, size_t whylen)
{
    const char *name = t->server_name ? t->server_name : t->host;
    c->ssl = SSL_new(t->tls);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
        snprintf(why, whylen, "TLS setup failed");
        return -1;
    }
    SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!is_ip(name)) SSL_set_tlsext_host_name(c->ssl, name);
    if (t->verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        int ok = is_ip(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
                             : X509_VERIFY_PARAM_set1_host(vp, name, 0);
        if (!ok) {
            snprintf(why, whylen, "TLS: cannot verify the name '%s'", name);
            return -1;
        }
    }
    if (tls_drive(c, ssl_connect_op, NULL, 0, deadline) < 0) {
        char buf[256];
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            snprintf(why, whylen, "TLS handshake with %s:%s: certificate not trusted: %s", t->host,
                     t->port, X509_verify_cert_error_string(v));
        else
            snprintf(why, whylen, "TLS handshake with %s:%s: %s", t->host, t->port,
                     tls_error(buf, sizeof buf, strerror(errno)));
        return -1;
    }
    return 0;
}

int
sl_conn_open(sl_conn *c, const sl_target *t, char *why, size_t whylen)
{
    sluice_time_t deadline = sluice_time_now() + t->connect_timeout;
    c->ssl = NULL;
    c->fd = t->transport == SL_UNIX || t->transport == SL_UNIX_DGRAM
                ? open_unix(t, deadline, why, whylen)
                : open_inet(t, deadline, why, whylen);
    if (c->fd < 0) return -1;
    if (t->transport == SL_TLS && tls_open(c, t, deadline, why, whylen) < 0) {
        sl_conn_close(c);
        return -1;
    }
    return 0;
}

void
sl_conn_close(sl_conn *c)
{
    if (c->ssl) {
        /* A close_notify if it goes out at once; never wait for it. */
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

/* ==== Sending ==== */

int
sl_conn_peer_closed(sl_conn *c)
{
    struct pollfd p = {c->fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    if (!c->ssl || (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return 1;
    char buf[256];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, buf, sizeof buf);
        if (r > 0) continue; /* a receiver that talks: ignored */
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
    }
}

int
sl_conn_write(sl_conn *c, const char *p, size_t n, sluice_time_t deadline, char *why, size_t whylen)
{
    while (n) {
        ssize_t w;
        if (c->ssl) {
            int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
            w = tls_drive(c, ssl_write_op, p, chunk, deadline);
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                wait_fd(c->fd, POLLOUT, deadline) == 0)
                continue;
        }
        if (w <= 0) {
            char buf[256];
            snprintf(why, whylen, "writing: %s",
                     c->ssl ? tls_error(buf, sizeof buf, strerror(errno)) : strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
sl_conn_send(sl_conn *c, const char *p, size_t n, sluice_time_t deadline, char *why, size_t whylen)
{
    for (;;) {
        if (send(c->fd, p, n, MSG_NOSIGNAL) >= 0) return 0;
        if (errno == EINTR) continue;
        /* A full unix datagram queue or socket buffer: wait for room. */
        if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) &&
            wait_fd(c->fd, POLLOUT, deadline) == 0)
            continue;
        snprintf(why, whylen, "sending: %s", strerror(errno));
        return -1;
    }
}

/* TLS on memory buffers for stream connections (see stream_tls.h). */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "stream_tls.h"

struct stream_tls {
    SSL_CTX *ctx;
};

struct stream_tls_conn {
    SSL *ssl;
    BIO *in, *out; /* from the peer, to the peer; owned by ssl */
    char error[256];
};

static void
openssl_error(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    snprintf(err, errlen, "%s %s: %s", what, file, reason);
}

stream_tls *
stream_tls_new(const char *cert_file, const char *key_file, const char *ca_file, char *err,
               size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_error(err, errlen, "cannot create a TLS context", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        openssl_error(err, errlen, "cannot use the certificate", cert_file);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        openssl_error(err, errlen, "cannot use the key", key_file);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_error(err, errlen, "the key does not match the certificate", key_file);
    } else if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        openssl_error(err, errlen, "cannot load the CA certificates", ca_file);
    } else {
        if (ca_file)
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        /* Without it, a sender resuming its session is refused whenever
         * client certificates are verified. */
        static const unsigned char sid[] = "sluice-stream";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
        stream_tls *tls = sluice_calloc(1, sizeof *tls);
        tls->ctx = ctx;
        return tls;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

void
stream_tls_free(stream_tls *tls)
{
    if (!tls)
        return;
    SSL_CTX_free(tls->ctx);
    free(tls);
}

stream_tls_conn *
stream_tls_accept(stream_tls *tls)
{
    stream_tls_conn *c = sluice_calloc(1, sizeof *c);
    c->ssl = SSL_new(tls->ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->in || !c->out) {
        BIO_free(c->in);
        BIO_free(c->out);
        SSL_free(c->ssl);
        free(c);
        return NULL;
    }
    BIO_set_mem_eof_return(c->in, -1); /* empty means "more to come", not EOF */
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_accept_state(c->ssl);
    return c;
}

int
stream_tls_established(const stream_tls_conn *c)
{
    return SSL_is_init_finished(c->ssl);
}

void
stream_tls_conn_free(stream_tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl);
    free(c);
}

void
stream_tls_put(stream_tls_conn *c, const char *data, size_t len)
{
    while (len) {
        int n = BIO_write(c->in, data, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

ssize_t
stream_tls_read(stream_tls_conn *c, char *buf, size_t cap)
{
    ERR_clear_error(); /* SSL_get_error reads the thread's whole queue */
    int n = SSL_read(c->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    switch (SSL_get_error(c->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    case SSL_ERROR_ZERO_RETURN: return -1; /* close_notify */
    default: break;
    }
    unsigned long e = ERR_get_error();
    long verify = SSL_get_verify_result(c->ssl);
    if (verify != X509_V_OK)
        snprintf(c->error, sizeof c->error, "client certificate: %s",
                 X509_verify_cert_error_string(verify));
    else if (e)
        ERR_error_string_n(e, c->error, sizeof c->error);
    else
        snprintf(c->error, sizeof c->error, "TLS failed");
    ERR_clear_error();
    return -1;
}

size_t
stream_tls_take_output(stream_tls_conn *c, char **data)
{
    size_t n = (size_t)BIO_ctrl_pending(c->out);
    if (n == 0)
        return 0;
    *data = sluice_malloc(n);
    int got = BIO_read(c->out, *data, (int)n);
    if (got <= 0) {
        free(*data);
        return 0;
    }
    return (size_t)got;
}

const char *
stream_tls_error(const stream_tls_conn *c)
{
    return c->error[0] ? c->error : NULL;
}

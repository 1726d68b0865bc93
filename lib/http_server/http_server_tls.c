/* TLS for the receiving server: libmicrohttpd (GnuTLS) takes PEM text in
 * memory, so the files are read here, and a missing or unreadable one is
 * an error naming its option. With a CA it only asks clients for a
 * certificate; the verification is here. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server_tls.h"

static char *
read_pem(sluice_instance *ins, const char *option, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sluice_option_error(ins, option, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len + 4097 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = t;
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0 && len < (1u << 20));
    fclose(f);
    text[len] = '\0';
    if (!strstr(text, "-----BEGIN ")) {
        sluice_option_error(ins, option, "%s is not a PEM file", path);
        free(text);
        return NULL;
    }
    return text;
}

int
sluice_http_server_tls_load(sluice_instance *ins, const sluice_http_server_config *cfg,
                            char *mem[3])
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        sluice_option_error(ins, "tls", "this libmicrohttpd was built without TLS");
        return -1;
    }
    const char *paths[3] = {cfg->cert_file, cfg->key_file, cfg->ca_file};
    const char *names[3] = {"tls.cert_file", "tls.key_file", "tls.ca_file"};
    for (int i = 0; i < 3; i++) {
        if (!paths[i])
            continue;
        mem[i] = read_pem(ins, names[i], paths[i]);
        if (!mem[i])
            return -1;
    }
    return 0;
}

int
sluice_http_server_tls_client_ok(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return 0;
    gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
    unsigned n = 0, status = 0;
    if (!gnutls_certificate_get_peers(tls, &n) || n == 0)
        return 0;
    return gnutls_certificate_verify_peers2(tls, &status) == GNUTLS_E_SUCCESS && status == 0;
}

/* The server's certificate, key and client CAs, read for libmicrohttpd. */
#ifndef SLUICE_HTTP_SERVER_TLS_H
#define SLUICE_HTTP_SERVER_TLS_H

#include <sluice/http_server.h>

/* Read cert_file, key_file and ca_file (if set) into mem[0..2] (NUL
 * terminated, for the caller to free). Returns 0, or -1 after reporting
 * which file against its option. */
int sluice_http_server_tls_load(sluice_instance *ins, const sluice_http_server_config *cfg,
                                char *mem[3]);

/* With tls.ca_file: whether the client presented a certificate that
 * verifies against it (libmicrohttpd asks for one and checks nothing). */
struct MHD_Connection;
int sluice_http_server_tls_client_ok(struct MHD_Connection *conn);

#endif

/* Network addresses as operators write them in the configuration. */
#ifndef SLUICE_NET_H
#define SLUICE_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include "common.h"

/* Parse "HOST:PORT" into a socket address: HOST is an IPv4 address, an
 * IPv6 address in brackets ("[::1]:5140"), `localhost` (127.0.0.1) or `*`
 * (every IPv4 interface); PORT is 0 to 65535. Returns 0, or -1 with what
 * is wrong in `err` ("no port: write HOST:PORT, e.g. 127.0.0.1:5140"). */
SLUICE_API int sluice_address_parse(const char *text, struct sockaddr_storage *ss, char *err,
                                    size_t errlen);

/* An option check (sluice_option.check) for a HOST:PORT string. */
SLUICE_API int sluice_check_address(const void *value, char *err, size_t errlen);

/* A listening TCP socket on `ss` (SO_REUSEADDR, not SO_REUSEPORT, so that
 * a port in use is an error), for servers such as libmicrohttpd that take
 * a socket; the caller reports a failure with its real cause. Returns the
 * descriptor, or -1 with errno set. */
SLUICE_API int sluice_listen_tcp(const struct sockaddr_storage *ss, int backlog);

/* ABI 2.3. A peer's address as "1.2.3.4:567" or "[::1]:567", for logs and
 * fields. */
SLUICE_API void sluice_format_address(const struct sockaddr *sa, char *out, size_t size);

#endif

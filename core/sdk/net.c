/* Listening addresses and sockets (include/sluice/net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/net.h"

int
sluice_address_parse(const char *text, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(text, ':');
    const char *close = strchr(text, ']');
    if (!colon || (text[0] == '[' && (!close || colon < close))) {
        snprintf(err, errlen, "no port in '%s': write HOST:PORT, e.g. 127.0.0.1:5140", text);
        return -1;
    }
    size_t n = (size_t)(colon - text);
    if (n == 0 || n >= sizeof host) {
        snprintf(err, errlen, "no host in '%s': write HOST:PORT, e.g. 127.0.0.1:5140", text);
        return -1;
    }
    memcpy(host, text, n);
    host[n] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "bad port in '%s': expected a number from 0 to 65535", text);
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        host[n - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1)
            return 0;
        snprintf(err, errlen, "'%s' is not an IPv6 address", host + 1);
        return -1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    const char *ip = strcmp(host, "localhost") == 0 ? "127.0.0.1"
                     : strcmp(host, "*") == 0       ? "0.0.0.0"
                                                    : host;
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1)
        return 0;
    snprintf(err, errlen,
             "'%s' is not a numeric address: use an IPv4 address, [IPv6], localhost or *", host);
    return -1;
}

int
sluice_check_address(const void *value, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    return sluice_address_parse(*(char *const *)value, &ss, err, errlen);
}

int
sluice_listen_tcp(const struct sockaddr_storage *ss, int backlog)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

void
sluice_format_address(const struct sockaddr *sa, char *out, size_t size)
{
    char host[64] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        snprintf(out, size, "[%s]:%d", host, ntohs(a6->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        snprintf(out, size, "%s:%d", host, ntohs(a4->sin_port));
    } else {
        snprintf(out, size, "?");
    }
}

/* out_graphite: metric events as Graphite plaintext lines
 * ("path value timestamp\n", or the 1.1 tagged form "path;k=v value ts")
 * over TCP, or UDP datagrams of whole lines.
 *
 * Each worker keeps one TCP connection, checked before every write: carbon
 * never sends, so a readable or hung-up socket means it closed, and the
 * worker reconnects instead of writing into a dead connection. Any failure
 * (refused, reset, timeout) closes it and retries the chunk with backoff;
 * resending lines already written is harmless, Graphite keeps one value
 * per path and second. Only numbers are sent: other fields are counted as
 * skipped. The plaintext protocol has no acknowledgement: lines the kernel
 * accepted just before carbon died are lost with it. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "graphite_path.h"

enum { PROTO_TCP, PROTO_UDP };
static const char *const protocols[] = {"tcp", "udp", NULL};

/* Lines in one UDP datagram: under a typical path MTU. */
#define DATAGRAM_MAX 1400

typedef struct graphite_config {
    char *address;
    int protocol;
    char *path;
    int tagged;
    int64_t timeout, connect_timeout;
} graphite_config;

static const sluice_option graphite_options[] = {
    {.name = "address", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(graphite_config, address),
     .help = "host:port of carbon's plaintext receiver, e.g. 127.0.0.1:2003."},
    {.name = "protocol", .type = SLUICE_OPT_ENUM, .def = "tcp", .values = protocols,
     .offset = offsetof(graphite_config, protocol),
     .help = "tcp (reconnects, retries) or udp (datagrams, no delivery guarantee)."},
    {.name = "path", .type = SLUICE_OPT_STR, .def = "'{name}.{field}'",
     .offset = offsetof(graphite_config, path),
     .help = "Template of the metric path: {name}, {field}, {tag:KEY} and literal text, e.g. "
             "servers.{tag:host}.{name}.{field}. Substituted text keeps letters, digits, - _ "
             "and :, anything else becomes _."},
    {.name = "tagged", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(graphite_config, tagged),
     .help = "Append every tag Graphite 1.1 style: path;tag=value."},
    {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_MSEC, .max = 600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(graphite_config, timeout), .help = "Time limit to write a chunk."},
    {.name = "connect_timeout", .type = SLUICE_OPT_DURATION, .def = "5s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC, .max = 600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(graphite_config, connect_timeout), .help = "Time limit to connect."},
    SLUICE_OPTIONS_END,
};

typedef struct graphite_ctx {
    sluice_instance *ins;
    const graphite_config *cfg;
    gr_template *path;
    char *host, *port;
    uint64_t lines, skipped, reconnects;
} graphite_ctx;

typedef struct graphite_worker {
    int fd;
    sluice_buf text;
} graphite_worker;

/* ==== Connections ==== */

static int
wait_fd(int fd, short events, int64_t timeout_ns)
{
    struct pollfd p = {fd, events, 0};
    int r;
    do
        r = poll(&p, 1, (int)(timeout_ns / SLUICE_NSEC_PER_MSEC));
    while (r < 0 && errno == EINTR);
    if (r == 0)
        errno = ETIMEDOUT;
    return r > 0 ? 0 : -1;
}

static int
connect_to(graphite_ctx *c, char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_socktype = c->cfg->protocol == PROTO_UDP ? SOCK_DGRAM
                                                                          : SOCK_STREAM};
    struct addrinfo *ai;
    int rc = getaddrinfo(c->host, c->port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve %s: %s", c->cfg->address, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        int err = errno;
        if (err == EINPROGRESS && wait_fd(fd, POLLOUT, c->cfg->connect_timeout) == 0) {
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0)
                break;
        }
        snprintf(why, whylen, "cannot connect to %s: %s", c->cfg->address,
                 strerror(err == EINPROGRESS ? errno : err));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Whether carbon closed the connection: it never sends, so a socket that is
 * readable or hung up is one it is done with. */
static int
peer_closed(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0;
}

static int
write_all(graphite_ctx *c, int fd, const char *p, size_t n, char *why, size_t whylen)
{
    sluice_time_t deadline = sluice_time_now() + c->cfg->timeout;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        sluice_time_t left = deadline - sluice_time_now();
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left > 0 &&
            wait_fd(fd, POLLOUT, left) == 0)
            continue;
        snprintf(why, whylen, "writing to %s: %s", c->cfg->address,
                 strerror(w < 0 ? errno : EPIPE));
        return -1;
    }
    return 0;
}

/* UDP: whole lines, at most DATAGRAM_MAX bytes a datagram. */
static int
send_datagrams(graphite_ctx *c, int fd, const sluice_buf *text, char *why, size_t whylen)
{
    size_t start = 0;
    while (start < text->len) {
        size_t end = start;
        for (;;) {
            const char *nl = memchr(text->data + end, '\n', text->len - end);
            size_t next = nl ? (size_t)(nl - text->data) + 1 : text->len;
            if (end > start && next - start > DATAGRAM_MAX)
                break;
            end = next;
            if (end == text->len || next - start >= DATAGRAM_MAX)
                break;
        }
        if (send(fd, text->data + start, end - start, MSG_NOSIGNAL) < 0) {
            snprintf(why, whylen, "sending to %s: %s", c->cfg->address, strerror(errno));
            return -1;
        }
        start = end;
    }
    return 0;
}

/* ==== Flushing ==== */

static void
graphite_flush(void *ctx, sluice_flush *fl)
{
    graphite_ctx *c = ctx;
    graphite_worker *w = sluice_flush_worker(fl);
    size_t len, lines = 0, skipped = 0;
    const char *data = sluice_flush_data(fl, &len);
    sluice_buf_reset(&w->text);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1)
        lines += gr_lines(&w->text, c->path, c->cfg->tagged, &ev, &skipped);
    sluice_event_iter_destroy(&it);
    if (sluice_flush_attempt(fl) == 0)
        __atomic_fetch_add(&c->skipped, skipped, __ATOMIC_RELAXED);
    if (!w->text.len) {
        sluice_flush_done(fl, SLUICE_OK, NULL);
        return;
    }
    char why[256];
    if (w->fd >= 0 && c->cfg->protocol == PROTO_TCP && peer_closed(w->fd)) {
        close(w->fd);
        w->fd = -1;
        __atomic_fetch_add(&c->reconnects, 1, __ATOMIC_RELAXED);
    }
    if (w->fd < 0 && (w->fd = connect_to(c, why, sizeof why)) < 0) {
        sluice_flush_done(fl, SLUICE_RETRY, why);
        return;
    }
    int rc = c->cfg->protocol == PROTO_UDP
                 ? send_datagrams(c, w->fd, &w->text, why, sizeof why)
                 : write_all(c, w->fd, w->text.data, w->text.len, why, sizeof why);
    if (rc < 0) {
        close(w->fd);
        w->fd = -1;
        sluice_flush_done(fl, SLUICE_RETRY, why);
        return;
    }
    __atomic_fetch_add(&c->lines, lines, __ATOMIC_RELAXED);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

static int
graphite_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    (void)ctx;
    (void)loop;
    graphite_worker *w = sluice_calloc(1, sizeof *w);
    if (!w)
        return SLUICE_ERROR;
    w->fd = -1;
    *worker_ctx = w;
    return SLUICE_OK;
}

static void
graphite_worker_exit(void *worker_ctx)
{
    graphite_worker *w = worker_ctx;
    if (w->fd >= 0)
        close(w->fd);
    sluice_buf_free(&w->text);
    free(w);
}

/* ==== Life cycle ==== */

static void
graphite_exit(void *ctx)
{
    graphite_ctx *c = ctx;
    if (c->lines || c->skipped)
        sluice_info(c->ins, "%llu lines sent; %llu fields skipped (not numbers); %llu reconnects "
                            "after carbon closed the connection",
                    (unsigned long long)c->lines, (unsigned long long)c->skipped,
                    (unsigned long long)c->reconnects);
    gr_template_free(c->path);
    free(c->host);
    free(c->port);
    free(c);
}

static int
graphite_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const graphite_config *cfg = config;
    graphite_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    const char *colon = strrchr(cfg->address, ':');
    if (!colon || colon == cfg->address || !colon[1]) {
        sluice_option_error(ins, "address", "expected HOST:PORT (e.g. 127.0.0.1:2003), found '%s'",
                            cfg->address);
        return SLUICE_ERROR;
    }
    const char *h = cfg->address;
    size_t hlen = (size_t)(colon - h);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') { /* [::1]:2003 */
        h++;
        hlen -= 2;
    }
    c->host = sluice_strndup(h, hlen);
    c->port = sluice_strdup(colon + 1);
    char err[256];
    if (!(c->path = gr_template_parse(cfg->path, err, sizeof err))) {
        sluice_option_error(ins, "path", "%s", err);
        return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "graphite",
    .description = "Send metric events to Graphite (carbon) in the plaintext protocol.",
    .options = graphite_options,
    .config_size = sizeof(graphite_config),
    .accepts = SLUICE_ACCEPTS_METRICS,
    .init = graphite_init,
    .exit = graphite_exit,
    .flush = graphite_flush,
    .worker_init = graphite_worker_init,
    .worker_exit = graphite_worker_exit,
};

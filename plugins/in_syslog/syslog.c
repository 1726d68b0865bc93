/* in_syslog: receives syslog over UDP, TCP, unix stream and unix datagram
 * sockets. TCP framing is detected for every message (RFC 6587): a leading
 * digit means octet counting ("LEN SP MSG"), anything else a LF-terminated
 * line. Messages are parsed as RFC 5424 or RFC 3164 (or kept raw); one that
 * does not parse is kept whole with parse_error: true and counted, and
 * nothing ever closes a listener. Under backpressure TCP and unix-stream
 * reads stop (senders' kernel buffers fill, not our memory); UDP and unix
 * datagrams keep being received and what is dropped is counted: such an
 * input says it loses when paused, and gets the large memory buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stream_server.h"
#include "stream_tls.h"
#include "syslog_parse.h"

static const char *const format_names[] = {"auto", "rfc3164", "rfc5424", "raw", NULL};

typedef struct syslog_config {
    sluice_strlist listen;
    int format;
    int64_t max_message_size;
    int64_t max_connections;
    char *source_key;
    int64_t socket_mode;
    int parser;
    int tls;
    char *cert_file, *key_file, *ca_file;
    int64_t handshake_timeout;
} syslog_config;

enum { PARSER_NONE, PARSER_JSON };
static const char *const parser_names[] = {"none", "json", NULL};

static const sluice_option tls_options[] = {
    {.name = "cert_file", .type = SLUICE_OPT_STR, .offset = offsetof(syslog_config, cert_file),
     .help = "Server certificate chain (PEM); required."},
    {.name = "key_file", .type = SLUICE_OPT_STR, .offset = offsetof(syslog_config, key_file),
     .help = "Its private key (PEM); required."},
    {.name = "ca_file", .type = SLUICE_OPT_STR, .offset = offsetof(syslog_config, ca_file),
     .help = "If set, senders must present a certificate signed by these CAs."},
    {.name = "handshake_timeout", .type = SLUICE_OPT_DURATION, .def = "10s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC / 10, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(syslog_config, handshake_timeout),
     .help = "A sender that has not finished its TLS handshake by then is disconnected (and "
             "counted as a failed TLS connection), so that silent connections cannot hold "
             "max_connections."},
    SLUICE_OPTIONS_END,
};

static const sluice_option syslog_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(syslog_config, listen),
     .help = "Where to listen: udp://127.0.0.1:5514, tcp://127.0.0.1:5514, "
             "tls://127.0.0.1:6514 (RFC 5425; needs `tls`), unix:///path/sock, "
             "unix-dgram:///path/sock."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "auto", .values = format_names,
     .offset = offsetof(syslog_config, format),
     .help = "auto tells RFC 5424 (\"<PRI>1 \") from RFC 3164; raw keeps the text only."},
    {.name = "max_message_size", .type = SLUICE_OPT_SIZE, .def = "64KiB",
     .flags = SLUICE_OPT_RANGE, .min = 480, .max = 16 << 20,
     .offset = offsetof(syslog_config, max_message_size),
     .help = "Longer messages are cut to this size and counted."},
    {.name = "max_connections", .type = SLUICE_OPT_INT, .def = "256", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000, .offset = offsetof(syslog_config, max_connections),
     .help = "Stream connections at once; more are refused and counted."},
    {.name = "source_key", .type = SLUICE_OPT_STR, .offset = offsetof(syslog_config, source_key),
     .help = "If set, a field with the sender's address (or the socket path)."},
    {.name = "socket_mode", .type = SLUICE_OPT_INT, .def = "0666", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 0777, .offset = offsetof(syslog_config, socket_mode),
     .help = "Permissions of unix sockets."},
    {.name = "parser", .type = SLUICE_OPT_ENUM, .def = "none", .values = parser_names,
     .offset = offsetof(syslog_config, parser),
     .help = "json: a MSG that is a JSON object (structured logging) gives its members as "
             "fields in place of `message`; one that is not is kept with parse_error: true."},
    {.name = "tls", .type = SLUICE_OPT_SECTION, .def = "off", .flags = SLUICE_OPT_OFF,
     .offset = offsetof(syslog_config, tls), .sub = tls_options,
     .help = "Certificates of the tls:// listeners (TLS 1.2 or later)."},
    SLUICE_OPTIONS_END,
};

typedef enum kind { L_UDP, L_TCP, L_TLS, L_UNIX, L_UNIX_DGRAM } kind;

struct syslog_ctx;

typedef struct listener {
    struct syslog_ctx *s;
    kind kind;
    char *addr; /* as configured */
    char *path; /* unix sockets */
    union {
        uv_handle_t handle;
        uv_udp_t udp;
        uv_poll_t poll; /* unix datagram: libuv has no such socket */
    } h; /* datagrams; the stream server owns stream listeners */
    int fd;         /* unix datagram */
    char *dgram;    /* datagram receive buffer */
    int open;
    int bound;      /* unix datagram: the path is ours to remove at stop */
} listener;

typedef struct syslog_ctx {
    sluice_instance *ins;
    const syslog_config *cfg;
    sluice_emitter *em;
    uv_loop_t *loop;
    listener *listeners;
    size_t n_listeners;
    stream_server *streams; /* tcp, tls and unix listeners, their connections */
    stream_tls *tls;        /* the tls:// listeners' certificates, or NULL */
    int paused;
    uint64_t messages, parse_errors, udp_dropped, truncated, json_errors, tls_failures;
    msgpack_sbuffer scratch; /* parser: json */
} syslog_ctx;

/* ==== Events ==== */

/* A string literal key, its length known at compile time. */
#define PACK_KEY(pk, lit) msgpack_pack_str_with_body(pk, lit, sizeof lit - 1)

static void
pack_span(msgpack_packer *pk, const char *key, size_t klen, sl_span v)
{
    msgpack_pack_str_with_body(pk, key, klen);
    msgpack_pack_str_with_body(pk, v.p, v.n);
}

#define PACK_SPAN(pk, lit, v) pack_span(pk, lit, sizeof lit - 1, v)

static uint8_t facility_len[24], severity_len[8];

static void
name_lengths(void)
{
    for (int i = 0; i < 24; i++)
        facility_len[i] = (uint8_t)strlen(syslog_facility_names[i]);
    for (int i = 0; i < 8; i++)
        severity_len[i] = (uint8_t)strlen(syslog_severity_names[i]);
}

/* One received message (a datagram, or a frame of a stream) as one log
 * event: parse it as the configured syslog format, and the message as a
 * JSON object with parser: json. What does not parse is kept, whole, with
 * parse_error: true, and counted with a warning every 10000. Packs
 * straight into the input's emitter; the map's size is counted first. */
static void
emit(syslog_ctx *s, const char *data, size_t len, const char *peer)
{
    syslog_msg m;
    sluice_time_t now = sluice_time_now();
    syslog_parse(data, len, (syslog_format)s->cfg->format, now, &m);
    int bad_syslog = m.parse_error;
    sluice_json_members obj = {0};
    int json = 0;
    if (s->cfg->parser == PARSER_JSON && !m.parse_error) {
        /* The header's fields and source_key replace members of their names. */
        const char *ours[11];
        size_t n_ours = 0;
        if (m.pri >= 0) {
            ours[n_ours++] = "pri";
            ours[n_ours++] = "facility";
            ours[n_ours++] = "severity";
        }
        const struct { const char *name; size_t n; } present[] = {
            {"timestamp", m.timestamp.n}, {"hostname", m.hostname.n}, {"appname", m.appname.n},
            {"procid", m.procid.n},       {"msgid", m.msgid.n},       {"structured_data", m.sd.n},
            {s->cfg->source_key, 1}};
        for (size_t i = 0; i < sizeof present / sizeof *present; i++)
            if (present[i].name && present[i].n)
                ours[n_ours++] = present[i].name;
        char err[128];
        json = sluice_json_object_without(m.message.p, m.message.n, ours, n_ours, &s->scratch,
                                          &obj, err, sizeof err) == 0;
        if (!json) {
            m.parse_error = 1;
            if (s->json_errors++ % 10000 == 0)
                sluice_warn(s->ins, "a message from %s is not a JSON object (%s); kept with "
                                    "parse_error (%llu so far)",
                            *peer ? peer : "a sender", err, (unsigned long long)s->json_errors);
        }
    }
    uint32_t n = (json ? obj.count : 1) + (m.pri >= 0) * 3 + (m.timestamp.n > 0) +
                 (m.hostname.n > 0) + (m.appname.n > 0) + (m.procid.n > 0) + (m.msgid.n > 0) +
                 (m.sd.n > 0) + (m.parse_error != 0) + (s->cfg->source_key != NULL);
    msgpack_packer *pk = sluice_emit_begin(s->em, SLUICE_EVENT_LOG, m.time ? m.time : now);
    msgpack_pack_map(pk, n);
    if (m.pri >= 0) {
        PACK_KEY(pk, "pri");
        msgpack_pack_int(pk, m.pri);
        PACK_KEY(pk, "facility");
        msgpack_pack_str_with_body(pk, syslog_facility_names[m.pri >> 3],
                                   facility_len[m.pri >> 3]);
        PACK_KEY(pk, "severity");
        msgpack_pack_str_with_body(pk, syslog_severity_names[m.pri & 7], severity_len[m.pri & 7]);
    }
    if (m.timestamp.n)
        PACK_SPAN(pk, "timestamp", m.timestamp);
    if (m.hostname.n)
        PACK_SPAN(pk, "hostname", m.hostname);
    if (m.appname.n)
        PACK_SPAN(pk, "appname", m.appname);
    if (m.procid.n)
        PACK_SPAN(pk, "procid", m.procid);
    if (m.msgid.n)
        PACK_SPAN(pk, "msgid", m.msgid);
    if (m.sd.n) {
        PACK_KEY(pk, "structured_data");
        syslog_pack_sd(pk, m.sd);
    }
    if (json)
        pk->callback(pk->data, obj.data, obj.len);
    else
        PACK_SPAN(pk, "message", m.message);
    if (m.parse_error) {
        PACK_KEY(pk, "parse_error");
        msgpack_pack_true(pk);
    }
    if (s->cfg->source_key) {
        sluice_pack_cstr(pk, s->cfg->source_key);
        sluice_pack_cstr(pk, peer);
    }
    sluice_emit_end(s->em);
    s->messages++;
    if (bad_syslog && s->parse_errors++ % 10000 == 0)
        sluice_warn(s->ins, "a message from %s is not valid syslog; kept with parse_error "
                            "(%llu so far)",
                    *peer ? peer : "a sender (set source_key to name it)",
                    (unsigned long long)s->parse_errors);
}

/* Cut a message to max_message_size. */
static void
emit_limited(syslog_ctx *s, const char *data, size_t len, const char *peer)
{
    if (len > (size_t)s->cfg->max_message_size) {
        len = (size_t)s->cfg->max_message_size;
        s->truncated++;
    }
    emit(s, data, len, peer);
}

/* ==== Stream framing ==== */

/* Emit every complete message of a connection's bytes and return how
 * many were taken; c->state counts the bytes of an oversized
 * octet-counted message still to drop. */
static size_t
frame(void *arg, stream_conn *c, const char *data, size_t n)
{
    syslog_ctx *s = arg;
    size_t max = (size_t)s->cfg->max_message_size;
    const char *p = data, *end = data + n;
    while (p < end) {
        if (c->state) {
            size_t k = (size_t)(end - p) < c->state ? (size_t)(end - p) : c->state;
            p += k;
            c->state -= k;
            continue;
        }
        if (*p >= '1' && *p <= '9') {
            /* Octet counting: MSG-LEN SP SYSLOG-MSG */
            const char *q = p;
            size_t len = 0;
            while (q < end && *q >= '0' && *q <= '9' && q - p < 10)
                len = len * 10 + (size_t)(*q++ - '0');
            if (q == end)
                break; /* the length is not all here yet */
            if (*q == ' ') {
                q++;
                if ((size_t)(end - q) >= len) {
                    emit_limited(s, q, len, c->peer);
                    p = q + len;
                    continue;
                }
                if (len > max) {
                    /* Too big to hold: keep what the limit allows, drop the rest. */
                    if ((size_t)(end - q) >= max) {
                        emit_limited(s, q, max + 1, c->peer);
                        c->state = len - (size_t)(end - q);
                        p = end;
                        continue;
                    }
                }
                break; /* wait for the rest */
            }
            /* Not a length after all: fall through to a line. */
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            if ((size_t)(end - p) > max) {
                emit_limited(s, p, (size_t)(end - p), c->peer);
                p = end;
            }
            break;
        }
        if (nl > p)
            emit_limited(s, p, (size_t)(nl - p), c->peer);
        p = nl + 1;
    }
    return (size_t)(p - data);
}

/* A closing connection's last line, which had no LF. */
static void
frame_rest(void *arg, stream_conn *c, const char *data, size_t n)
{
    emit_limited(arg, data, n, c->peer);
}

static void
on_refused(void *arg, const char *listen, uint64_t refused)
{
    syslog_ctx *s = arg;
    if ((refused - 1) % 1000 == 0)
        sluice_warn(s->ins, "%s: more than max_connections (%lld); connection refused", listen,
                    (long long)s->cfg->max_connections);
}

static void
on_tls_failed(void *arg, stream_conn *c, const char *why)
{
    syslog_ctx *s = arg;
    if (s->tls_failures++ % 1000 == 0)
        sluice_warn(s->ins, "%s: TLS connection from %s closed: %s (%llu so far)", c->listen,
                    c->peer, why, (unsigned long long)s->tls_failures);
}

static const stream_server_ops stream_ops = {
    .frame = frame, .rest = frame_rest, .refused = on_refused, .tls_failed = on_tls_failed};

/* ==== Datagrams ==== */

static void
on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    listener *l = h->data;
    buf->base = l->dgram;
    buf->len = 65536;
}

static void
on_udp(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
    listener *l = h->data;
    syslog_ctx *s = l->s;
    if (n <= 0 || !addr)
        return;
    if (s->paused) {
        if (s->udp_dropped++ % 10000 == 0)
            sluice_warn(s->ins, "%s: paused by backpressure; dropping datagrams (%llu so far)",
                        l->addr, (unsigned long long)s->udp_dropped);
        return;
    }
    char peer[80] = "";
    if (s->cfg->source_key)
        sluice_format_address(addr, peer, sizeof peer);
    emit_limited(s, buf->base, (size_t)n, peer);
}

static void
on_unix_dgram(uv_poll_t *h, int status, int events)
{
    listener *l = h->data;
    syslog_ctx *s = l->s;
    for (int i = 0; i < 256; i++) {
        ssize_t n = recv(l->fd, l->dgram, 65536, MSG_DONTWAIT);
        if (n <= 0)
            break;
        if (s->paused) {
            s->udp_dropped++;
            continue;
        }
        emit_limited(s, l->dgram, (size_t)n, l->path);
    }
}

/* ==== Listeners ==== */

/* A socket file left at `path` by a process that is gone is removed; one
 * that something still serves (journald's /dev/log, another sluice) is
 * refused, as a TCP port in use is; anything else is not ours to remove. */
static int
clear_stale_socket(const char *path, int type)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return UV_EEXIST;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return UV_ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
    close(fd);
    if (live)
        return UV_EADDRINUSE;
    return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

/* Bind and start one listener (udp, tcp, unix stream or unix datagram) on
 * the input's loop. Owns its handle or socket from the moment it is
 * opened (l->open, l->bound say what close must undo); a stale unix socket
 * file left by a dead process is removed first, a live one refused.
 * Returns 0 or a libuv error code, which the caller reports against the
 * listener's option. */
static int
open_listener(syslog_ctx *s, listener *l)
{
    struct sockaddr_storage ss;
    int r;
    switch (l->kind) {
    case L_UDP:
        if (sluice_address_parse(l->addr + 6, &ss, NULL, 0) != 0)
            return UV_EINVAL;
        uv_udp_init(s->loop, &l->h.udp);
        l->h.handle.data = l;
        l->open = 1;
        l->dgram = sluice_malloc(65536);
        /* No UV_UDP_REUSEADDR: a second sluice on the same port must be
         * refused, not silently share (and steal) its datagrams. */
        if ((r = uv_udp_bind(&l->h.udp, (struct sockaddr *)&ss, 0)) != 0)
            return r;
        /* Large bursts: ask for a big kernel buffer. */
        int size = 4 << 20;
        uv_recv_buffer_size(&l->h.handle, &size);
        return uv_udp_recv_start(&l->h.udp, on_udp_alloc, on_udp);
    case L_TCP:
        if (sluice_address_parse(l->addr + 6, &ss, NULL, 0) != 0)
            return UV_EINVAL;
        return stream_server_listen_tcp(s->streams, l->addr, &ss);
    case L_TLS:
        if (sluice_address_parse(l->addr + 6, &ss, NULL, 0) != 0)
            return UV_EINVAL;
        return stream_server_listen_tls(s->streams, l->addr, &ss, s->tls);
    case L_UNIX:
        if ((r = clear_stale_socket(l->path, SOCK_STREAM)) != 0)
            return r;
        return stream_server_listen_unix(s->streams, l->addr, l->path, (int)s->cfg->socket_mode);
    case L_UNIX_DGRAM: {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(l->path) >= sizeof sun.sun_path)
            return UV_ENAMETOOLONG;
        strcpy(sun.sun_path, l->path);
        if ((r = clear_stale_socket(l->path, SOCK_DGRAM)) != 0)
            return r;
        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (l->fd < 0)
            return -errno;
        if (bind(l->fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            r = -errno;
            close(l->fd);
            l->fd = -1;
            return r;
        }
        l->bound = 1;
        chmod(l->path, (mode_t)s->cfg->socket_mode);
        l->dgram = sluice_malloc(65536);
        uv_poll_init(s->loop, &l->h.poll, l->fd);
        l->h.handle.data = l;
        l->open = 1;
        return uv_poll_start(&l->h.poll, UV_READABLE, on_unix_dgram);
    }
    }
    return UV_EINVAL;
}

/* The option path of listener `i`: "listen" when it was written as a
 * single string, "listen[i]" in a list. */
static const char *
listen_option(size_t i, size_t n)
{
    static char buf[32];
    if (n == 1)
        return "listen";
    snprintf(buf, sizeof buf, "listen[%zu]", i);
    return buf;
}

/* The certificates, loaded in init so that validate checks them too. */
static int
load_tls(syslog_ctx *s)
{
    const syslog_config *cfg = s->cfg;
    if (!cfg->cert_file || !cfg->key_file) {
        sluice_option_error(s->ins, "tls", "cert_file and key_file are required");
        return SLUICE_ERROR;
    }
    char err[512];
    s->tls = stream_tls_new(cfg->cert_file, cfg->key_file, cfg->ca_file, err, sizeof err);
    if (!s->tls) {
        sluice_option_error(s->ins, "tls", "%s", err);
        return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

static int
syslog_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const syslog_config *cfg = config;
    const sluice_added_field fields[] = {
        {NULL, "pri"},     {NULL, "facility"}, {NULL, "severity"},        {NULL, "timestamp"},
        {NULL, "hostname"}, {NULL, "appname"}, {NULL, "procid"},          {NULL, "msgid"},
        {NULL, "structured_data"}, {NULL, "message"}, {NULL, "parse_error"},
        {"source_key", cfg->source_key}};
    if (sluice_check_added_fields(ins, fields, sizeof fields / sizeof *fields) != SLUICE_OK)
        return SLUICE_ERROR;
    syslog_ctx *s = sluice_calloc(1, sizeof *s);
    s->ins = ins;
    s->cfg = cfg;
    name_lengths();
    s->listeners = sluice_calloc(cfg->listen.n, sizeof *s->listeners);
    s->n_listeners = cfg->listen.n;
    int bad = 0;
    for (size_t i = 0; i < cfg->listen.n; i++) {
        listener *l = &s->listeners[i];
        const char *a = cfg->listen.v[i];
        l->s = s;
        l->fd = -1;
        l->addr = sluice_strdup(a);
        if (strncmp(a, "udp://", 6) == 0)
            l->kind = L_UDP;
        else if (strncmp(a, "tcp://", 6) == 0)
            l->kind = L_TCP;
        else if (strncmp(a, "tls://", 6) == 0)
            l->kind = L_TLS;
        else if (strncmp(a, "unix-dgram://", 13) == 0 && a[13] == '/') {
            l->kind = L_UNIX_DGRAM;
            l->path = sluice_strdup(a + 13);
        } else if (strncmp(a, "unix://", 7) == 0 && a[7] == '/') {
            l->kind = L_UNIX;
            l->path = sluice_strdup(a + 7);
        } else {
            sluice_option_error(ins, listen_option(i, cfg->listen.n),
                                "expected udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, "
                                "unix:///PATH or unix-dgram:///PATH, found '%s'",
                                a);
            bad = 1;
            continue;
        }
        struct sockaddr_storage ss;
        char err[256];
        if ((l->kind == L_UDP || l->kind == L_TCP || l->kind == L_TLS) &&
            sluice_address_parse(a + 6, &ss, err, sizeof err) != 0) {
            sluice_option_error(ins, listen_option(i, cfg->listen.n), "%s", err);
            bad = 1;
        }
        if (l->kind == L_TLS && !cfg->tls) {
            sluice_option_error(ins, listen_option(i, cfg->listen.n),
                                "%s needs the tls section (cert_file, key_file)", a);
            bad = 1;
        }
        /* Datagrams that come while paused are dropped (and counted). */
        if (l->kind == L_UDP || l->kind == L_UNIX_DGRAM)
            sluice_input_loses_when_paused(ins);
    }
    *ctxp = s;
    if (cfg->tls && load_tls(s) != SLUICE_OK)
        bad = 1;
    return bad ? SLUICE_ERROR : SLUICE_OK;
}

static int
syslog_start(void *ctx)
{
    syslog_ctx *s = ctx;
    s->em = sluice_input_emitter(s->ins);
    s->loop = sluice_instance_loop(s->ins);
    stream_server_config sc = {
        .max_connections = (size_t)s->cfg->max_connections,
        .read_size = (size_t)s->cfg->max_message_size + 64,
        .read_min = 65536,
        .handshake_ms = (uint64_t)(s->cfg->handshake_timeout / SLUICE_NSEC_PER_MSEC),
    };
    s->streams = stream_server_new(s->loop, &sc, &stream_ops, s);
    for (size_t i = 0; i < s->n_listeners; i++) {
        int r = open_listener(s, &s->listeners[i]);
        if (r != 0) {
            sluice_option_error(s->ins, listen_option(i, s->n_listeners),
                                "syslog cannot listen on %s: %s", s->listeners[i].addr,
                                uv_strerror(r));
            return SLUICE_ERROR;
        }
        sluice_info(s->ins, "listening on %s", s->listeners[i].addr);
    }
    return SLUICE_OK;
}

static void
syslog_pause(void *ctx)
{
    syslog_ctx *s = ctx;
    s->paused = 1;
    stream_server_pause(s->streams);
}

static void
syslog_resume(void *ctx)
{
    syslog_ctx *s = ctx;
    s->paused = 0;
    stream_server_resume(s->streams);
}

static void
syslog_stop(void *ctx)
{
    syslog_ctx *s = ctx;
    stream_server_stop(s->streams);
    for (size_t i = 0; i < s->n_listeners; i++) {
        listener *l = &s->listeners[i];
        if (l->open)
            uv_close(&l->h.handle, NULL);
        l->open = 0;
        if (l->fd >= 0)
            close(l->fd);
        if (l->path && l->bound)
            unlink(l->path);
        l->bound = 0;
    }
}

static void
syslog_exit(void *ctx)
{
    syslog_ctx *s = ctx;
    uint64_t refused = stream_server_refused(s->streams);
    if (s->messages || s->udp_dropped || refused || s->tls_failures)
        sluice_info(s->ins, "received %llu messages; %llu did not parse (%llu not JSON), %llu "
                            "cut to max_message_size, %llu datagrams dropped while paused, "
                            "%llu connections refused, %llu TLS connections failed",
                    (unsigned long long)s->messages, (unsigned long long)s->parse_errors,
                    (unsigned long long)s->json_errors,
                    (unsigned long long)s->truncated, (unsigned long long)s->udp_dropped,
                    (unsigned long long)refused, (unsigned long long)s->tls_failures);
    for (size_t i = 0; i < s->n_listeners; i++) {
        free(s->listeners[i].addr);
        free(s->listeners[i].path);
        free(s->listeners[i].dgram);
    }
    free(s->listeners);
    stream_server_free(s->streams);
    stream_tls_free(s->tls);
    msgpack_sbuffer_destroy(&s->scratch);
    free(s);
}

static int
same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A reload keeps the sockets and their connections when only how messages
 * are read changed (format, parser, source_key). */
static int
syslog_reconfigure(void *ctx, const void *config, int apply)
{
    syslog_ctx *s = ctx;
    const syslog_config *a = s->cfg, *b = config;
    if (apply) {
        s->cfg = b;
        return SLUICE_OK;
    }
    if (a->listen.n != b->listen.n || a->max_message_size != b->max_message_size ||
        a->max_connections != b->max_connections || a->socket_mode != b->socket_mode ||
        a->tls != b->tls || a->handshake_timeout != b->handshake_timeout ||
        !same_str(a->cert_file, b->cert_file) ||
        !same_str(a->key_file, b->key_file) || !same_str(a->ca_file, b->ca_file))
        return SLUICE_ERROR;
    for (size_t i = 0; i < a->listen.n; i++)
        if (strcmp(a->listen.v[i], b->listen.v[i]) != 0)
            return SLUICE_ERROR;
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_LOGS,
    .name = "syslog",
    .description = "Receive syslog (RFC 5424, RFC 3164) over UDP, TCP, TLS and unix sockets.",
    .options = syslog_options,
    .config_size = sizeof(syslog_config),
    .init = syslog_init,
    .start = syslog_start,
    .pause = syslog_pause,
    .resume = syslog_resume,
    .stop = syslog_stop,
    .exit = syslog_exit,
    .reconfigure = syslog_reconfigure,
};

/* out_syslog: log events as syslog messages (RFC 5424 or RFC 3164, by the
 * SDK's formatter) to a syslog receiver over UDP (RFC 5426), TCP (RFC
 * 6587: octet counting or LF), TLS (RFC 5425), or unix stream and datagram
 * sockets.
 *
 * Each worker keeps one connection, checked before every write: a syslog
 * receiver never sends, so a readable or hung-up socket is one the peer
 * closed, and the worker reconnects instead of writing into it. A failed
 * connect or write closes the connection and retries the whole chunk with
 * the core's backoff. Delivered means written to the socket: plain syslog
 * has no acknowledgement, so what the kernel accepted just before the
 * receiver died is lost with it. Datagrams longer than max_udp_size are
 * cut there (at a character boundary) and counted; a datagram the kernel
 * refuses retries only the events not sent yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <sluice/sluice.h>

#include "syslog_conn.h"

static const char *const formats[] = {"rfc5424", "rfc3164", NULL};
#define FRAMINGS(X) X(FRAMING_OCTET, "octet_counting") X(FRAMING_LF, "lf")
SLUICE_OPT_ENUM_VALUES(framings, FRAMINGS);

typedef struct syslog_tls_config {
    int verify;
    char *ca_file, *cert_file, *key_file, *server_name;
} syslog_tls_config;

typedef struct syslog_config {
    char *address;
    int format, framing;
    int severity, facility;
    char *hostname, *app_name;
    char *severity_key, *facility_key, *hostname_key, *app_name_key, *procid_key, *msgid_key,
        *sd_key, *message_key, *timestamp_key;
    int64_t max_udp_size, timeout, connect_timeout;
    syslog_tls_config tls;
} syslog_config;

#define KEY_OPTION(member, def_, what)                                                             \
    {                                                                                              \
        .name = #member, .type = SLUICE_OPT_STR, .def = def_,                                      \
        .offset = offsetof(syslog_config, member), .help = what " (a path a.b; '' for none)."      \
    }

static const sluice_option syslog_options[] = {
    {.name = "address",
     .type = SLUICE_OPT_STR,
     .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(syslog_config, address),
     .help = "Where to send: udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT (RFC 5425), "
             "unix:///path (stream) or unix-dgram:///path (e.g. /dev/log)."},
    {.name = "format",
     .type = SLUICE_OPT_ENUM,
     .def = "rfc5424",
     .values = formats,
     .offset = offsetof(syslog_config, format),
     .help = "rfc5424 (microseconds, structured data) or rfc3164 (BSD: local time to the second, "
             "no msgid or structured data)."},
    {.name = "framing",
     .type = SLUICE_OPT_ENUM,
     .def = "octet_counting",
     .values = framings,
     .offset = offsetof(syslog_config, framing),
     .help = "Streams (tcp, tls, unix): octet_counting (RFC 6587 3.4.1, 'LEN MSG') or lf (each "
             "message ends with a newline)."},
    {.name = "severity",
     .type = SLUICE_OPT_ENUM,
     .def = "info",
     .values = sluice_syslog_severity_names,
     .offset = offsetof(syslog_config, severity),
     .help = "Severity of events without a valid one in severity_key."},
    {.name = "facility",
     .type = SLUICE_OPT_ENUM,
     .def = "user",
     .values = sluice_syslog_facility_names,
     .offset = offsetof(syslog_config, facility),
     .help = "Facility of events without a valid one in facility_key."},
    {.name = "hostname",
     .type = SLUICE_OPT_STR,
     .offset = offsetof(syslog_config, hostname),
     .help = "HOSTNAME of events without one in hostname_key; default: this host's name."},
    {.name = "app_name",
     .type = SLUICE_OPT_STR,
     .def = "sluice",
     .offset = offsetof(syslog_config, app_name),
     .help = "APP-NAME (the RFC 3164 tag) of events without one in app_name_key."},
    KEY_OPTION(severity_key, "severity",
               "Field with the severity: a name (err, warning...; also error, warn, fatal, "
               "critical, trace) or a number 0-7"),
    KEY_OPTION(facility_key, "facility", "Field with the facility: a name or a number 0-23"),
    KEY_OPTION(hostname_key, "hostname", "Field with the HOSTNAME"),
    KEY_OPTION(app_name_key, "appname", "Field with the APP-NAME"),
    KEY_OPTION(procid_key, "procid", "Field with the PROCID"),
    KEY_OPTION(msgid_key, "msgid", "Field with the MSGID"),
    KEY_OPTION(sd_key, "structured_data",
               "Map field with the STRUCTURED-DATA: SD-ID to a map of PARAM-NAME to value"),
    KEY_OPTION(message_key, "message", "Field with the MSG; an event without it is sent as JSON"),
    KEY_OPTION(timestamp_key, "timestamp",
               "Field with the RFC 5424 TIMESTAMP text, sent as it is (time zone kept) when it is "
               "the event's time to the microsecond"),
    {.name = "max_udp_size",
     .type = SLUICE_OPT_SIZE,
     .def = "2048",
     .flags = SLUICE_OPT_RANGE,
     .min = 480,
     .max = 65507,
     .offset = offsetof(syslog_config, max_udp_size),
     .help = "Datagrams (udp, unix-dgram): a longer message is cut to this many bytes and "
             "counted (truncated_total)."},
    {.name = "timeout",
     .type = SLUICE_OPT_DURATION,
     .def = "10s",
     .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_MSEC,
     .max = 600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(syslog_config, timeout),
     .help = "Time limit to write a chunk."},
    {.name = "connect_timeout",
     .type = SLUICE_OPT_DURATION,
     .def = "5s",
     .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_MSEC,
     .max = 600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(syslog_config, connect_timeout),
     .help = "Time limit to connect (and for tls, to finish the handshake)."},
    {.name = "tls",
     .type = SLUICE_OPT_SECTION,
     .help = "tls:// settings.",
     .sub =
         (const sluice_option[]){
             {.name = "verify",
              .type = SLUICE_OPT_BOOL,
              .def = "true",
              .offset = offsetof(syslog_config, tls.verify),
              .help = "Verify the receiver's certificate and name."},
             {.name = "ca_file",
              .type = SLUICE_OPT_STR,
              .offset = offsetof(syslog_config, tls.ca_file),
              .help = "CA bundle (PEM) to verify with; default: the system's."},
             {.name = "cert_file",
              .type = SLUICE_OPT_STR,
              .offset = offsetof(syslog_config, tls.cert_file),
              .help = "Client certificate chain (PEM), for receivers that ask for one."},
             {.name = "key_file",
              .type = SLUICE_OPT_STR,
              .offset = offsetof(syslog_config, tls.key_file),
              .help = "Its private key (PEM)."},
             {.name = "server_name",
              .type = SLUICE_OPT_STR,
              .offset = offsetof(syslog_config, tls.server_name),
              .help = "Name sent as SNI and verified in the certificate; default: the address's "
                      "host."},
             SLUICE_OPTIONS_END}},
    SLUICE_OPTIONS_END,
};

enum { M_MESSAGES, M_TRUNCATED, M_RECONNECTS };

static const sluice_metric_def syslog_metrics[] = {
    [M_MESSAGES] = {"messages_total", "Messages written to the socket.", 1},
    [M_TRUNCATED] = {"truncated_total", "Datagrams cut to max_udp_size.", 1},
    [M_RECONNECTS] = {"reconnects_total",
                      "Connections found closed by the receiver before a write, and reopened.", 1},
    {NULL, NULL, 0},
};

typedef struct syslog_ctx {
    sluice_instance *ins;
    const syslog_config *cfg;
    sl_target target;
    sluice_syslog_opts fmt;
    uint64_t counts[3]; /* by M_*; atomics, workers add */
} syslog_ctx;

typedef struct syslog_worker {
    sl_conn conn;
    int failed; /* the last attempt failed: log the next connect */
    sluice_buf text, msg;
} syslog_worker;

static void
count(syslog_ctx *c, int m, uint64_t n)
{
    if (n) __atomic_fetch_add(&c->counts[m], n, __ATOMIC_RELAXED);
}

/* ==== Flushing ==== */

/* A message of at most `max` bytes, cut before a UTF-8 continuation byte. */
static size_t
cut_utf8(const char *p, size_t n, size_t max)
{
    if (n <= max) return n;
    while (max && ((unsigned char)p[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* Datagrams, one message each. A refused send (the receiver's port closed
 * or its queue full past the timeout) retries the events not sent yet. */
static void
flush_datagrams(syslog_ctx *c, syslog_worker *w, sluice_flush *fl, const char *data, size_t len)
{
    sluice_time_t deadline = sluice_time_now() + c->cfg->timeout;
    sluice_event_iter it;
    sluice_event ev;
    size_t i = 0, sent = 0, cut = 0;
    char why[256] = "";
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1) {
        if (*why) {
            sluice_flush_event_retry(fl, i++);
            continue;
        }
        sluice_buf_reset(&w->msg);
        sluice_syslog_format_event(&w->msg, &c->fmt, &ev);
        size_t n = cut_utf8(w->msg.data, w->msg.len, (size_t)c->cfg->max_udp_size);
        cut += n < w->msg.len;
        if (sl_conn_send(&w->conn, w->msg.data, n, deadline, why, sizeof why) < 0) {
            sluice_flush_event_retry(fl, i++);
            continue;
        }
        sent++;
        i++;
    }
    sluice_event_iter_destroy(&it);
    count(c, M_MESSAGES, sent);
    count(c, M_TRUNCATED, cut);
    if (cut && sluice_flush_attempt(fl) == 0)
        sluice_warn(c->ins, "%zu messages longer than max_udp_size (%lld bytes) were cut", cut,
                    (long long)c->cfg->max_udp_size);
    if (*why) {
        sl_conn_close(&w->conn);
        w->failed = 1;
        if (!sent) {
            sluice_flush_done(fl, SLUICE_RETRY, why);
            return;
        }
        sluice_warn(c->ins, "%s: %zu of %zu messages to retry", why, i - sent, i);
    }
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

/* "LEN MSG": the message is formatted after room for a 3-digit length
 * (most are 100 to 999 bytes) and moved when its length has more or fewer
 * digits. */
static void
octet_counted(syslog_ctx *c, sluice_buf *out, const sluice_event *ev)
{
    size_t mark = out->len;
    sluice_buf_append(out, "000 ", 4);
    sluice_syslog_format_event(out, &c->fmt, ev);
    size_t len = out->len - mark - 4;
    char digits[20];
    int d = sizeof digits;
    size_t v = len;
    do
        digits[--d] = (char)('0' + v % 10);
    while (v /= 10);
    size_t nd = sizeof digits - (size_t)d;
    if (nd != 3) {
        sluice_buf_reserve(out, nd);
        memmove(out->data + mark + nd + 1, out->data + mark + 4, len);
        out->len = mark + nd + 1 + len;
    }
    memcpy(out->data + mark, digits + d, nd);
    out->data[mark + nd] = ' ';
}

/* The chunk's messages, framed, in w->text. */
static size_t
frame_chunk(syslog_ctx *c, syslog_worker *w, const char *data, size_t len)
{
    sluice_event_iter it;
    sluice_event ev;
    size_t n = 0;
    sluice_buf_reset(&w->text);
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1) {
        if (c->cfg->framing == FRAMING_LF) {
            sluice_syslog_format_event(&w->text, &c->fmt, &ev);
            sluice_buf_putc(&w->text, '\n');
        } else {
            octet_counted(c, &w->text, &ev);
        }
        n++;
    }
    sluice_event_iter_destroy(&it);
    return n;
}

static void
syslog_flush(void *ctx, sluice_flush *fl)
{
    syslog_ctx *c = ctx;
    syslog_worker *w = sluice_flush_worker(fl);
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    char why[384];
    if (w->conn.fd >= 0 && sl_stream(&c->target) && sl_conn_peer_closed(&w->conn)) {
        sl_conn_close(&w->conn);
        count(c, M_RECONNECTS, 1);
        w->failed = 1;
    }
    if (w->conn.fd < 0) {
        if (sl_conn_open(&w->conn, &c->target, why, sizeof why) < 0) {
            w->failed = 1;
            sluice_flush_done(fl, SLUICE_RETRY, why);
            return;
        }
        if (w->failed) sluice_info(c->ins, "connected to %s again", c->cfg->address);
        w->failed = 0;
    }
    if (!sl_stream(&c->target)) {
        flush_datagrams(c, w, fl, data, len);
        return;
    }
    size_t n = frame_chunk(c, w, data, len);
    sluice_time_t deadline = sluice_time_now() + c->cfg->timeout;
    if (sl_conn_write(&w->conn, w->text.data, w->text.len, deadline, why, sizeof why) < 0) {
        sl_conn_close(&w->conn);
        w->failed = 1;
        sluice_flush_done(fl, SLUICE_RETRY, why);
        return;
    }
    count(c, M_MESSAGES, n);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

static int
syslog_worker_init(void *ctx, uv_loop_t *loop, void **worker_ctx)
{
    (void)ctx;
    (void)loop;
    syslog_worker *w = sluice_calloc(1, sizeof *w);
    if (!w) return SLUICE_ERROR;
    w->conn.fd = -1;
    *worker_ctx = w;
    return SLUICE_OK;
}

static void
syslog_worker_exit(void *worker_ctx)
{
    syslog_worker *w = worker_ctx;
    sl_conn_close(&w->conn);
    sluice_buf_free(&w->text);
    sluice_buf_free(&w->msg);
    free(w);
}

/* ==== Life cycle ==== */

static double
syslog_metric(void *ctx, size_t i)
{
    syslog_ctx *c = ctx;
    return (double)__atomic_load_n(&c->counts[i], __ATOMIC_RELAXED);
}

/* The client context of tls://: TLS 1.2 or later, the CAs to verify with,
 * a client certificate if configured. */
static int
tls_setup(syslog_ctx *c)
{
    const syslog_tls_config *tc = &c->cfg->tls;
    char err[256];
    SSL_CTX *ctx = c->target.tls = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        sluice_option_error(c->ins, "tls", "cannot create a TLS context");
        return SLUICE_ERROR;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, tc->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    c->target.verify = tc->verify;
    c->target.server_name = tc->server_name ? sluice_strdup(tc->server_name) : NULL;
    if (tc->ca_file ? !SSL_CTX_load_verify_locations(ctx, tc->ca_file, NULL)
                    : !SSL_CTX_set_default_verify_paths(ctx)) {
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        sluice_option_error(c->ins, "tls.ca_file", "cannot load CAs: %s", err);
        return SLUICE_ERROR;
    }
    if (!tc->cert_file != !tc->key_file) {
        sluice_option_error(c->ins, tc->cert_file ? "tls.key_file" : "tls.cert_file",
                            "cert_file and key_file go together");
        return SLUICE_ERROR;
    }
    if (tc->cert_file && (!SSL_CTX_use_certificate_chain_file(ctx, tc->cert_file) ||
                          !SSL_CTX_use_PrivateKey_file(ctx, tc->key_file, SSL_FILETYPE_PEM) ||
                          !SSL_CTX_check_private_key(ctx))) {
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        sluice_option_error(c->ins, "tls.cert_file", "cannot use the certificate and key: %s", err);
        return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

/* A configured field name: NULL for '' (never read). */
static const char *
key(const char *k)
{
    return k && *k ? k : NULL;
}

static int
syslog_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const syslog_config *cfg = config;
    syslog_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    char err[256];
    if (sl_target_parse(&c->target, cfg->address, err, sizeof err) < 0) {
        sluice_option_error(ins, "address", "%s", err);
        return SLUICE_ERROR;
    }
    c->target.connect_timeout = cfg->connect_timeout;
    if (c->target.transport == SL_TLS && tls_setup(c) != SLUICE_OK) return SLUICE_ERROR;
    sluice_syslog_opts *f = &c->fmt;
    sluice_syslog_opts_init(f);
    f->format = cfg->format == 1 ? SLUICE_SYSLOG_RFC3164 : SLUICE_SYSLOG_RFC5424;
    f->severity = cfg->severity;
    f->facility = cfg->facility;
    f->hostname = cfg->hostname;
    f->appname = cfg->app_name;
    f->severity_key = key(cfg->severity_key);
    f->facility_key = key(cfg->facility_key);
    f->hostname_key = key(cfg->hostname_key);
    f->appname_key = key(cfg->app_name_key);
    f->procid_key = key(cfg->procid_key);
    f->msgid_key = key(cfg->msgid_key);
    f->sd_key = key(cfg->sd_key);
    f->message_key = key(cfg->message_key);
    f->timestamp_key = key(cfg->timestamp_key);
    return SLUICE_OK;
}

static void
syslog_exit(void *ctx)
{
    syslog_ctx *c = ctx;
    if (c->counts[M_MESSAGES] || c->counts[M_TRUNCATED])
        sluice_info(c->ins,
                    "%llu messages sent; %llu datagrams cut to max_udp_size; %llu "
                    "reconnects after the receiver closed the connection",
                    (unsigned long long)c->counts[M_MESSAGES],
                    (unsigned long long)c->counts[M_TRUNCATED],
                    (unsigned long long)c->counts[M_RECONNECTS]);
    sl_target_free(&c->target);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "syslog",
    .description = "Send log events as syslog messages (RFC 5424 or 3164) over UDP, TCP, TLS "
                   "or unix sockets.",
    .options = syslog_options,
    .config_size = sizeof(syslog_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = syslog_init,
    .exit = syslog_exit,
    .flush = syslog_flush,
    .worker_init = syslog_worker_init,
    .worker_exit = syslog_worker_exit,
    .metrics = syslog_metrics,
    .metric_value = syslog_metric,
};

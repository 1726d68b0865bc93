/* in_statsd: receives StatsD (and DogStatsD's tags) over UDP and TCP,
 * aggregates in memory (statsd_agg.c) and emits one metric event per
 * series every flush_interval, on the core's periodic collector, and once
 * more when it stops, so nothing aggregated is lost at SIGTERM.
 *
 * UDP is the fast path: a raw nonblocking socket watched by uv_poll and
 * drained with recvmmsg, 64 datagrams a call, with SO_RXQ_OVFL so that the
 * kernel's drops arrive as a cmsg and are counted. TCP takes
 * newline-separated lines from the shared stream server, which stops
 * reading under backpressure. Aggregation goes on while paused (memory is bounded by
 * max_series): only the flush waits. Bad lines are counted and logged at
 * most every 10 s, never fatal. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "statsd_agg.h"
#include "stream_server.h"
#include "statsd_parse.h"

#define COUNTER_MODES(X) X(COUNTERS_CUMULATIVE, "cumulative") X(COUNTERS_DELTA, "delta")
SLUICE_OPT_ENUM_VALUES(counter_modes, COUNTER_MODES);
#define TIMER_MODES(X) X(TIMER_SUMMARY, "summary") X(TIMER_HISTOGRAM, "histogram")
SLUICE_OPT_ENUM_VALUES(timer_modes, TIMER_MODES);

typedef struct statsd_config {
    sluice_strlist listen;
    int64_t flush_interval;
    int counters;
    int timer_mode;
    sluice_strlist percentiles;
    sluice_strlist buckets;
    int64_t max_timer_samples;
    int64_t max_set_values;
    int delete_counters, delete_gauges, delete_timings, delete_sets;
    int64_t max_series;
    int64_t expire_after;
    sluice_bytes add_tags;
    int64_t max_connections;
    int64_t max_line_length;
    int64_t udp_receive_buffer;
} statsd_config;

static const sluice_option statsd_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(statsd_config, listen),
     .help = "Where to listen: udp://127.0.0.1:8125, tcp://127.0.0.1:8125 (IPv6: "
             "udp://[::1]:8125)."},
    {.name = "flush_interval", .type = SLUICE_OPT_DURATION, .def = "10s",
     .flags = SLUICE_OPT_RANGE, .min = 10 * SLUICE_NSEC_PER_MSEC,
     .max = 86400 * SLUICE_NSEC_PER_SEC, .offset = offsetof(statsd_config, flush_interval),
     .help = "Emit every series this often (and once more at shutdown); the events' time is "
             "the flush's."},
    {.name = "counters", .type = SLUICE_OPT_ENUM, .def = "cumulative", .values = counter_modes,
     .offset = offsetof(statsd_config, counters),
     .help = "cumulative: a counter's total since it appeared (Prometheus's counters); delta: "
             "the interval's sum, reset at each flush."},
    {.name = "timer_mode", .type = SLUICE_OPT_ENUM, .def = "summary", .values = timer_modes,
     .offset = offsetof(statsd_config, timer_mode),
     .help = "summary: a gauge event with count, sum, lower, upper, mean, stddev, median and "
             "the percentiles; histogram: a histogram event with count, sum and cumulative "
             "buckets."},
    {.name = "percentiles", .type = SLUICE_OPT_STR_LIST, .def = "[50, 90, 99]",
     .offset = offsetof(statsd_config, percentiles),
     .help = "Summary timings: a field p<N> for each (99.9 gives p99_9), nearest rank over "
             "the interval's samples."},
    {.name = "buckets", .type = SLUICE_OPT_STR_LIST,
     .def = "[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]",
     .offset = offsetof(statsd_config, buckets),
     .help = "Histogram timings: ascending upper bounds in the unit sent (milliseconds for ms "
             "timings); +Inf is implied."},
    {.name = "max_timer_samples", .type = SLUICE_OPT_INT, .def = "1000",
     .flags = SLUICE_OPT_RANGE, .min = 1, .max = 10000000,
     .offset = offsetof(statsd_config, max_timer_samples),
     .help = "Samples kept per timing series for the median and percentiles; past it, a "
             "uniform random sample of them (count, sum, lower, upper, mean stay exact)."},
    {.name = "max_set_values", .type = SLUICE_OPT_INT, .def = "100000",
     .flags = SLUICE_OPT_RANGE, .min = 1, .max = 100000000,
     .offset = offsetof(statsd_config, max_set_values),
     .help = "Distinct members counted per set; more are refused and counted."},
    {.name = "delete_counters", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(statsd_config, delete_counters),
     .help = "A counter without samples during an interval is not emitted (a cumulative "
             "total is kept until expire_after)."},
    {.name = "delete_gauges", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(statsd_config, delete_gauges),
     .help = "A gauge without samples during an interval is not emitted and is forgotten (a "
             "later +N starts from 0); false: its last value is emitted at every flush."},
    {.name = "delete_timings", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(statsd_config, delete_timings),
     .help = "Summary timings cover one interval, and one without samples is not emitted; "
             "false: they accumulate and are emitted at every flush."},
    {.name = "delete_sets", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(statsd_config, delete_sets),
     .help = "Sets count one interval's members, and one without members is not emitted; "
             "false: they accumulate and are emitted at every flush."},
    {.name = "max_series", .type = SLUICE_OPT_INT, .def = "100000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000000, .offset = offsetof(statsd_config, max_series),
     .help = "Series held at once; a sample for a new series past it is refused, counted and "
             "logged."},
    {.name = "expire_after", .type = SLUICE_OPT_DURATION, .def = "1h",
     .offset = offsetof(statsd_config, expire_after),
     .help = "A series without samples for this long is forgotten, whatever delete_* say (0: "
             "never)."},
    {.name = "add_tags", .type = SLUICE_OPT_MAP, .offset = offsetof(statsd_config, add_tags),
     .check = sluice_check_string_map,
     .help = "Tags added to every event, where the sample has no tag of that name."},
    {.name = "max_connections", .type = SLUICE_OPT_INT, .def = "256", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000, .offset = offsetof(statsd_config, max_connections),
     .help = "TCP connections at once; more are refused and counted."},
    {.name = "max_line_length", .type = SLUICE_OPT_SIZE, .def = "64KiB",
     .flags = SLUICE_OPT_RANGE, .min = 256, .max = 16 << 20,
     .offset = offsetof(statsd_config, max_line_length),
     .help = "TCP: a longer line is skipped and counted as a parse error."},
    {.name = "udp_receive_buffer", .type = SLUICE_OPT_SIZE, .def = "8MiB",
     .flags = SLUICE_OPT_RANGE, .min = 0, .max = INT32_MAX / 2,
     .offset = offsetof(statsd_config, udp_receive_buffer),
     .help = "SO_RCVBUF of UDP sockets (SO_RCVBUFFORCE when net.core.rmem_max is lower and "
             "sluice may); 0 keeps the system's default."},
    SLUICE_OPTIONS_END,
};

#define UDP_BATCH 64
#define UDP_MAX 65536
#define LOG_EVERY_MS 10000
#define LOG_LINE_MAX 160

typedef struct statsd_ctx statsd_ctx;

typedef struct listener {
    statsd_ctx *s;
    int tcp;
    char *addr; /* as configured */
    union {
        uv_handle_t handle;
        uv_poll_t poll; /* UDP: our own socket; the stream server owns TCP's */
    } h;
    int fd; /* UDP */
    int open;
    uint32_t drops; /* UDP: the kernel's cumulative drop count, last seen */
} listener;

/* Logs at most every 10 s per kind of trouble. */
typedef struct ratelimit {
    uint64_t last_ms;
    int any;
} ratelimit;

/* Receive buffers for recvmmsg, shared by the UDP listeners (one thread). */
typedef struct udp_batch {
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage from[UDP_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctrl[UDP_BATCH];
    char *data; /* UDP_BATCH * UDP_MAX, touched only as far as datagrams reach */
} udp_batch;

struct statsd_ctx {
    sluice_instance *ins;
    const statsd_config *cfg;
    sluice_emitter *em;
    uv_loop_t *loop;
    listener *listeners;
    size_t n_listeners;
    stream_server *streams; /* TCP listeners and their connections */
    udp_batch *udp;
    statsd_agg *agg;
    statsd_agg_config acfg;
    double *percentiles, *buckets;
    char **add_tags;
    statsd_line batch[STATSD_AGG_BATCH]; /* parsed, not yet aggregated */
    size_t n_batch;
    uint64_t lines, datagrams, parse_errors, unsupported, udp_dropped, events;
    uint64_t logged_refused, logged_set_refused;
    ratelimit rl_parse, rl_unsupported, rl_drops, rl_refused, rl_conns;
};

/* ==== Logging what went wrong ==== */

static int
due(statsd_ctx *s, ratelimit *r)
{
    uint64_t now = s->loop ? uv_now(s->loop) : 0;
    if (r->any && now - r->last_ms < LOG_EVERY_MS)
        return 0;
    r->any = 1;
    r->last_ms = now;
    return 1;
}

/* A line for a log message: at most LOG_LINE_MAX bytes, with what is not
 * printable ASCII as \xNN. */
static void
quote_line(const char *p, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == LOG_LINE_MAX) {
            o += (size_t)snprintf(out + o, size - o, "...(%zu bytes)", n);
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
    out[o < size ? o : size - 1] = '\0';
}

/* Who sent a line: a UDP sender's address or a TCP connection's peer. */
typedef struct source {
    const char *listen;        /* the listener, as configured */
    const struct sockaddr *sa; /* UDP */
    const char *peer;          /* TCP */
} source;

static void
report_line(statsd_ctx *s, const source *src, const char *line, size_t len, const char *why,
            int unsupported)
{
    ratelimit *r = unsupported ? &s->rl_unsupported : &s->rl_parse;
    if (!due(s, r))
        return;
    char peer[80], text[LOG_LINE_MAX * 4 + 32];
    if (src->sa)
        sluice_format_address(src->sa, peer, sizeof peer);
    else
        snprintf(peer, sizeof peer, "%s", src->peer);
    quote_line(line, len, text, sizeof text);
    if (unsupported)
        sluice_warn(s->ins, "%s: a line from %s is %s, which statsd does not take; ignored "
                            "(%llu so far): '%s'",
                    src->listen, peer, why, (unsigned long long)s->unsupported, text);
    else
        sluice_warn(s->ins, "%s: a line from %s does not parse: %s; skipped (%llu so far, "
                            "logged at most every 10 s): '%s'",
                    src->listen, peer, why, (unsigned long long)s->parse_errors, text);
}

static void
report_refused(statsd_ctx *s)
{
    const statsd_agg_stats *st = statsd_agg_stats_get(s->agg);
    if (st->series_refused == s->logged_refused && st->set_values_refused == s->logged_set_refused)
        return;
    if (!due(s, &s->rl_refused))
        return;
    if (st->series_refused != s->logged_refused)
        sluice_warn(s->ins, "max_series (%lld) reached: samples for new series refused (%llu so "
                            "far)",
                    (long long)s->cfg->max_series, (unsigned long long)st->series_refused);
    if (st->set_values_refused != s->logged_set_refused)
        sluice_warn(s->ins, "max_set_values (%lld) reached: new set members refused (%llu so far)",
                    (long long)s->cfg->max_set_values,
                    (unsigned long long)st->set_values_refused);
    s->logged_refused = st->series_refused;
    s->logged_set_refused = st->set_values_refused;
}

/* ==== Lines ==== */

/* Aggregate the parsed lines; their bytes must still be there. */
static void
take_batch(statsd_ctx *s)
{
    if (s->n_batch && statsd_agg_add_batch(s->agg, s->batch, s->n_batch))
        report_refused(s);
    s->n_batch = 0;
}

static void
take_line(statsd_ctx *s, const source *src, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return;
    s->lines++;
    char err[160];
    int r = statsd_parse_line(p, n, &s->batch[s->n_batch], err, sizeof err);
    if (r == STATSD_LINE_OK) {
        if (++s->n_batch == STATSD_AGG_BATCH)
            take_batch(s);
    } else if (r == STATSD_LINE_UNSUPPORTED) {
        s->unsupported++;
        report_line(s, src, p, n, err, 1);
    } else {
        s->parse_errors++;
        report_line(s, src, p, n, err, 0);
    }
}

/* Every line of a datagram, or of a stream's complete lines, parsed;
 * the caller calls take_batch before the bytes go. */
static void
take_lines(statsd_ctx *s, const source *src, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        take_line(s, src, p, (size_t)(le - p));
        p = le + 1;
    }
}

/* ==== Flushing ==== */

static msgpack_packer *
sink_begin(void *arg, sluice_time_t t)
{
    statsd_ctx *s = arg;
    return sluice_emit_begin(s->em, SLUICE_EVENT_METRIC, t);
}

static void
sink_end(void *arg)
{
    statsd_ctx *s = arg;
    sluice_emit_end(s->em);
}

static void
flush(statsd_ctx *s)
{
    statsd_sink sink = {sink_begin, sink_end, s};
    s->events += statsd_agg_flush(s->agg, sluice_time_now(), &sink);
    report_refused(s);
}

static void
on_flush(sluice_instance *ins, void *arg)
{
    (void)ins;
    flush(arg);
}

/* ==== UDP ==== */

/* The kernel's drop counter (SO_RXQ_OVFL) as of one datagram: cumulative
 * per socket, so the difference from the last one seen is new drops. */
static void
count_drops(statsd_ctx *s, listener *l, struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
            continue;
        uint32_t total;
        memcpy(&total, CMSG_DATA(c), sizeof total);
        uint32_t fresh = total - l->drops;
        if (!fresh)
            continue;
        l->drops = total;
        s->udp_dropped += fresh;
        if (due(s, &s->rl_drops))
            sluice_warn(s->ins, "%s: the kernel dropped %llu datagrams so far (its receive "
                                "buffer was full): raise udp_receive_buffer and "
                                "net.core.rmem_max",
                        l->addr, (unsigned long long)s->udp_dropped);
    }
}

/* Read up to `rounds` batches of datagrams from a UDP listener. */
static void
drain_udp(listener *l, int rounds)
{
    statsd_ctx *s = l->s;
    udp_batch *b = s->udp;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < UDP_BATCH; i++) {
            struct msghdr *mh = &b->msgs[i].msg_hdr;
            mh->msg_name = &b->from[i];
            mh->msg_namelen = sizeof b->from[i];
            mh->msg_iov = &b->iov[i];
            mh->msg_iovlen = 1;
            mh->msg_control = b->ctrl[i].buf;
            mh->msg_controllen = sizeof b->ctrl[i].buf;
            mh->msg_flags = 0;
            b->iov[i].iov_base = b->data + (size_t)i * UDP_MAX;
            b->iov[i].iov_len = UDP_MAX;
        }
        int n = recvmmsg(l->fd, b->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                sluice_debug(s->ins, "%s: recvmmsg: %s", l->addr, strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &b->msgs[i].msg_hdr;
            if (mh->msg_controllen)
                count_drops(s, l, mh);
            s->datagrams++;
            source src = {l->addr, (const struct sockaddr *)&b->from[i], NULL};
            take_lines(s, &src, b->iov[i].iov_base, b->msgs[i].msg_len);
        }
        take_batch(s);
        if (n < UDP_BATCH)
            return;
    }
}

static void
on_udp(uv_poll_t *h, int status, int events)
{
    (void)events;
    /* A bounded number of batches, so that TCP and timers get their turn;
     * the poll is level-triggered and comes back for the rest. */
    if (status == 0)
        drain_udp(h->data, 16);
}

/* A UDP socket of our own: libuv's UDP handle reads one datagram per
 * system call, and does not hand over the drop counter. */
static int
open_udp(statsd_ctx *s, listener *l, const struct sockaddr_storage *ss)
{
    l->fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        return -errno;
    int one = 1;
    setsockopt(l->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    int want = (int)s->cfg->udp_receive_buffer, got = 0;
    socklen_t gl = sizeof got;
    if (want > 0) {
        setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
        getsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
        /* The kernel reports twice what it grants (its bookkeeping). */
        if (got / 2 < want) {
            setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want);
            gl = sizeof got;
            getsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
        }
        if (got / 2 < want)
            sluice_warn(s->ins, "%s: asked for a %d-byte receive buffer (udp_receive_buffer), "
                                "the kernel gave %d: raise net.core.rmem_max, or give sluice "
                                "CAP_NET_ADMIN",
                        l->addr, want, got / 2);
    }
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
    if (bind(l->fd, (const struct sockaddr *)ss, len) != 0)
        return -errno;
    if (!s->udp) {
        s->udp = sluice_calloc(1, sizeof *s->udp);
        s->udp->data = sluice_malloc((size_t)UDP_BATCH * UDP_MAX);
    }
    int r = uv_poll_init(s->loop, &l->h.poll, l->fd);
    if (r != 0)
        return r;
    l->h.handle.data = l;
    l->open = 1;
    return uv_poll_start(&l->h.poll, UV_READABLE, on_udp);
}

/* ==== TCP ==== */

/* Take the complete lines of a connection's bytes and return how many
 * bytes were taken; a line growing past max_line_length is counted as a
 * parse error and skipped to its LF (c->state: skipping one). */
static size_t
frame(void *arg, stream_conn *c, const char *data, size_t n)
{
    statsd_ctx *s = arg;
    source src = {c->listen, NULL, c->peer};
    const char *p = data, *end = data + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (c->state) {
            if (!nl) {
                p = end;
                break;
            }
            c->state = 0;
            p = nl + 1;
            continue;
        }
        if (!nl) {
            if ((size_t)(end - p) > (size_t)s->cfg->max_line_length) {
                s->lines++;
                s->parse_errors++;
                char why[96];
                snprintf(why, sizeof why, "longer than max_line_length (%lld bytes)",
                         (long long)s->cfg->max_line_length);
                report_line(s, &src, p, (size_t)(end - p), why, 0);
                c->state = 1;
                p = end;
            }
            break;
        }
        take_line(s, &src, p, (size_t)(nl - p));
        p = nl + 1;
    }
    take_batch(s);
    return (size_t)(p - data);
}

/* A closing connection's last line, which had no LF. */
static void
frame_rest(void *arg, stream_conn *c, const char *data, size_t n)
{
    statsd_ctx *s = arg;
    if (c->state)
        return;
    source src = {c->listen, NULL, c->peer};
    take_line(s, &src, data, n);
    take_batch(s);
}

static void
on_refused(void *arg, const char *listen, uint64_t refused)
{
    statsd_ctx *s = arg;
    if (due(s, &s->rl_conns))
        sluice_warn(s->ins, "%s: more than max_connections (%lld); connection refused "
                            "(%llu so far)",
                    listen, (long long)s->cfg->max_connections, (unsigned long long)refused);
}

static const stream_server_ops stream_ops = {.frame = frame, .rest = frame_rest, .refused = on_refused};

/* ==== Options ==== */

/* The option path of item `i` of a list option written as `n` items. */
static const char *
item_option(char *buf, size_t size, const char *name, size_t i, size_t n)
{
    if (n == 1)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%s[%zu]", name, i);
    return buf;
}

/* A list of numbers; `percent`: each in (0, 100]; otherwise ascending. */
static double *
numbers(statsd_ctx *s, const char *name, const sluice_strlist *l, int percent, int *bad)
{
    double *v = sluice_calloc(l->n ? l->n : 1, sizeof *v);
    char opt[64];
    for (size_t i = 0; i < l->n; i++) {
        const char *t = l->v[i];
        if (statsd_parse_number(t, strlen(t), &v[i]) != 0) {
            sluice_option_error(s->ins, item_option(opt, sizeof opt, name, i, l->n),
                                "expected a number, found '%s'", t);
            *bad = 1;
        } else if (percent && !(v[i] > 0 && v[i] <= 100)) {
            sluice_option_error(s->ins, item_option(opt, sizeof opt, name, i, l->n),
                                "a percentile is above 0 and at most 100, found '%s'", t);
            *bad = 1;
        } else if (percent) {
            for (size_t j = 0; j < i; j++)
                if (v[j] == v[i]) {
                    sluice_option_error(s->ins, item_option(opt, sizeof opt, name, i, l->n),
                                        "percentile %s is already listed", t);
                    *bad = 1;
                    break;
                }
        } else if (i && v[i] <= v[i - 1]) {
            sluice_option_error(s->ins, item_option(opt, sizeof opt, name, i, l->n),
                                "buckets must ascend: %s follows %s", t, l->v[i - 1]);
            *bad = 1;
        }
    }
    return v;
}

static int
statsd_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const statsd_config *cfg = config;
    statsd_ctx *s = sluice_calloc(1, sizeof *s);
    *ctxp = s;
    s->ins = ins;
    s->cfg = cfg;
    int bad = 0;
    s->listeners = sluice_calloc(cfg->listen.n ? cfg->listen.n : 1, sizeof *s->listeners);
    s->n_listeners = cfg->listen.n;
    for (size_t i = 0; i < cfg->listen.n; i++) {
        listener *l = &s->listeners[i];
        const char *a = cfg->listen.v[i];
        char opt[32], err[256];
        struct sockaddr_storage ss;
        l->s = s;
        l->fd = -1;
        l->addr = sluice_strdup(a);
        item_option(opt, sizeof opt, "listen", i, cfg->listen.n);
        if (strncmp(a, "udp://", 6) != 0 && strncmp(a, "tcp://", 6) != 0) {
            sluice_option_error(ins, opt, "expected udp://HOST:PORT or tcp://HOST:PORT, found '%s'",
                                a);
            bad = 1;
        } else if (sluice_address_parse(a + 6, &ss, err, sizeof err) != 0) {
            sluice_option_error(ins, opt, "%s", err);
            bad = 1;
        }
        l->tcp = strncmp(a, "tcp://", 6) == 0;
        /* UDP senders cannot be made to wait: pausing would lose their
         * datagrams if we stopped reading, so we read on, aggregating. */
        if (!l->tcp)
            sluice_input_loses_when_paused(ins);
    }
    s->percentiles = numbers(s, "percentiles", &cfg->percentiles, 1, &bad);
    s->buckets = numbers(s, "buckets", &cfg->buckets, 0, &bad);
    if (cfg->add_tags.data)
        s->add_tags = sluice_string_map_pairs(&cfg->add_tags);
    s->acfg = (statsd_agg_config){
        .counters_delta = cfg->counters == COUNTERS_DELTA,
        .timer_histogram = cfg->timer_mode == TIMER_HISTOGRAM,
        .percentiles = s->percentiles,
        .n_percentiles = cfg->percentiles.n,
        .buckets = s->buckets,
        .n_buckets = cfg->buckets.n,
        .max_timer_samples = (size_t)cfg->max_timer_samples,
        .max_set_values = (size_t)cfg->max_set_values,
        .max_series = (size_t)cfg->max_series,
        .delete_counters = cfg->delete_counters,
        .delete_gauges = cfg->delete_gauges,
        .delete_timings = cfg->delete_timings,
        .delete_sets = cfg->delete_sets,
        .expire_after = cfg->expire_after,
        .add_tags = s->add_tags,
    };
    if (bad)
        return SLUICE_ERROR;
    s->agg = statsd_agg_new(&s->acfg);
    return SLUICE_OK;
}

static int
statsd_start(void *ctx)
{
    statsd_ctx *s = ctx;
    s->em = sluice_input_emitter(s->ins);
    s->loop = sluice_instance_loop(s->ins);
    stream_server_config sc = {
        .max_connections = (size_t)s->cfg->max_connections,
        .read_size = 16384,
        .read_min = 4096,
    };
    s->streams = stream_server_new(s->loop, &sc, &stream_ops, s);
    for (size_t i = 0; i < s->n_listeners; i++) {
        listener *l = &s->listeners[i];
        struct sockaddr_storage ss;
        int r = UV_EINVAL;
        if (sluice_address_parse(l->addr + 6, &ss, NULL, 0) == 0)
            r = l->tcp ? stream_server_listen_tcp(s->streams, l->addr, &ss)
                       : open_udp(s, l, &ss);
        if (r != 0) {
            char opt[32];
            sluice_option_error(s->ins, item_option(opt, sizeof opt, "listen", i, s->n_listeners),
                                "statsd cannot listen on %s: %s", l->addr, uv_strerror(r));
            return SLUICE_ERROR;
        }
        sluice_info(s->ins, "listening on %s", l->addr);
    }
    sluice_collector_add(s->ins, s->cfg->flush_interval, on_flush, s);
    return SLUICE_OK;
}

static void
statsd_pause(void *ctx)
{
    statsd_ctx *s = ctx;
    stream_server_pause(s->streams);
}

static void
statsd_resume(void *ctx)
{
    statsd_ctx *s = ctx;
    stream_server_resume(s->streams);
}

/* Take what the sockets still hold, close every handle, then emit what
 * was aggregated since the last flush. */
static void
statsd_stop(void *ctx)
{
    statsd_ctx *s = ctx;
    stream_server_stop(s->streams);
    for (size_t i = 0; i < s->n_listeners; i++) {
        listener *l = &s->listeners[i];
        if (l->open && !l->tcp && s->agg)
            drain_udp(l, 1024);
        if (l->open)
            uv_close(&l->h.handle, NULL);
        l->open = 0;
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
    }
    if (s->em && s->agg)
        flush(s);
}

static void
statsd_exit(void *ctx)
{
    statsd_ctx *s = ctx;
    uint64_t refused = stream_server_refused(s->streams);
    if (s->lines || refused) {
        const statsd_agg_stats *st = s->agg ? statsd_agg_stats_get(s->agg) : NULL;
        sluice_info(s->ins, "received %llu lines (%llu datagrams); parse_errors %llu, "
                            "unsupported %llu, udp_dropped %llu, series_refused %llu, "
                            "set_values_refused %llu, connections_refused %llu; emitted %llu "
                            "events",
                    (unsigned long long)s->lines, (unsigned long long)s->datagrams,
                    (unsigned long long)s->parse_errors, (unsigned long long)s->unsupported,
                    (unsigned long long)s->udp_dropped,
                    (unsigned long long)(st ? st->series_refused : 0),
                    (unsigned long long)(st ? st->set_values_refused : 0),
                    (unsigned long long)refused, (unsigned long long)s->events);
    }
    for (size_t i = 0; i < s->n_listeners; i++)
        free(s->listeners[i].addr);
    free(s->listeners);
    stream_server_free(s->streams);
    if (s->udp)
        free(s->udp->data);
    free(s->udp);
    statsd_agg_free(s->agg);
    free(s->percentiles);
    free(s->buckets);
    sluice_string_map_free(s->add_tags);
    free(s);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_METRICS,
    .name = "statsd",
    .description = "Receive StatsD and DogStatsD metrics over UDP and TCP and aggregate them.",
    .options = statsd_options,
    .config_size = sizeof(statsd_config),
    .init = statsd_init,
    .start = statsd_start,
    .pause = statsd_pause,
    .resume = statsd_resume,
    .stop = statsd_stop,
    .exit = statsd_exit,
};

/* out_prometheus_exporter: the metric events it receives, served for
 * Prometheus to scrape at http://<listen><path>, in the text format 0.0.4
 * or OpenMetrics 1.0 (as the scraper's Accept asks), gzipped when asked.
 *
 * Flushes (output workers) write the store; libmicrohttpd's own thread
 * renders it for a scrape, under the store's lock: a scrape never waits
 * for the engine and the engine never waits for a scrape. Series not
 * updated for `expire_after` disappear (swept on scrapes and at most every
 * second on flushes), and at most `max_series` are kept; refused samples
 * are counted and logged, at most a line every 10 s. */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http.h>
#include <sluice/net.h>

#include "exporter.h"
#include "promql_metric.h"

#define SWEEP_EVERY_MS 1000
#define LOG_REFUSED_EVERY_MS 10000

typedef struct px_config {
    char *listen, *path;
    int64_t expire_after, max_series;
    sluice_bytes add_labels;
    int timestamps;
} px_config;

static int
check_path(const void *value, char *err, size_t errlen)
{
    const char *p = *(char *const *)value;
    if (p[0] == '/')
        return 0;
    snprintf(err, errlen, "a path starts with /, e.g. /metrics");
    return -1;
}

static const sluice_option px_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR, .def = "127.0.0.1:2021",
     .check = sluice_check_address, .offset = offsetof(px_config, listen),
     .help = "HOST:PORT to serve on; 0.0.0.0:2021 for every interface."},
    {.name = "path", .type = SLUICE_OPT_STR, .def = "/metrics", .check = check_path,
     .offset = offsetof(px_config, path), .help = "The path Prometheus scrapes."},
    {.name = "expire_after", .type = SLUICE_OPT_DURATION, .def = "5m", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 30 * 86400 * SLUICE_NSEC_PER_SEC, .offset = offsetof(px_config, expire_after),
     .help = "A series not updated for this long disappears; 0: never (memory grows with every "
             "series ever seen)."},
    {.name = "max_series", .type = SLUICE_OPT_INT, .def = "100000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000000, .offset = offsetof(px_config, max_series),
     .help = "Series kept at once; samples of more are refused, counted and logged."},
    {.name = "add_labels", .type = SLUICE_OPT_MAP, .def = "{}", .check = sluice_check_string_map,
     .offset = offsetof(px_config, add_labels),
     .help = "Labels added to every series (an event's own tags win)."},
    {.name = "timestamps", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(px_config, timestamps),
     .help = "Export each sample with its event's time (Prometheus then does not mark it "
             "stale when it stops)."},
    SLUICE_OPTIONS_END,
};

typedef struct px_ctx {
    sluice_instance *ins;
    const px_config *cfg;
    pthread_mutex_t lock; /* the store */
    px_store store;
    char **add; /* add_labels, sanitised: name, value, ..., NULL */
    struct MHD_Daemon *daemon;
    int64_t swept_at, refused_logged_at;
    uint64_t refused_logged;
} px_ctx;

static int64_t
now_ms(void)
{
    return sluice_time_now() / SLUICE_NSEC_PER_MSEC;
}

/* ==== Flushes ==== */

static void
log_refused(px_ctx *c, int64_t now)
{
    if (c->store.refused == c->refused_logged || now - c->refused_logged_at < LOG_REFUSED_EVERY_MS)
        return;
    sluice_warn(c->ins, "%llu samples refused since the last report; the last: %s",
                (unsigned long long)(c->store.refused - c->refused_logged), c->store.why_refused);
    c->refused_logged = c->store.refused;
    c->refused_logged_at = now;
}

static void
px_flush(void *ctx, sluice_flush *fl)
{
    px_ctx *c = ctx;
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_event_iter it;
    sluice_event ev;
    char why[256];
    int64_t now = now_ms();
    sluice_event_iter_init(&it, data, len);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; sluice_event_next(&it, &ev) == 1; i++)
        if (px_store_absorb(&c->store, &ev.body, ev.time, now, why, sizeof why) < 0)
            sluice_flush_event_failed(fl, i, why);
    if (now - c->swept_at >= SWEEP_EVERY_MS) {
        px_store_expire(&c->store, now);
        c->swept_at = now;
    }
    log_refused(c, now);
    pthread_mutex_unlock(&c->lock);
    sluice_event_iter_destroy(&it);
    sluice_flush_done(fl, SLUICE_OK, NULL);
}

/* ==== Scrapes (libmicrohttpd's thread) ==== */

/* Answer with `len` bytes at `body`; with `owned`, libmicrohttpd frees
 * them (the exposition is megabytes: no copy). */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *encoding,
      const void *body, size_t len, int owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    if (encoding)
        MHD_add_response_header(r, "Content-Encoding", encoding);
    MHD_add_response_header(r, "Vary", "Accept, Accept-Encoding");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    px_ctx *c = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, 405, "text/plain", NULL, "GET only\n", 9, 0);
    /* Under the lock: a reload may switch c->cfg. */
    pthread_mutex_lock(&c->lock);
    if (strcmp(url, c->cfg->path) != 0) {
        char hint[300];
        int n = snprintf(hint, sizeof hint, "the metrics are at %s\n", c->cfg->path);
        pthread_mutex_unlock(&c->lock);
        return reply(conn, 404, "text/plain", NULL, hint, (size_t)n, 0);
    }
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
    px_format fmt = accept && strstr(accept, "application/openmetrics-text") ? PX_OPENMETRICS
                                                                             : PX_TEXT;
    sluice_buf body = SLUICE_BUF_INIT;
    int64_t now = now_ms();
    px_store_expire(&c->store, now);
    c->swept_at = now;
    px_render(&body, &c->store, fmt, c->cfg->timestamps);
    pthread_mutex_unlock(&c->lock);
    const char *type = fmt == PX_OPENMETRICS
                           ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                           : "text/plain; version=0.0.4; charset=utf-8";
    const char *encoding = NULL;
    if (enc && strstr(enc, "gzip")) {
        sluice_buf gz = SLUICE_BUF_INIT;
        sluice_gzip(&gz, body.data ? body.data : "", body.len);
        sluice_buf_free(&body);
        body = gz;
        encoding = "gzip";
    }
    if (!body.data)
        return reply(conn, 200, type, encoding, "", 0, 0);
    return reply(conn, 200, type, encoding, body.data, body.len, 1);
}

/* ==== The instance ==== */

/* add_labels with their names made legal. */
static char **
labels_to_add(const sluice_bytes *map)
{
    char **v = sluice_string_map_pairs(map);
    for (char **p = v; *p; p += 2) {
        char *name = pq_sanitized_name(p[0], strlen(p[0]), 0);
        free(p[0]);
        p[0] = name;
    }
    return v;
}

static int
px_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const px_config *cfg = config;
    px_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    pthread_mutex_init(&c->lock, NULL);
    c->add = labels_to_add(&cfg->add_labels);
    c->store.max_series = (size_t)cfg->max_series;
    c->store.expire_ms = cfg->expire_after / SLUICE_NSEC_PER_MSEC;
    c->store.add = (const char *const *)c->add;
    if (sluice_instance_validating(ins))
        return SLUICE_OK;
    struct sockaddr_storage ss;
    char err[256];
    sluice_address_parse(cfg->listen, &ss, err, sizeof err);
    int fd = sluice_listen_tcp(&ss, 128);
    if (fd < 0) {
        sluice_option_error(ins, "listen", "cannot listen on %s: %s", cfg->listen,
                            strerror(errno));
        return SLUICE_ERROR;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    c->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c, MHD_OPTION_LISTEN_SOCKET,
                                 fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!c->daemon) {
        sluice_option_error(ins, "listen", "cannot serve on %s", cfg->listen);
        return SLUICE_ERROR;
    }
    sluice_info(ins, "serving metrics for Prometheus at http://%s%s", cfg->listen, cfg->path);
    return SLUICE_OK;
}

static void
px_exit(void *ctx)
{
    px_ctx *c = ctx;
    if (c->daemon)
        MHD_stop_daemon(c->daemon);
    px_store_free(&c->store);
    sluice_string_map_free(c->add);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* A reload keeps the listener and every series unless `listen` changed. */
static int
px_reconfigure(void *ctx, const void *config, int apply)
{
    px_ctx *c = ctx;
    const px_config *cfg = config;
    if (!apply)
        return strcmp(c->cfg->listen, cfg->listen) == 0 ? SLUICE_OK : SLUICE_ERROR;
    pthread_mutex_lock(&c->lock);
    c->cfg = cfg;
    sluice_string_map_free(c->add);
    c->add = labels_to_add(&cfg->add_labels);
    c->store.max_series = (size_t)cfg->max_series;
    c->store.expire_ms = cfg->expire_after / SLUICE_NSEC_PER_MSEC;
    c->store.add = (const char *const *)c->add;
    pthread_mutex_unlock(&c->lock);
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "prometheus_exporter",
    .description = "Serve metric events for Prometheus to scrape (text format 0.0.4 and "
                   "OpenMetrics), series expiring when they stop.",
    .options = px_options,
    .config_size = sizeof(px_config),
    .accepts = SLUICE_ACCEPTS_METRICS,
    .init = px_init,
    .exit = px_exit,
    .flush = px_flush,
    .reconfigure = px_reconfigure,
};

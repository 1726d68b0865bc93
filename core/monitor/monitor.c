/* The self-monitoring HTTP server (see monitor.h). */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "metrics.h"
#include "monitor.h"
#include "reload.h"
#include "sluice/net.h"
#include "xalloc.h"

/* How long a request waits for the engine thread before answering 503. */
#define SNAPSHOT_TIMEOUT_NS (2 * UINT64_C(1000000000))

typedef enum page { PAGE_METRICS, PAGE_HEALTH, PAGE_PIPELINES, PAGE_RELOAD, PAGE_DO_RELOAD } page;

/* How long POST /api/v1/reload waits for the reload. */
#define RELOAD_TIMEOUT_NS (60 * UINT64_C(1000000000))

struct monitor {
    engine *e;
    struct MHD_Daemon *daemon;
    uv_async_t wake; /* engine loop */
    uv_mutex_t lock;
    uv_cond_t cond;
    /* Under lock: */
    page want;
    uint64_t asked, answered;
    sluice_buf body;
    int status;
    int stopping;
};

/* Engine thread: build the page asked for. */
static void
on_wake(uv_async_t *a)
{
    struct monitor *m = a->data;
    uv_mutex_lock(&m->lock);
    if (m->answered < m->asked) {
        sluice_buf_reset(&m->body);
        m->status = 200;
        switch (m->want) {
        case PAGE_METRICS: metrics_prometheus(m->e, &m->body); break;
        case PAGE_PIPELINES: metrics_pipelines_json(m->e, &m->body); break;
        case PAGE_HEALTH: m->status = metrics_health(m->e, &m->body); break;
        case PAGE_RELOAD: reload_status_json(m->e, &m->body); break;
        case PAGE_DO_RELOAD:
            /* 422: the configuration was refused; the errors are in the body. */
            m->status = reload_now(m->e, "POST /api/v1/reload") == 0 ? 200 : 422;
            reload_status_json(m->e, &m->body);
            break;
        }
        m->answered = m->asked;
        uv_cond_broadcast(&m->cond);
    }
    uv_mutex_unlock(&m->lock);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, int status, const char *type, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* libmicrohttpd's thread. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **state)
{
    struct monitor *m = cls;
    static const char *const types[] = {"text/plain; version=0.0.4; charset=utf-8",
                                        "application/json", "application/json",
                                        "application/json", "application/json"};
    page want;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/reload") == 0) {
        /* Answered once the body (ignored) is read. */
        static int seen;
        if (!*state) {
            *state = &seen;
            return MHD_YES;
        }
        if (*upload_size) {
            *upload_size = 0;
            return MHD_YES;
        }
        want = PAGE_DO_RELOAD;
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char only[] = "GET, or POST /api/v1/reload\n";
        return reply(conn, 405, "text/plain", only, sizeof only - 1);
    } else if (strcmp(url, "/metrics") == 0)
        want = PAGE_METRICS;
    else if (strcmp(url, "/health") == 0)
        want = PAGE_HEALTH;
    else if (strcmp(url, "/api/v1/pipelines") == 0)
        want = PAGE_PIPELINES;
    else if (strcmp(url, "/api/v1/reload") == 0)
        want = PAGE_RELOAD;
    else {
        static const char try[] = "try /metrics, /health, /api/v1/pipelines or /api/v1/reload\n";
        return reply(conn, 404, "text/plain", try, sizeof try - 1);
    }

    uv_mutex_lock(&m->lock);
    m->want = want;
    uint64_t ticket = ++m->asked;
    uv_async_send(&m->wake);
    int timed_out = 0;
    uint64_t timeout = want == PAGE_DO_RELOAD ? RELOAD_TIMEOUT_NS : SNAPSHOT_TIMEOUT_NS;
    while (m->answered < ticket && !m->stopping && !timed_out)
        timed_out = uv_cond_timedwait(&m->cond, &m->lock, timeout) != 0;
    enum MHD_Result r;
    if (m->answered >= ticket)
        r = reply(conn, m->status, types[want], m->body.data ? m->body.data : "", m->body.len);
    else {
        static const char busy[] =
            "{\"status\":\"failing\",\"reasons\":[\"the engine thread did not answer in 2 s\"]}\n";
        r = reply(conn, 503, "application/json", busy, sizeof busy - 1);
    }
    uv_mutex_unlock(&m->lock);
    return r;
}

int
monitor_check_listen(const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    return sluice_address_parse(listen, &ss, err, errlen);
}

struct monitor *
monitor_start(engine *e, const char *listen)
{
    struct sockaddr_storage ss;
    char err[256];
    if (sluice_address_parse(listen, &ss, err, sizeof err) < 0) {
        sluice_error(NULL, "service.http.listen: %s", err);
        return NULL;
    }
    int fd = sluice_listen_tcp(&ss, 64);
    if (fd < 0) {
        sluice_error(NULL, "self-monitoring cannot listen on %s: %s; set service.http.listen "
                           "to another address (or `http: off`), or run with --http-listen "
                           "ADDR:PORT or --http-listen off",
                     listen, strerror(errno));
        return NULL;
    }
    struct monitor *m = xcalloc(1, sizeof *m);
    m->e = e;
    uv_mutex_init(&m->lock);
    uv_cond_init(&m->cond);
    uv_async_init(&e->loop, &m->wake, on_wake);
    m->wake.data = m;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET,
                                 fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                 MHD_OPTION_END);
    if (!m->daemon) {
        /* The socket is libmicrohttpd's now, whatever became of it. */
        sluice_error(NULL, "cannot start the self-monitoring server on %s", listen);
        uv_close((uv_handle_t *)&m->wake, NULL);
        uv_run(&e->loop, UV_RUN_NOWAIT);
        uv_cond_destroy(&m->cond);
        uv_mutex_destroy(&m->lock);
        free(m);
        return NULL;
    }
    sluice_info(NULL, "self-monitoring on http://%s (/metrics, /health, /api/v1/pipelines, "
                      "/api/v1/reload)",
                listen);
    return m;
}

static void
free_monitor(uv_handle_t *h)
{
    struct monitor *m = h->data;
    uv_cond_destroy(&m->cond);
    uv_mutex_destroy(&m->lock);
    sluice_buf_free(&m->body);
    free(m);
}

void
monitor_stop(struct monitor *m)
{
    if (!m)
        return;
    uv_mutex_lock(&m->lock);
    m->stopping = 1;
    uv_cond_broadcast(&m->cond);
    uv_mutex_unlock(&m->lock);
    MHD_stop_daemon(m->daemon);
    uv_close((uv_handle_t *)&m->wake, free_monitor);
}

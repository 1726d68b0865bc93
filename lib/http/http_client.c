/* sluice_http: libcurl multi on a libuv loop (see include/sluice/http.h).
 * libcurl tells us which sockets to watch and when to time out; uv_poll and
 * a uv_timer tell libcurl when they are ready. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "sluice/http.h"
#include "sluice/timefmt.h"

#define MAX_RESPONSE_BODY (16 << 20) /* Elasticsearch answers a bulk item by item */

typedef struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct sluice_http *h;
    struct http_sock *prev, *next;
} http_sock;

typedef struct http_xfer {
    CURL *easy;
    sluice_http_cb cb;
    void *arg;
    struct curl_slist *headers;
    sluice_buf body;
    sluice_time_t retry_after;
    char errbuf[CURL_ERROR_SIZE];
    struct http_xfer *prev, *next;
} http_xfer;

struct sluice_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    http_sock *socks;
    http_xfer *xfers;
};

static uv_once_t global_once = UV_ONCE_INIT;

/* Linked into plugins, which do not see the core's allocation helpers. */
static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

static void
global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

#define LIST_ADD(head, it)                                                                         \
    do {                                                                                           \
        (it)->prev = NULL;                                                                         \
        (it)->next = (head);                                                                       \
        if (head)                                                                                  \
            (head)->prev = (it);                                                                   \
        (head) = (it);                                                                             \
    } while (0)

#define LIST_DEL(head, it)                                                                         \
    do {                                                                                           \
        if ((it)->prev)                                                                            \
            (it)->prev->next = (it)->next;                                                         \
        else                                                                                       \
            (head) = (it)->next;                                                                   \
        if ((it)->next)                                                                            \
            (it)->next->prev = (it)->prev;                                                         \
    } while (0)

/* ==== Completion ==== */

static void
finish_xfer(sluice_http *h, http_xfer *x, CURLcode rc)
{
    sluice_http_response r = {0};
    if (rc == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    }
    r.body = x->body.data ? x->body.data : "";
    r.body_len = x->body.len;
    r.retry_after = x->retry_after;
    char *type = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK)
        r.content_type = type;
    LIST_DEL(h->xfers, x);
    curl_multi_remove_handle(h->multi, x->easy);
    x->cb(x->arg, &r);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    sluice_buf_free(&x->body);
    free(x);
}

static void
check_done(sluice_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        http_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish_xfer(h, x, msg->data.result);
    }
}

/* ==== Sockets and the timer ==== */

static void
on_poll(uv_poll_t *p, int status, int events)
{
    http_sock *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    sluice_http *h = s->h;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_done(h);
}

static void
free_sock(uv_handle_t *hd)
{
    free(hd->data);
}

static void
drop_sock(sluice_http *h, http_sock *s)
{
    LIST_DEL(h->socks, s);
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, free_sock);
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    sluice_http *h = userp;
    http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(h->multi, fd, NULL);
            drop_sock(h, s);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        LIST_ADD(h->socks, s);
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void
on_timeout(uv_timer_t *t)
{
    sluice_http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int
on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    sluice_http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ==== Requests ==== */

static size_t
on_body(char *ptr, size_t size, size_t n, void *userdata)
{
    http_xfer *x = userdata;
    size_t len = size * n;
    if (x->body.len < MAX_RESPONSE_BODY) {
        size_t keep = len < MAX_RESPONSE_BODY - x->body.len ? len : MAX_RESPONSE_BODY - x->body.len;
        sluice_buf_append(&x->body, ptr, keep);
    }
    return len;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
static sluice_time_t
parse_retry_after(const char *v, size_t n)
{
    char tmp[64];
    if (n >= sizeof tmp)
        return 0;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    long secs = strtol(tmp, &end, 10);
    if (end != tmp && *end == '\0')
        return secs > 0 ? (sluice_time_t)secs * SLUICE_NSEC_PER_SEC : 0;
    struct tm tm = {0};
    if (strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
        sluice_time_t at = (sluice_time_t)timegm(&tm) * SLUICE_NSEC_PER_SEC;
        sluice_time_t d = at - sluice_time_now();
        return d > 0 ? d : 0;
    }
    return 0;
}

static size_t
on_header(char *buf, size_t size, size_t n, void *userdata)
{
    http_xfer *x = userdata;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(buf, name, sizeof name - 1) == 0) {
        const char *v = buf + sizeof name - 1, *end = buf + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        x->retry_after = parse_retry_after(v, (size_t)(end - v));
    }
    return len;
}

sluice_http *
sluice_http_new(uv_loop_t *loop)
{
    uv_once(&global_once, global_init);
    sluice_http *h = xcalloc(1, sizeof *h);
    h->loop = loop;
    h->multi = curl_multi_init();
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    return h;
}

int
sluice_http_send(sluice_http *h, const sluice_http_request *req, sluice_http_cb cb, void *arg)
{
    http_xfer *x = xcalloc(1, sizeof *x);
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return -1;
    }
    x->cb = cb;
    x->arg = arg;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    if (req->method && strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* what libcurl can decode */
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method ? req->method : "POST");
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (req->timeout > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout / SLUICE_NSEC_PER_MSEC));
    if (req->connect_timeout > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(req->connect_timeout / SLUICE_NSEC_PER_MSEC));
    if (req->user) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, req->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, req->password ? req->password : "");
    }
    const sluice_http_tls *tls = req->tls;
    if (tls) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, tls->verify ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, tls->verify ? 2L : 0L);
        if (tls->ca_file)
            curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca_file);
        if (tls->cert_file)
            curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert_file);
        if (tls->key_file)
            curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key_file);
    }
    /* No "Expect: 100-continue" round trip for large bodies. */
    x->headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        x->headers = curl_slist_append(x->headers, req->headers[i]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);

    LIST_ADD(h->xfers, x);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        LIST_DEL(h->xfers, x);
        curl_easy_cleanup(e);
        curl_slist_free_all(x->headers);
        free(x);
        return -1;
    }
    return 0;
}

static void
free_client(uv_handle_t *hd)
{
    free(hd->data);
}

void
sluice_http_free(sluice_http *h)
{
    if (!h)
        return;
    while (h->xfers) {
        http_xfer *x = h->xfers;
        snprintf(x->errbuf, sizeof x->errbuf, "aborted");
        finish_xfer(h, x, CURLE_ABORTED_BY_CALLBACK);
    }
    while (h->socks)
        drop_sock(h, h->socks);
    curl_multi_cleanup(h->multi);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, free_client);
}

int
sluice_http_classify(const sluice_http_response *r)
{
    if (r->error || r->status == 0)
        return SLUICE_RETRY;
    if (r->status >= 200 && r->status < 300)
        return SLUICE_OK;
    if (r->status == 408 || r->status == 429 || r->status >= 500)
        return SLUICE_RETRY;
    return SLUICE_ERROR;
}

int
sluice_gzip(sluice_buf *out, const void *data, size_t len)
{
    z_stream zs = {0};
    /* windowBits 15 + 16: a gzip header and trailer, not zlib's. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t bound = deflateBound(&zs, (uLong)len);
    sluice_buf_reserve(out, bound);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)(out->cap - out->len);
    int rc = deflate(&zs, Z_FINISH);
    out->len += zs.total_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

void
sluice_http_request_apply(sluice_http_request *req, const sluice_http_client_config *cfg)
{
    req->user = cfg->user;
    req->password = cfg->password;
    req->timeout = cfg->timeout;
    req->connect_timeout = cfg->connect_timeout;
    req->tls = &cfg->tls;
}

int
sluice_http_check_url(const void *value, char *err, size_t errlen)
{
    const char *url = *(char *const *)value;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "expected an http:// or https:// URL, found '%s'", url);
        return -1;
    }
    CURLU *u = curl_url();
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    char *host = NULL;
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (rc != CURLUE_OK || !host || !*host)
        snprintf(err, errlen, "'%s' is not a URL libcurl can use: %s", url,
                 rc != CURLUE_OK ? curl_url_strerror(rc) : "no host");
    int bad = rc != CURLUE_OK || !host || !*host;
    curl_free(host);
    curl_url_cleanup(u);
    return bad ? -1 : 0;
}

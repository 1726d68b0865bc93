/* `sluice top`: fetch /api/v1/pipelines with libcurl and read it, through
 * the core's JSON parser into MessagePack, into the rows the view shows. */
#include <curl/curl.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "sluice/json.h"
#include "top.h"
#include "xalloc.h"

/* Bigger than any sluice answers, smaller than a runaway server. */
#define MAX_BODY (64u << 20)

struct top_client {
    CURL *h;
    char *url;
    sluice_buf body;
};

static char *
make_url(const char *base)
{
    static const char path[] = "/api/v1/pipelines";
    sluice_buf b = SLUICE_BUF_INIT;
    if (!strstr(base, "://"))
        sluice_buf_append(&b, "http://", 7);
    sluice_buf_append(&b, base, strlen(base));
    while (b.len && b.data[b.len - 1] == '/')
        b.len--;
    size_t n = sizeof path - 1;
    if (b.len < n || memcmp(b.data + b.len - n, path, n) != 0)
        sluice_buf_append(&b, path, n);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    sluice_buf *b = arg;
    if (b->len + size * n > MAX_BODY)
        return 0;
    sluice_buf_append(b, data, size * n);
    return size * n;
}

top_client *
top_client_new(const char *url)
{
    top_client *c = xcalloc(1, sizeof *c);
    c->url = make_url(url);
    c->h = curl_easy_init();
    if (!c->h) {
        top_client_free(c);
        return NULL;
    }
    curl_easy_setopt(c->h, CURLOPT_URL, c->url);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &c->body);
    return c;
}

void
top_client_free(top_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    sluice_buf_free(&c->body);
    free(c->url);
    free(c);
}

const char *
top_client_url(const top_client *c)
{
    return c->url;
}

int
top_fetch(top_client *c, top_snapshot *s, char *err, size_t errlen)
{
    sluice_buf_reset(&c->body);
    CURLcode rc = curl_easy_perform(c->h);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s",
                 rc == CURLE_WRITE_ERROR ? "answer too large" : curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        snprintf(err, errlen, "answered %ld", status);
        return -1;
    }
    return top_snapshot_parse(s, c->body.data ? c->body.data : "", c->body.len, err, errlen);
}

/* ==== Reading the document ==== */

static const msgpack_object *
member(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
            memcmp(kv->key.via.str.ptr, key, n) == 0)
            return &kv->val;
    }
    return NULL;
}

static int
is_number(const msgpack_object *o)
{
    return o && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                 o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
                 o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64);
}

static double
number_of(const msgpack_object *o)
{
    if (!is_number(o))
        return NAN;
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double)o->via.i64;
    default: return o->via.f64;
    }
}

static double
number(const msgpack_object *map, const char *key)
{
    return number_of(member(map, key));
}

static char *
string(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = member(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return xstrdup("?");
    return xstrndup(o->via.str.ptr, o->via.str.size);
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The plugin's own metrics: the numbers the core does not put there. */
static char *
own_metrics(const msgpack_object *ins)
{
    sluice_buf b = SLUICE_BUF_INIT;
    for (uint32_t i = 0; i < ins->via.map.size; i++) {
        const msgpack_object_kv *kv = &ins->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || !is_number(&kv->val))
            continue;
        const char *k = kv->key.via.str.ptr;
        size_t n = kv->key.via.str.size;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)n, k);
        if (metrics_is_core_field(name) || ends_with(k, n, "_per_second"))
            continue;
        if (ends_with(k, n, "_total"))
            n -= 6;
        double v = number_of(&kv->val);
        sluice_buf_printf(&b, "%s%.*s=", b.len ? " " : "", (int)n, k);
        if (v == floor(v) && fabs(v) < 1e15)
            sluice_buf_printf(&b, "%.0f", v);
        else
            sluice_buf_printf(&b, "%.3g", v);
    }
    if (!b.len)
        return NULL;
    sluice_buf_putc(&b, '\0');
    return b.data;
}

static void
read_instance(top_row *r, const msgpack_object *o, const char *pipeline_name, char kind)
{
    memset(r, 0, sizeof *r);
    r->pipeline = xstrdup(pipeline_name);
    r->id = string(o, "id");
    r->plugin = string(o, "plugin");
    r->kind = kind;
    r->in_rate = r->out_rate = r->bytes_rate = NAN;
    r->mem = r->max_mem = r->disk = r->max_disk = r->retries = r->dead = r->paused = NAN;
    const msgpack_object *buffer = member(o, "buffer");
    const msgpack_object *type = member(buffer, "type");
    switch (kind) {
    case 'i':
        r->in_rate = number(o, "events_per_second");
        r->bytes_rate = number(o, "bytes_per_second");
        r->paused = number(o, "paused");
        break;
    case 'f':
        r->in_rate = number(o, "events_in_per_second");
        r->out_rate = number(o, "events_out_per_second");
        r->dead = number(o, "dead_lettered_total");
        break;
    default:
        r->out_rate = number(o, "events_per_second");
        r->bytes_rate = number(o, "bytes_per_second");
        r->retries = number(o, "retries_total");
        r->dead = number(o, "dead_lettered_total");
        r->mem = number(o, "buffer_memory_bytes");
        r->disk = number(o, "buffer_disk_bytes");
        r->max_mem = number(buffer, "max_memory");
        r->max_disk = number(buffer, "max_disk");
        r->fs = type && type->type == MSGPACK_OBJECT_STR && type->via.str.size == 10 &&
                memcmp(type->via.str.ptr, "filesystem", 10) == 0;
        break;
    }
    r->own = own_metrics(o);
}

static void
read_instances(top_snapshot *s, const msgpack_object *p, const char *list, char kind,
               size_t *cap)
{
    const msgpack_object *a = member(p, list);
    if (!a || a->type != MSGPACK_OBJECT_ARRAY)
        return;
    const char *name = s->pipelines[s->n_pipelines - 1].name;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        if (a->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
            continue;
        if (s->n_rows == *cap) {
            *cap = *cap ? 2 * *cap : 16;
            s->rows = xrealloc(s->rows, *cap * sizeof *s->rows);
        }
        top_row *r = &s->rows[s->n_rows];
        read_instance(r, &a->via.array.ptr[i], name, kind);
        r->order = s->n_rows++;
    }
}

static void
read_document(top_snapshot *s, const msgpack_object *doc, const msgpack_object *pipelines)
{
    s->version = string(doc, "version");
    s->window = number(doc, "rate_window_seconds");
    s->pipelines = xcalloc(pipelines->via.array.size + 1, sizeof *s->pipelines);
    size_t cap = 0;
    for (uint32_t i = 0; i < pipelines->via.array.size; i++) {
        const msgpack_object *p = &pipelines->via.array.ptr[i];
        if (p->type != MSGPACK_OBJECT_MAP)
            continue;
        top_pipeline *tp = &s->pipelines[s->n_pipelines++];
        tp->name = string(p, "name");
        tp->paused = number(p, "paused");
        tp->pauses = number(p, "pauses_total");
        tp->unrouted = number(p, "unrouted_events_total");
        read_instances(s, p, "inputs", 'i', &cap);
        read_instances(s, p, "filters", 'f', &cap);
        read_instances(s, p, "outputs", 'o', &cap);
    }
}

int
top_snapshot_parse(top_snapshot *s, const char *json, size_t len, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = -1;
    if (sluice_json_to_msgpack(json, len, &pk, err, errlen) < 0) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *pipelines = member(&u.data, "pipelines");
        if (pipelines && pipelines->type == MSGPACK_OBJECT_ARRAY) {
            top_snapshot_free(s);
            read_document(s, &u.data, pipelines);
            rc = 0;
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "not an /api/v1/pipelines answer (no \"pipelines\" array)");
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

void
top_snapshot_free(top_snapshot *s)
{
    for (size_t i = 0; i < s->n_rows; i++) {
        free(s->rows[i].pipeline);
        free(s->rows[i].id);
        free(s->rows[i].plugin);
        free(s->rows[i].own);
    }
    for (size_t i = 0; i < s->n_pipelines; i++)
        free(s->pipelines[i].name);
    free(s->rows);
    free(s->pipelines);
    free(s->version);
    memset(s, 0, sizeof *s);
}

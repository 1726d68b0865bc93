/* out_elasticsearch: the Bulk API (Elasticsearch 7/8, OpenSearch; no
 * _type). Each event is an action line and its document; a chunk goes out
 * as bulks of at most bulk_max_bytes and bulk_max_events.
 *
 * Answers, item by item: 2xx stored; 409 on create with an id we chose
 * (id_key or generate_id) means already stored, so a retried bulk never
 * duplicates a document; 429 and 5xx items are retried alone; any other
 * item (a mapping conflict) goes to the dead letters with Elasticsearch's
 * error type and reason. A whole request answered 413 is split; 429 is
 * retried (Retry-After kept); no answer or 5xx puts the host in a
 * cool-down and the bulk goes to the next host at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sluice/http_batch.h>
#include <sluice/sluice.h>

#include "es_bulk.h"
#include "name_template.h"

enum { ACTION_INDEX, ACTION_CREATE };
static const char *const actions[] = {"index", "create", NULL};

typedef struct es_config {
    sluice_strlist hosts;
    char *index;
    int action;
    char *id_key;
    int generate_id;
    sluice_strlist id_fields;
    char *pipeline;
    char *routing_key;
    int64_t bulk_max_bytes, bulk_max_events;
    char *api_key;
    char *time_key;
    int64_t cooldown;
    sluice_http_output_config http;
} es_config;

static const sluice_option es_options[] = {
    {.name = "hosts", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .check = sluice_http_check_url, .offset = offsetof(es_config, hosts),
     .help = "Base URLs (http://127.0.0.1:9200); bulks go round-robin, skipping a host in "
             "its cool-down."},
    {.name = "index", .type = SLUICE_OPT_STR, .def = "sluice-%Y.%m.%d", .flags = SLUICE_OPT_FIELDS,
     .offset = offsetof(es_config, index),
     .help = "Index (or data stream) name: %Y %m %d %H %M %j %y from the event time (UTC), "
             "%{field} from the event (write $${field} for the ${field} form; plain ${VAR} is an "
             "environment variable)."},
    {.name = "action", .type = SLUICE_OPT_ENUM, .def = "index", .values = actions,
     .offset = offsetof(es_config, action),
     .help = "index, or create (data streams; an existing id is not overwritten)."},
    {.name = "id_key", .type = SLUICE_OPT_STR, .offset = offsetof(es_config, id_key),
     .help = "Field whose value is the document _id."},
    {.name = "generate_id", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(es_config, generate_id),
     .help = "_id = a hash of the event (time and fields), so a bulk sent twice (retry, crash) "
             "stores each document once."},
    {.name = "id_fields", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(es_config, id_fields),
     .help = "With generate_id: hash only these fields, which identify a record wherever it is "
             "read again (tail's path_key and offset_key: a line re-read after a crash has a "
             "new event time but the same path and offset)."},
    {.name = "pipeline", .type = SLUICE_OPT_STR, .offset = offsetof(es_config, pipeline),
     .help = "Ingest pipeline."},
    {.name = "routing_key", .type = SLUICE_OPT_STR, .offset = offsetof(es_config, routing_key),
     .help = "Field whose value is the shard routing."},
    {.name = "bulk_max_bytes", .type = SLUICE_OPT_SIZE, .def = "5MiB", .flags = SLUICE_OPT_RANGE,
     .min = 1024, .max = 1 << 30, .offset = offsetof(es_config, bulk_max_bytes),
     .help = "Largest bulk body (before gzip)."},
    {.name = "bulk_max_events", .type = SLUICE_OPT_INT, .def = "0", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 10000000, .offset = offsetof(es_config, bulk_max_events),
     .help = "Most documents in one bulk; 0: only bulk_max_bytes limits."},
    {.name = "api_key", .type = SLUICE_OPT_STR, .offset = offsetof(es_config, api_key),
     .help = "Sent as Authorization: ApiKey (the base64 id:key); write ${VAR}."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .def = "'@timestamp'",
     .offset = offsetof(es_config, time_key),
     .help = "Field of the event time in documents (RFC 3339, nanoseconds)."},
    {.name = "host_cooldown", .type = SLUICE_OPT_DURATION, .def = "30s",
     .flags = SLUICE_OPT_RANGE, .min = 0, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(es_config, cooldown),
     .help = "How long a host that did not answer (or answered 5xx) is skipped."},
    SLUICE_HTTP_OUTPUT_OPTIONS(es_config, http, "2"),
    SLUICE_OPTIONS_END,
};

typedef struct es_ctx {
    sluice_http_batch *batch; /* first: SLUICE_HTTP_BATCH_CALLBACKS */
    sluice_instance *ins;
    const es_config *cfg;
    name_template *index;
    char **urls;       /* per host: .../_bulk[?pipeline=] */
    sluice_time_t *down_until;
    sluice_time_t *answered_at; /* last HTTP answer of any status */
    uint64_t *host_failures;
    size_t n_hosts, next_host;
    uv_mutex_t hosts_lock; /* workers share the hosts */
    sluice_format_opts doc;
    uint64_t stored, conflicts_ok, retried_items, failed_items, failovers;
} es_ctx;

/* ==== Rendering ==== */

/* The field's value as JSON string content: a string as it is, else its
 * JSON text. 0, or -1 if absent. */
static int
field_string(sluice_buf *out, const sluice_event *ev, const char *path)
{
    const msgpack_object *v = sluice_record_get(&ev->body, path);
    if (!v)
        return -1;
    sluice_buf scratch = SLUICE_BUF_INIT;
    size_t n;
    const char *s = sluice_json_text(v, &scratch, &n);
    sluice_json_string(out, s, n);
    sluice_buf_free(&scratch);
    return 0;
}

/* 128 bits of SHA-256 over the event as stored (time and fields), or over
 * the id_fields' values only. */
static void
generated_id(const es_config *cfg, sluice_buf *out, const sluice_event *ev)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (cfg->id_fields.n) {
        sluice_buf text = SLUICE_BUF_INIT;
        for (size_t i = 0; i < cfg->id_fields.n; i++) {
            const msgpack_object *v = sluice_record_get(&ev->body, cfg->id_fields.v[i]);
            if (v)
                sluice_json_value(&text, v);
            sluice_buf_putc(&text, '\0');
        }
        EVP_Digest(text.data, text.len, md, &len, EVP_sha256(), NULL);
        sluice_buf_free(&text);
    } else {
        EVP_Digest(ev->raw, ev->raw_len, md, &len, EVP_sha256(), NULL);
    }
    static const char hex[] = "0123456789abcdef";
    sluice_buf_putc(out, '"');
    for (int i = 0; i < 16; i++) {
        sluice_buf_putc(out, hex[md[i] >> 4]);
        sluice_buf_putc(out, hex[md[i] & 15]);
    }
    sluice_buf_putc(out, '"');
}

/* Index names are lowercase and cannot hold \ / * ? " < > | space , #. */
static void
index_append(sluice_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        else if (strchr("\\/*?\"<>| ,#:", c) || (unsigned char)c < 0x20)
            c = '_';
        sluice_buf_putc(out, c);
    }
}

static int
es_render(void *ctx, sluice_event_kind kind, const sluice_event *ev, sluice_buf *out, char *why,
          size_t whylen)
{
    (void)kind;
    es_ctx *c = ctx;
    const es_config *cfg = c->cfg;
    sluice_buf_putc(out, '{');
    sluice_json_string(out, actions[cfg->action], strlen(actions[cfg->action]));
    sluice_buf_append(out, ":{\"_index\":\"", 12);
    if (name_template_render(c->index, ev, index_append, out, why, whylen) < 0)
        return -1;
    sluice_buf_putc(out, '"');
    if (cfg->id_key) {
        sluice_buf_append(out, ",\"_id\":", 7);
        if (field_string(out, ev, cfg->id_key) < 0) {
            snprintf(why, whylen, "id_key '%s' is not in the event", cfg->id_key);
            return -1;
        }
    } else if (cfg->generate_id) {
        sluice_buf_append(out, ",\"_id\":", 7);
        generated_id(cfg, out, ev);
    }
    if (cfg->routing_key) {
        sluice_buf_append(out, ",\"routing\":", 11);
        if (field_string(out, ev, cfg->routing_key) < 0) {
            snprintf(why, whylen, "routing_key '%s' is not in the event", cfg->routing_key);
            return -1;
        }
    }
    sluice_buf_append(out, "}}\n", 3);
    sluice_format_event(out, &c->doc, ev);
    return 0;
}

/* ==== Hosts ==== */

static void
es_prepare(void *ctx, sluice_http_request *req, sluice_http_batch_range *rg)
{
    es_ctx *c = ctx;
    sluice_time_t now = sluice_time_now();
    uv_mutex_lock(&c->hosts_lock);
    /* The next host out of its cool-down; if none is, the one that
     * answered last (a 503 proves it reachable, a refused connection does
     * not). */
    size_t pick = c->next_host % c->n_hosts, best = pick;
    int up = 0;
    for (size_t k = 0; k < c->n_hosts && !up; k++) {
        size_t h = (c->next_host + k) % c->n_hosts;
        if (c->down_until[h] <= now) {
            pick = h;
            up = 1;
        } else if (c->answered_at[h] > c->answered_at[best]) {
            best = h;
        }
    }
    if (!up)
        pick = best;
    c->next_host = pick + 1;
    uv_mutex_unlock(&c->hosts_lock);
    rg->user = pick;
    req->url = c->urls[pick];
}

/* Put the host in its cool-down; 1 if another host is up to take over. */
static int
host_failed(es_ctx *c, size_t host, const char *why)
{
    sluice_time_t now = sluice_time_now();
    int other = 0;
    uv_mutex_lock(&c->hosts_lock);
    int was_up = c->down_until[host] <= now;
    c->down_until[host] = now + c->cfg->cooldown;
    c->host_failures[host]++;
    for (size_t h = 0; h < c->n_hosts; h++)
        other |= h != host && c->down_until[h] <= now;
    uv_mutex_unlock(&c->hosts_lock);
    if (was_up)
        sluice_warn(c->ins, "%s: %s; skipping it for %llds%s", c->cfg->hosts.v[host], why,
                    (long long)(c->cfg->cooldown / SLUICE_NSEC_PER_SEC),
                    other ? ", the bulk goes to the next host" : "");
    return other;
}

/* ==== Answers ==== */

static sluice_http_batch_verdict
items(es_ctx *c, sluice_flush *fl, const sluice_http_batch_range *rg, const sluice_http_response *r,
      char *why, size_t whylen)
{
    size_t n = rg->last - rg->first;
    if (es_bulk_all_ok(r->body, r->body_len)) {
        __atomic_fetch_add(&c->stored, n, __ATOMIC_RELAXED);
        return SLUICE_HTTP_BATCH_DONE;
    }
    es_bulk b;
    long got = es_bulk_parse(&b, r->body, r->body_len, why, whylen);
    if (got != (long)n) {
        if (got >= 0)
            snprintf(why, whylen, "the bulk answer has %ld items for %zu actions", got, n);
        sluice_error(c->ins, "%s; retrying the bulk", why);
        es_bulk_free(&b);
        return SLUICE_HTTP_BATCH_RETRY;
    }
    int own_ids = c->cfg->id_key || c->cfg->generate_id;
    uint64_t stored = 0, dup = 0, retried = 0, failed = 0;
    for (size_t j = 0; j < n; j++) {
        char item_why[512];
        long st = es_bulk_item(&b, j, item_why, sizeof item_why);
        size_t ev = rg->index[rg->first + j];
        if (st >= 200 && st < 300) {
            stored++;
        } else if (st == 409 && c->cfg->action == ACTION_CREATE && own_ids) {
            dup++; /* stored by an earlier attempt */
        } else if (st == 429 || st >= 500 || st == 0) {
            retried++;
            sluice_flush_event_retry(fl, ev);
        } else {
            failed++;
            sluice_flush_event_failed(fl, ev, item_why);
        }
    }
    es_bulk_free(&b);
    __atomic_fetch_add(&c->stored, stored, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->conflicts_ok, dup, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->retried_items, retried, __ATOMIC_RELAXED);
    __atomic_fetch_add(&c->failed_items, failed, __ATOMIC_RELAXED);
    return SLUICE_HTTP_BATCH_DONE;
}

static sluice_http_batch_verdict
es_response(void *ctx, sluice_flush *fl, const sluice_http_batch_range *rg,
            const sluice_http_response *r, char *why, size_t whylen)
{
    es_ctx *c = ctx;
    sluice_http_describe(why, whylen, r);
    if (r->status) {
        uv_mutex_lock(&c->hosts_lock);
        c->answered_at[rg->user] = sluice_time_now();
        uv_mutex_unlock(&c->hosts_lock);
    }
    if (r->status >= 200 && r->status < 300)
        return items(c, fl, rg, r, why, whylen);
    if (r->status == 413)
        return SLUICE_HTTP_BATCH_SPLIT;
    if (r->status == 429 || r->status == 408)
        return SLUICE_HTTP_BATCH_RETRY;
    if (r->error || r->status >= 500) {
        if (host_failed(c, rg->user, why)) {
            __atomic_fetch_add(&c->failovers, 1, __ATOMIC_RELAXED);
            return SLUICE_HTTP_BATCH_RESEND;
        }
        return SLUICE_HTTP_BATCH_RETRY;
    }
    sluice_error(c->ins, "%s answered %s; the bulk's %zu documents go to the dead letters",
                 c->cfg->hosts.v[rg->user], why, rg->last - rg->first);
    return SLUICE_HTTP_BATCH_FAIL;
}

static const sluice_http_batch_ops es_ops = {es_render, es_prepare, es_response};

/* ==== Life cycle ==== */

static void
es_exit(void *ctx)
{
    es_ctx *c = ctx;
    if (c->stored || c->failed_items || c->retried_items)
        sluice_info(c->ins, "%llu documents stored, %llu already there (409 on create), %llu "
                            "items retried, %llu failed; %llu bulks moved to another host",
                    (unsigned long long)c->stored, (unsigned long long)c->conflicts_ok,
                    (unsigned long long)c->retried_items, (unsigned long long)c->failed_items,
                    (unsigned long long)c->failovers);
    for (size_t h = 0; h < c->n_hosts; h++) {
        if (c->host_failures[h])
            sluice_info(c->ins, "%s failed %llu times", c->cfg->hosts.v[h],
                        (unsigned long long)c->host_failures[h]);
        free(c->urls[h]);
    }
    free(c->urls);
    free(c->down_until);
    free(c->answered_at);
    free(c->host_failures);
    name_template_free(c->index);
    sluice_http_batch_free(c->batch);
    if (c->n_hosts)
        uv_mutex_destroy(&c->hosts_lock);
    free(c);
}

static char *
url_for(const char *host, const char *pipeline)
{
    sluice_buf u = SLUICE_BUF_INIT;
    sluice_buf_url_base(&u, host);
    sluice_buf_append(&u, "/_bulk", 6);
    if (pipeline) {
        sluice_buf_append(&u, "?pipeline=", 10);
        sluice_buf_url_escape(&u, pipeline);
    }
    sluice_buf_putc(&u, '\0');
    return u.data;
}

static int
es_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const es_config *cfg = config;
    es_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    char err[256];
    if (!(c->index = name_template_parse(cfg->index, err, sizeof err))) {
        sluice_option_error(ins, "index", "%s", err);
        return SLUICE_ERROR;
    }
    if (cfg->id_key && cfg->generate_id) {
        sluice_option_error(ins, "generate_id", "id_key and generate_id: choose one");
        return SLUICE_ERROR;
    }
    if (cfg->id_fields.n && !cfg->generate_id) {
        sluice_option_error(ins, "id_fields", "id_fields is for generate_id: true");
        return SLUICE_ERROR;
    }
    if (cfg->hosts.n == 0) {
        sluice_option_error(ins, "hosts", "give at least one, e.g. http://127.0.0.1:9200");
        return SLUICE_ERROR;
    }
    c->n_hosts = cfg->hosts.n;
    uv_mutex_init(&c->hosts_lock);
    c->urls = sluice_calloc(c->n_hosts, sizeof *c->urls);
    c->down_until = sluice_calloc(c->n_hosts, sizeof *c->down_until);
    c->answered_at = sluice_calloc(c->n_hosts, sizeof *c->answered_at);
    c->host_failures = sluice_calloc(c->n_hosts, sizeof *c->host_failures);
    for (size_t h = 0; h < c->n_hosts; h++)
        c->urls[h] = url_for(cfg->hosts.v[h], cfg->pipeline);
    c->doc = (sluice_format_opts){SLUICE_FORMAT_JSON, *cfg->time_key ? cfg->time_key : NULL, NULL};
    c->batch = sluice_http_batch_new(&(sluice_http_batch_config){
        .ops = &es_ops,
        .ctx = c,
        .http = &cfg->http,
        .content_type = "application/x-ndjson",
        .auth_scheme = "ApiKey",
        .auth_token = cfg->api_key,
        .max_events = (size_t)cfg->bulk_max_events,
        .max_bytes = (size_t)cfg->bulk_max_bytes,
        .max_resends = (unsigned)c->n_hosts});
    return SLUICE_OK;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "elasticsearch",
    .description = "Index log events into Elasticsearch or OpenSearch with the Bulk API.",
    .options = es_options,
    .config_size = sizeof(es_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = es_init,
    .exit = es_exit,
    SLUICE_HTTP_BATCH_CALLBACKS,
};

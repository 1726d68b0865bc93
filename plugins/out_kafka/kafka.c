/* out_kafka: every event as a Kafka message, produced with librdkafka.
 *
 * A chunk is done only when every message's delivery report has come
 * back: reports with a transient error send those events to the core's
 * retry, permanent ones (message too large, authorization) to the dead
 * letters with librdkafka's error name; a success is only a success once
 * the brokers acknowledged it (acks: all with the idempotent producer by
 * default). librdkafka's bounded queue answering "full" makes the flush
 * wait and go on where it stopped: backpressure, never a loss.
 *
 * Each worker owns a producer and serves its delivery reports on the
 * worker's loop: librdkafka signals a pipe when its queue has something
 * (rd_kafka_queue_io_event_enable), and a timer polls as a safety net. A
 * fatal producer error (the idempotent producer lost its sequence) fails
 * what was outstanding as transient, and the producer is made anew before
 * the next flush. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <sluice/sluice.h>

#include "kafka_conf.h"
#include "kafka_message.h"
#include "name_template.h"

static const char *const format_names[] = {"json", "msgpack", "raw", NULL};
static const char *const compression_names[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};
static const char *const acks_names[] = {"all", "1", "0", NULL};

typedef struct kafka_config {
    sluice_strlist brokers;
    char *topic;
    char *key;
    int format;
    char *field;
    int compression;
    int acks;
    int idempotence;
    int64_t linger, message_timeout, max_queue_messages, max_queue_bytes;
    sluice_bytes rdkafka;
} kafka_config;

static const sluice_option kafka_options[] = {
    {.name = "brokers", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(kafka_config, brokers),
     .help = "Bootstrap brokers, host:port (bootstrap.servers)."},
    {.name = "topic", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED | SLUICE_OPT_FIELDS,
     .offset = offsetof(kafka_config, topic),
     .help = "The topic; %{field} takes it from the event (write $${field} for the ${field} "
             "form), %Y %m %d %H from its time. Characters Kafka refuses become _."},
    {.name = "key", .type = SLUICE_OPT_STR, .offset = offsetof(kafka_config, key),
     .help = "A field whose value is the message key: the events of one key keep their order "
             "(one partition). Unset: no key, messages spread over the partitions."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "json", .values = format_names,
     .offset = offsetof(kafka_config, format),
     .help = "json: the event's fields as one JSON object; msgpack: as MessagePack (the kafka "
             "input rebuilds either exactly, with the kind and time from the headers); raw: "
             "only the value of `field`."},
    {.name = "field", .type = SLUICE_OPT_STR, .def = "message",
     .offset = offsetof(kafka_config, field), .help = "format raw: the field sent."},
    {.name = "compression", .type = SLUICE_OPT_ENUM, .def = "lz4", .values = compression_names,
     .offset = offsetof(kafka_config, compression), .help = "Compression of message batches."},
    {.name = "acks", .type = SLUICE_OPT_ENUM, .def = "all", .values = acks_names,
     .offset = offsetof(kafka_config, acks),
     .help = "Brokers that must have a message before it counts as delivered: all (the "
             "in-sync replicas), 1 (the leader) or 0 (none: delivered once sent)."},
    {.name = "idempotence", .type = SLUICE_OPT_BOOL, .def = "true",
     .offset = offsetof(kafka_config, idempotence),
     .help = "The idempotent producer: retries inside librdkafka neither duplicate nor "
             "reorder messages. Needs acks: all."},
    {.name = "linger", .type = SLUICE_OPT_DURATION, .def = "5ms", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 900 * SLUICE_NSEC_PER_SEC, .offset = offsetof(kafka_config, linger),
     .help = "How long librdkafka waits to fill a batch (linger.ms)."},
    {.name = "message_timeout", .type = SLUICE_OPT_DURATION, .def = "30s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_SEC, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(kafka_config, message_timeout),
     .help = "A message not acknowledged within this fails and its chunk is retried "
             "(message.timeout.ms)."},
    {.name = "max_queue_messages", .type = SLUICE_OPT_INT, .def = "100000",
     .flags = SLUICE_OPT_RANGE, .min = 1000, .max = 10000000,
     .offset = offsetof(kafka_config, max_queue_messages),
     .help = "Messages librdkafka may hold per worker; beyond, flushes wait (backpressure)."},
    {.name = "max_queue_bytes", .type = SLUICE_OPT_SIZE, .def = "64MiB", .flags = SLUICE_OPT_RANGE,
     .min = 1 << 20, .max = (int64_t)2 << 30, .offset = offsetof(kafka_config, max_queue_bytes),
     .help = "Bytes librdkafka may hold per worker; beyond, flushes wait (backpressure)."},
    {.name = "rdkafka", .type = SLUICE_OPT_MAP, .def = "{}", .check = kafka_conf_check_map,
     .offset = offsetof(kafka_config, rdkafka),
     .help = "Any librdkafka property, e.g. {security.protocol: sasl_ssl, sasl.mechanisms: "
             "PLAIN}; set last, so it wins."},
    SLUICE_OPTIONS_END,
};

/* How often the worker polls librdkafka even without a signal. */
#define POLL_MS 100
/* How long a flush waits when librdkafka's queue is full. */
#define QUEUE_FULL_WAIT_MS 5
/* Topic handles a worker keeps, the most recently used first. */
#define TOPIC_CACHE 8

typedef struct kafka_ctx {
    sluice_instance *ins; /* first: librdkafka's log callback reads it */
    const kafka_config *cfg;
    name_template *topic;
    char *fixed_topic; /* a template with no field or time: rendered once */
    char brokers[1024];
    /* Counted by the workers (atomically), read by the engine thread. */
    uint64_t acked, queue_full, failed, retried;
} kafka_ctx;

#define COUNT(c, field, n) __atomic_fetch_add(&(c)->field, (n), __ATOMIC_RELAXED)

struct kafka_worker;

/* One chunk on its way: the messages produced so far and the reports
 * still to come. self[i] is message i's opaque, pointing back here. */
typedef struct kafka_flush {
    struct kafka_worker *w;
    sluice_flush *fl;
    sluice_event_iter it;
    size_t next;               /* index of the next event to produce */
    size_t produced, reported; /* messages handed to librdkafka, reports back */
    size_t total, retry, failed;
    size_t cap;                /* of self */
    int iterating;             /* events left to produce */
    char reason[320];          /* the first transient error */
    struct kafka_flush *prev, *next_flush;
    struct kafka_flush *wait_next; /* in the worker's wait queue */
    struct kafka_flush **self; /* [total] */
} kafka_flush;

typedef struct kafka_worker {
    sluice_instance *ins; /* first: librdkafka's log callback reads it */
    kafka_ctx *c;
    uv_loop_t *loop;
    rd_kafka_t *rk;
    int pipe[2];
    uv_poll_t signal;
    uv_timer_t poll_timer, full_timer;
    kafka_flush *flushes;   /* unfinished, newest first */
    /* Flushes with events still to produce, oldest first: the head met a
     * full queue and waits; the others wait behind it, in order. */
    kafka_flush *wait_head, *wait_tail;
    uint64_t acked;         /* acknowledgements not yet added to c->acked */
    int fatal;              /* the producer hit a fatal error */
    int exiting;
    int open_handles;       /* closing: freed when the last one closed */
    /* Spare slot arrays: a chunk's array is tens of KiB, and freeing one
     * makes glibc consolidate every small block librdkafka just freed. */
    struct kafka_flush **spare[4];
    size_t spare_cap[4], n_spare;
    /* Producing by handle spares librdkafka a topic lookup under its
     * write lock for every message. Handles belong to `rk`. */
    struct {
        char *name;
        rd_kafka_topic_t *rkt;
    } topics[TOPIC_CACHE];
    size_t n_topics;
    sluice_buf scratch, topic;
} kafka_worker;

/* ==== Delivery reports ==== */

/* Errors that sending again cannot cure. */
static int
permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return 1;
    default:
        return 0;
    }
}

static struct kafka_flush **
slots_get(kafka_worker *w, size_t n, size_t *cap)
{
    for (size_t i = 0; i < w->n_spare; i++)
        if (w->spare_cap[i] >= n) {
            struct kafka_flush **v = w->spare[i];
            *cap = w->spare_cap[i];
            w->n_spare--;
            w->spare[i] = w->spare[w->n_spare];
            w->spare_cap[i] = w->spare_cap[w->n_spare];
            return v;
        }
    *cap = n < 1024 ? 1024 : n;
    return sluice_malloc(*cap * sizeof(struct kafka_flush *));
}

static void
slots_put(kafka_worker *w, struct kafka_flush **v, size_t cap)
{
    if (w->n_spare < sizeof w->spare / sizeof *w->spare && !w->exiting) {
        w->spare[w->n_spare] = v;
        w->spare_cap[w->n_spare++] = cap;
    } else {
        free(v);
    }
}

static void
flush_finish(kafka_flush *f)
{
    kafka_worker *w = f->w;
    if (f->prev)
        f->prev->next_flush = f->next_flush;
    else
        w->flushes = f->next_flush;
    if (f->next_flush)
        f->next_flush->prev = f->prev;
    /* Only at exit can a flush still be in the wait queue. */
    for (kafka_flush **p = &w->wait_head; *p; p = &(*p)->wait_next)
        if (*p == f) {
            *p = f->wait_next;
            break;
        }
    w->wait_tail = NULL;
    for (kafka_flush *q = w->wait_head; q; q = q->wait_next)
        w->wait_tail = q;
    sluice_event_iter_destroy(&f->it);
    slots_put(w, f->self, f->cap);
    f->self = NULL;
    if (!w->exiting) {
        if (f->retry && f->retry == f->total)
            sluice_flush_done(f->fl, SLUICE_RETRY, f->reason);
        else
            sluice_flush_done(f->fl, SLUICE_OK, f->retry ? f->reason : NULL);
    }
    free(f);
}

/* Event `index` of the chunk failed for good: to the dead letters. */
static void
event_failed(kafka_flush *f, size_t index, const char *why)
{
    sluice_flush_event_failed(f->fl, index, why);
    f->failed++;
    COUNT(f->w->c, failed, 1);
}

/* A message's fate, with `index` its event's place in the chunk. */
static void
flush_report(kafka_flush *f, size_t index, rd_kafka_resp_err_t err, const char *what)
{
    if (!err)
        f->w->acked++; /* an atomic add per message was 2% of the CPU */
    if (err && !f->w->exiting) {
        char why[300];
        snprintf(why, sizeof why, "kafka %s: %s", rd_kafka_err2name(err), what);
        if (permanent(err)) {
            event_failed(f, index, why);
        } else {
            sluice_flush_event_retry(f->fl, index);
            COUNT(f->w->c, retried, 1);
            if (!f->retry++)
                snprintf(f->reason, sizeof f->reason, "%s", why);
        }
    }
    f->reported++;
    if (!f->iterating && f->reported == f->produced)
        flush_finish(f);
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    kafka_flush **slot = m->_private, *f = *slot;
    flush_report(f, (size_t)(slot - f->self), m->err,
                 m->err ? rd_kafka_err2str(m->err) : "");
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_worker *w = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, why, sizeof why);
        sluice_error(w->ins, "the producer failed for good (%s: %s): it is made anew and what "
                             "it had not delivered is sent again",
                     rd_kafka_err2name(fatal), why);
        w->fatal = 1;
        return;
    }
    /* Brokers down, transport errors: librdkafka retries by itself; the
     * messages fail through their reports once message_timeout passes. */
    sluice_warn(w->ins, "kafka %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Add the worker's acknowledgements to the instance's counter. */
static void
acked_publish(kafka_worker *w)
{
    COUNT(w->c, acked, w->acked);
    w->acked = 0;
}

/* Serve every report librdkafka has. */
static void
serve(kafka_worker *w)
{
    char drain[64];
    while (read(w->pipe[0], drain, sizeof drain) > 0)
        ;
    while (w->rk && rd_kafka_poll(w->rk, 0) > 0)
        ;
    acked_publish(w);
}

static void
on_signal(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    serve(h->data);
}

static int ensure_producer(kafka_worker *w, char *err, size_t errlen);

static void
on_poll_timer(uv_timer_t *t)
{
    kafka_worker *w = t->data;
    char err[512];
    if (w->wait_head && (w->fatal || !w->rk))
        ensure_producer(w, err, sizeof err); /* flushes wait for one */
    serve(w);
}

static void on_full_timer(uv_timer_t *t);

/* ==== Producing ==== */

static void
topic_append(sluice_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '-';
        sluice_buf_putc(out, ok ? ch : '_');
    }
}

/* The producer's handle of topic `name`, made on first use; NULL when
 * librdkafka refuses the name. */
static rd_kafka_topic_t *
topic_handle(kafka_worker *w, const char *name)
{
    size_t i = 0;
    while (i < w->n_topics && strcmp(w->topics[i].name, name) != 0)
        i++;
    if (i == w->n_topics) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(w->rk, name, NULL);
        if (!rkt)
            return NULL;
        if (w->n_topics == TOPIC_CACHE) {
            i = --w->n_topics;
            rd_kafka_topic_destroy(w->topics[i].rkt);
            free(w->topics[i].name);
        }
        i = w->n_topics++;
        w->topics[i].name = sluice_strdup(name);
        w->topics[i].rkt = rkt;
    }
    if (i > 0) { /* to the front */
        __typeof__(w->topics[0]) hit = w->topics[i];
        memmove(&w->topics[1], &w->topics[0], i * sizeof w->topics[0]);
        w->topics[0] = hit;
    }
    return w->topics[0].rkt;
}

static void
topic_handles_free(kafka_worker *w)
{
    while (w->n_topics) {
        w->n_topics--;
        rd_kafka_topic_destroy(w->topics[w->n_topics].rkt);
        free(w->topics[w->n_topics].name);
    }
}

/* Produce one event; 1: produced or failed for good, 0: the queue is
 * full (try it again later). */
static int
produce_one(kafka_flush *f, size_t index, const sluice_event *ev)
{
    kafka_worker *w = f->w;
    const kafka_config *cfg = w->c->cfg;
    char why[300];
    sluice_buf_reset(&w->scratch);
    const char *topic = w->c->fixed_topic;
    if (!topic) {
        sluice_buf_reset(&w->topic);
        if (name_template_render(w->c->topic, ev, topic_append, &w->topic, why, sizeof why) < 0) {
            event_failed(f, index, why);
            return 1;
        }
        sluice_buf_putc(&w->topic, '\0');
        topic = w->topic.data;
    }
    kafka_message m;
    if (kafka_message_build(&m, cfg->format, cfg->field, cfg->key, ev, &w->scratch, why,
                            sizeof why) < 0) {
        event_failed(f, index, why);
        return 1;
    }
    rd_kafka_topic_t *rkt = topic_handle(w, topic);
    if (!rkt) {
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        snprintf(why, sizeof why, "kafka %s: topic '%s': %s", rd_kafka_err2name(e), topic,
                 rd_kafka_err2str(e));
        event_failed(f, index, why);
        return 1;
    }
    /* A log event needs no kind header: what has none is a log event, as
     * from any other producer; a header costs librdkafka an allocation
     * per message and the broker thread its encoding. */
#define MESSAGE                                                                                   \
    RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),                                \
        RD_KAFKA_V_VALUE((void *)m.value, m.value_len), RD_KAFKA_V_KEY(m.key, m.key_len),         \
        RD_KAFKA_V_TIMESTAMP(ev->time / SLUICE_NSEC_PER_MSEC),                                    \
        RD_KAFKA_V_HEADER("sluice.time", m.time, (ssize_t)m.time_len),                            \
        RD_KAFKA_V_OPAQUE(&f->self[index])
    rd_kafka_resp_err_t err =
        sluice_flush_kind(f->fl) == SLUICE_EVENT_METRIC
            ? rd_kafka_producev(w->rk, MESSAGE, RD_KAFKA_V_HEADER("sluice.kind", "metric", 6),
                                RD_KAFKA_V_END)
            : rd_kafka_producev(w->rk, MESSAGE, RD_KAFKA_V_END);
#undef MESSAGE
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        COUNT(w->c, queue_full, 1);
        return 0;
    }
    if (err) {
        /* Refused at once (too large, bad topic name): never produced. */
        snprintf(why, sizeof why, "kafka %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        if (permanent(err) || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            event_failed(f, index, why);
        } else {
            sluice_flush_event_retry(f->fl, index);
            if (!f->retry++)
                snprintf(f->reason, sizeof f->reason, "%s", why);
        }
        return 1;
    }
    f->produced++;
    return 1;
}

/* Produce what is left of the chunk. 1: all of it; 0: the queue is full
 * (the same event is tried again later). */
static int
produce(kafka_flush *f)
{
    sluice_event ev;
    while (f->iterating) {
        size_t off = f->it.off;
        if (sluice_event_next(&f->it, &ev) <= 0) {
            f->iterating = 0;
            break;
        }
        if (!produce_one(f, f->next, &ev)) {
            f->it.off = off;
            return 0;
        }
        f->next++;
    }
    return 1;
}

/* Produce the waiting flushes in order; when the queue is full, try again
 * in a little while. */
static void
pump(kafka_worker *w)
{
    while (w->wait_head && w->rk) {
        kafka_flush *f = w->wait_head;
        if (!produce(f)) {
            uv_timer_start(&w->full_timer, on_full_timer, QUEUE_FULL_WAIT_MS, 0);
            return;
        }
        w->wait_head = f->wait_next;
        if (!w->wait_head)
            w->wait_tail = NULL;
        f->wait_next = NULL;
        if (f->reported == f->produced)
            flush_finish(f);
    }
}

static void
on_full_timer(uv_timer_t *t)
{
    kafka_worker *w = t->data;
    serve(w);
    pump(w);
}

/* ==== The producer ==== */

static rd_kafka_t *
producer_new(kafka_worker *w, char *err, size_t errlen)
{
    const kafka_config *cfg = w->c->cfg;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char num[32];
    int bad = kafka_conf_set(conf, "bootstrap.servers", w->c->brokers, err, errlen);
    bad = bad || kafka_conf_set(conf, "acks", cfg->acks == 0 ? "all" : acks_names[cfg->acks],
                                err, errlen);
    bad = bad || kafka_conf_set(conf, "enable.idempotence", cfg->idempotence ? "true" : "false",
                                err, errlen);
    bad = bad || kafka_conf_set(conf, "compression.codec", compression_names[cfg->compression],
                                err, errlen);
    snprintf(num, sizeof num, "%lld", (long long)(cfg->linger / SLUICE_NSEC_PER_MSEC));
    bad = bad || kafka_conf_set(conf, "linger.ms", num, err, errlen);
    snprintf(num, sizeof num, "%lld", (long long)(cfg->message_timeout / SLUICE_NSEC_PER_MSEC));
    bad = bad || kafka_conf_set(conf, "message.timeout.ms", num, err, errlen);
    snprintf(num, sizeof num, "%lld", (long long)cfg->max_queue_messages);
    bad = bad || kafka_conf_set(conf, "queue.buffering.max.messages", num, err, errlen);
    snprintf(num, sizeof num, "%lld", (long long)(cfg->max_queue_bytes / 1024));
    bad = bad || kafka_conf_set(conf, "queue.buffering.max.kbytes", num, err, errlen);
    bad = bad || kafka_conf_apply_map(conf, &cfg->rdkafka, err, errlen);
    /* A chunk is done when every message has its report: successes too. */
    bad = bad || kafka_conf_set(conf, "delivery.report.only.error", "false", err, errlen);
    if (bad) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    kafka_conf_log_to_sluice(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);
    rd_kafka_queue_io_event_enable(q, w->pipe[1], "1", 1);
    rd_kafka_queue_destroy(q);
    return rk;
}

/* Fail what the producer still holds as transient (purged: its reports
 * come back now) and destroy it. */
static void
producer_destroy(kafka_worker *w)
{
    if (!w->rk)
        return;
    rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(w->rk, 0);
    while (rd_kafka_outq_len(w->rk) > 0 && rd_kafka_poll(w->rk, 10) >= 0 && w->flushes)
        ;
    acked_publish(w);
    topic_handles_free(w);
    rd_kafka_destroy(w->rk);
    w->rk = NULL;
}

/* After a fatal error, a new producer; what the old one held has been
 * failed back as transient. Returns 0 when there is a producer. */
static int
ensure_producer(kafka_worker *w, char *err, size_t errlen)
{
    if (w->fatal && w->rk)
        producer_destroy(w);
    if (w->rk)
        return 0;
    if (!(w->rk = producer_new(w, err, errlen)))
        return -1;
    w->fatal = 0;
    sluice_info(w->ins, "a new producer replaces the one that failed");
    pump(w);
    return 0;
}

static void
worker_free(kafka_worker *w)
{
    while (w->n_spare)
        free(w->spare[--w->n_spare]);
    if (w->pipe[0] >= 0) {
        close(w->pipe[0]);
        close(w->pipe[1]);
    }
    sluice_buf_free(&w->scratch);
    sluice_buf_free(&w->topic);
    free(w);
}

static void
on_handle_closed(uv_handle_t *h)
{
    kafka_worker *w = h->data;
    if (--w->open_handles == 0)
        worker_free(w);
}

static int
kafka_worker_init(void *ctx, uv_loop_t *loop, void **wctx)
{
    kafka_ctx *c = ctx;
    kafka_worker *w = sluice_calloc(1, sizeof *w);
    w->ins = c->ins;
    w->c = c;
    w->loop = loop;
    w->pipe[0] = w->pipe[1] = -1;
    char err[512];
    if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        sluice_error(c->ins, "pipe: %s", strerror(errno));
        worker_free(w);
        return SLUICE_ERROR;
    }
    if (!(w->rk = producer_new(w, err, sizeof err))) {
        sluice_error(c->ins, "cannot make a producer: %s", err);
        worker_free(w);
        return SLUICE_ERROR;
    }
    uv_poll_init(loop, &w->signal, w->pipe[0]);
    uv_timer_init(loop, &w->poll_timer);
    uv_timer_init(loop, &w->full_timer);
    w->signal.data = w->poll_timer.data = w->full_timer.data = w;
    w->open_handles = 3;
    uv_poll_start(&w->signal, UV_READABLE, on_signal);
    uv_timer_start(&w->poll_timer, on_poll_timer, POLL_MS, POLL_MS);
    *wctx = w;
    return SLUICE_OK;
}

/* The core has given up on the flushes still here (shutdown): their
 * reports no longer reach it. Frees the worker once its handles closed. */
static void
kafka_worker_exit(void *wctx)
{
    kafka_worker *w = wctx;
    serve(w); /* reports already here are deliveries the core still counts */
    w->exiting = 1;
    producer_destroy(w);
    while (w->flushes)
        flush_finish(w->flushes);
    uv_close((uv_handle_t *)&w->signal, on_handle_closed);
    uv_close((uv_handle_t *)&w->poll_timer, on_handle_closed);
    uv_close((uv_handle_t *)&w->full_timer, on_handle_closed);
}

/* ==== The plugin ==== */

static void
kafka_flush_chunk(void *ctx, sluice_flush *fl)
{
    (void)ctx;
    kafka_worker *w = sluice_flush_worker(fl);
    char err[512];
    if (ensure_producer(w, err, sizeof err) < 0) {
        sluice_flush_done(fl, SLUICE_RETRY, err);
        return;
    }
    size_t n = sluice_flush_count(fl), len;
    const char *data = sluice_flush_data(fl, &len);
    kafka_flush *f = sluice_calloc(1, sizeof *f);
    f->w = w;
    f->fl = fl;
    f->total = n;
    f->iterating = 1;
    f->self = slots_get(w, n, &f->cap);
    for (size_t i = 0; i < n; i++)
        f->self[i] = f;
    sluice_event_iter_init(&f->it, data, len);
    f->next_flush = w->flushes;
    if (w->flushes)
        w->flushes->prev = f;
    w->flushes = f;
    if (w->wait_tail)
        w->wait_tail->wait_next = f;
    else
        w->wait_head = f;
    w->wait_tail = f;
    pump(w);
}

static int
kafka_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const kafka_config *cfg = config;
    kafka_ctx *c = sluice_calloc(1, sizeof *c);
    c->ins = ins;
    c->cfg = cfg;
    *ctxp = c;
    char err[512];
    if (!(c->topic = name_template_parse(cfg->topic, err, sizeof err))) {
        sluice_option_error(ins, "topic", "%s", err);
        return SLUICE_ERROR;
    }
    if (name_template_is_constant(c->topic)) {
        sluice_buf b = SLUICE_BUF_INIT;
        sluice_event none = {0};
        name_template_render(c->topic, &none, topic_append, &b, err, sizeof err);
        c->fixed_topic = sluice_strndup(b.data ? b.data : "", b.len);
        sluice_buf_free(&b);
    }
    if (cfg->linger >= cfg->message_timeout) {
        sluice_option_error(ins, "linger", "must be shorter than message_timeout");
        return SLUICE_ERROR;
    }
    size_t used = 0;
    for (size_t i = 0; i < cfg->brokers.n; i++) {
        int k = snprintf(c->brokers + used, sizeof c->brokers - used, "%s%s", i ? "," : "",
                         cfg->brokers.v[i]);
        if (k < 0 || (size_t)k >= sizeof c->brokers - used) {
            sluice_option_error(ins, "brokers", "too long a list of brokers");
            return SLUICE_ERROR;
        }
        used += (size_t)k;
    }
    if (cfg->idempotence && cfg->acks != 0) {
        sluice_option_error(ins, "idempotence",
                            "the idempotent producer needs acks: all (or set idempotence: false)");
        return SLUICE_ERROR;
    }
    /* Every property, as a producer would be made: validate finds them. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int bad = kafka_conf_set(conf, "compression.codec", compression_names[cfg->compression], err,
                             sizeof err) ||
              kafka_conf_apply_map(conf, &cfg->rdkafka, err, sizeof err);
    rd_kafka_conf_destroy(conf);
    if (bad) {
        sluice_option_error(ins, "rdkafka", "%s", err);
        return SLUICE_ERROR;
    }
    return SLUICE_OK;
}

static void
kafka_exit(void *ctx)
{
    kafka_ctx *c = ctx;
    if (c->acked || c->failed || c->retried)
        sluice_info(c->ins, "%llu messages acknowledged by the brokers, %llu failed for good, "
                            "%llu to be sent again; the queue was full %llu times (backpressure)",
                    (unsigned long long)c->acked, (unsigned long long)c->failed,
                    (unsigned long long)c->retried, (unsigned long long)c->queue_full);
    name_template_free(c->topic);
    free(c->fixed_topic);
    free(c);
}

enum { M_ACKED, M_FAILED, M_RETRIED, M_QUEUE_FULL };

static const sluice_metric_def kafka_metrics[] = {
    [M_ACKED] = {"acked_messages_total", "Messages the brokers acknowledged.", 1},
    [M_FAILED] = {"failed_messages_total", "Messages that failed for good (dead letters).", 1},
    [M_RETRIED] = {"retried_messages_total", "Messages that failed transiently, sent again.", 1},
    [M_QUEUE_FULL] = {"queue_full_total", "Times librdkafka's queue was full and a flush waited.",
                      1},
    {NULL, NULL, 0},
};

static double
kafka_metric(void *ctx, size_t i)
{
    kafka_ctx *c = ctx;
    uint64_t *v[] = {&c->acked, &c->failed, &c->retried, &c->queue_full};
    return i < sizeof v / sizeof *v ? (double)__atomic_load_n(v[i], __ATOMIC_RELAXED) : 0;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "kafka",
    .description = "Produce every event as a Kafka message; done once the brokers acknowledge.",
    .options = kafka_options,
    .config_size = sizeof(kafka_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = kafka_init,
    .exit = kafka_exit,
    .flush = kafka_flush_chunk,
    .worker_init = kafka_worker_init,
    .worker_exit = kafka_worker_exit,
    .metrics = kafka_metrics,
    .metric_value = kafka_metric,
};

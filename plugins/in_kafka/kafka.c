/* in_kafka: a Kafka consumer group member. Messages become events (the
 * kafka output's contract, kafka_decode.c); offsets are stored only once
 * the events are acknowledged downstream and committed by librdkafka's
 * auto commit, on a rebalance and at exit (kafka_offsets.c,
 * kafka_group.c), so a crash or a rebalance re-reads, never skips.
 *
 * The consumer is polled on the engine loop: librdkafka writes to a pipe
 * when its queue stops being empty (rd_kafka_queue_io_event_enable), and
 * the loop then takes messages in batches of batch_size, a token after
 * each, a few batches per loop turn. A slow timer polls too, so rebalances
 * and errors are served while the input is paused. Backpressure pauses
 * the fetching of every assigned partition; nothing is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka.h"
#include "kafka_conf.h"

/* Batches taken per loop turn before other handles get theirs. */
#define KIN_BATCHES_PER_TURN 8
/* The timer that polls when the pipe stays quiet (ms). */
#define KIN_TICK_MS 200
/* How long leaving the group may take at exit (ms). */
#define KIN_CLOSE_MS 5000

static const char *const format_names[] = {"json", "msgpack", "raw", NULL};
static const char *const start_names[] = {"earliest", "latest", NULL};

/* Properties the input sets itself; the rdkafka map may not. */
static const char *const owned_props[] = {"bootstrap.servers", "group.id",
                                          "enable.auto.offset.store", NULL};

static const sluice_option kin_options[] = {
    {.name = "brokers", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(kin_config, brokers),
     .help = "Bootstrap brokers, host:port (librdkafka's bootstrap.servers)."},
    {.name = "group_id", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(kin_config, group_id),
     .help = "Consumer group: instances with the same group share the partitions."},
    {.name = "topics", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(kin_config, topics),
     .help = "Topics to read: names, or regexes starting with ^ (e.g. \"^logs-.*\")."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "json", .values = format_names,
     .offset = offsetof(kin_config, format),
     .help = "Message values as the kafka output writes them: json (an object's members "
             "become the fields), msgpack (a map), or raw (the value in `message`)."},
    {.name = "start_from", .type = SLUICE_OPT_ENUM, .def = "earliest", .values = start_names,
     .offset = offsetof(kin_config, start_from),
     .help = "Where a group with no committed offset starts (auto.offset.reset)."},
    {.name = "batch_size", .type = SLUICE_OPT_INT, .def = "1000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 100000, .offset = offsetof(kin_config, batch_size),
     .help = "Messages taken from librdkafka at a time, and acknowledged together."},
    {.name = "rdkafka", .type = SLUICE_OPT_MAP, .offset = offsetof(kin_config, rdkafka),
     .check = kafka_conf_check_map,
     .help = "librdkafka consumer properties, passed through (e.g. session.timeout.ms, "
             "security.protocol); applied after the options above."},
    {.name = "topic_key", .type = SLUICE_OPT_STR, .offset = offsetof(kin_config, topic_key),
     .help = "If set, a field with the message's topic on every log event."},
    {.name = "partition_key", .type = SLUICE_OPT_STR,
     .offset = offsetof(kin_config, partition_key),
     .help = "If set, a field with the message's partition (an integer)."},
    {.name = "offset_key", .type = SLUICE_OPT_STR, .offset = offsetof(kin_config, offset_key),
     .help = "If set, a field with the message's offset (an integer)."},
    {.name = "key_field", .type = SLUICE_OPT_STR, .offset = offsetof(kin_config, key_field),
     .help = "If set, a field with the message's key, on messages that have one."},
    {.name = "headers_key", .type = SLUICE_OPT_STR, .offset = offsetof(kin_config, headers_key),
     .help = "If set, a field with the message's headers (a map of strings), on messages "
             "that have some."},
    SLUICE_OPTIONS_END,
};

/* ==== Polling ==== */

static void
consumer_error(kin_ctx *c, rd_kafka_resp_err_t err, const char *what)
{
    c->consumer_errors++;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(c->rk, why, sizeof why);
        sluice_error(c->ins, "the consumer failed for good (%s: %s): it reads nothing more; "
                             "restart sluice",
                     rd_kafka_err2name(fatal), why);
        return;
    }
    sluice_time_t now = sluice_time_now();
    if (now - c->last_error_log < 10 * SLUICE_NSEC_PER_SEC)
        return;
    c->last_error_log = now;
    sluice_warn(c->ins, "consumer: %s: %s (%llu errors so far)", rd_kafka_err2str(err), what,
                (unsigned long long)c->consumer_errors);
}

/* Emit one batch, then its token with each partition's highest offset. */
static void
emit_batch(kin_ctx *c, rd_kafka_message_t **msgs, size_t n)
{
    kin_mark marks[16];
    size_t n_marks = 0, emitted = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                consumer_error(c, m->err, m->rkt ? rd_kafka_topic_name(m->rkt) : "");
            continue;
        }
        c->parse_errors += (uint64_t)kin_decode_emit(c, m);
        emitted++;
        kin_part *p = c->last_part;
        if (!p || m->rkt != c->last_rkt || m->partition != p->partition) {
            p = kin_part_get(c, rd_kafka_topic_name(m->rkt), m->partition);
            c->last_rkt = m->rkt;
        }
        p->next = m->offset + 1;
        size_t k = 0;
        while (k < n_marks && marks[k].part != p)
            k++;
        if (k == n_marks) {
            /* More partitions in one batch than marks: close it here. */
            if (n_marks == sizeof marks / sizeof *marks) {
                kin_marks_push(c, marks, n_marks);
                n_marks = k = 0;
            }
            /* The partition's assignment now. One revoked during the call
             * that took its messages has gen 0: they are never stored, its
             * next owner reads them again. Messages of an assignment a
             * rebalance in the call replaced are not returned (librdkafka
             * purges the batch at the partition's version barrier). */
            marks[n_marks++] = (kin_mark){0, p, p->gen, 0, 0};
        }
        marks[k].offset = m->offset + 1;
        marks[k].count++;
    }
    c->messages += emitted;
    if (n_marks)
        kin_marks_push(c, marks, n_marks);
}

static void on_more(uv_idle_t *h);

static void
consume(kin_ctx *c)
{
    if (c->stopping)
        return;
    size_t want = (size_t)c->cfg->batch_size;
    for (int round = 0; round < KIN_BATCHES_PER_TURN; round++) {
        ssize_t n = rd_kafka_consume_batch_queue(c->queue, 0, c->batch, want);
        if (n > 0)
            emit_batch(c, c->batch, (size_t)n);
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(c->batch[i]);
        /* A short batch: the queue is empty, the pipe says when it is not.
         * Paused: no more batches until resumed. */
        if (n < (ssize_t)want || c->stopping || c->paused) {
            uv_idle_stop(&c->more);
            return;
        }
    }
    uv_idle_start(&c->more, on_more);
}

static void
on_more(uv_idle_t *h)
{
    consume(h->data);
}

static void
on_wake(uv_poll_t *h, int status, int events)
{
    kin_ctx *c = h->data;
    char buf[64];
    while (read(c->wake[0], buf, sizeof buf) > 0)
        ;
    consume(c);
}

static void
on_tick(uv_timer_t *h)
{
    consume(h->data);
}

/* ==== Lifecycle ==== */

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    consumer_error(opaque, (rd_kafka_resp_err_t)err, reason);
}

static int
owned_prop_in_map(kin_ctx *c)
{
    const sluice_bytes *map = &c->cfg->rdkafka;
    if (!map->len)
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int bad = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < up.data.via.map.size && !bad; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key;
            for (const char *const *o = owned_props; *o && k->type == MSGPACK_OBJECT_STR; o++) {
                if (strlen(*o) == k->via.str.size && !memcmp(*o, k->via.str.ptr, k->via.str.size)) {
                    sluice_option_error(c->ins, "rdkafka", "%s is the input's own: %s", *o,
                                        strcmp(*o, "enable.auto.offset.store") == 0
                                            ? "offsets are stored once events are acknowledged"
                                            : "use the option for it");
                    bad = 1;
                    break;
                }
            }
        }
    }
    msgpack_unpacked_destroy(&up);
    return bad;
}

static char *
join(const sluice_strlist *l)
{
    sluice_buf b = SLUICE_BUF_INIT;
    for (size_t i = 0; i < l->n; i++)
        sluice_buf_printf(&b, "%s%s", i ? "," : "", l->v[i]);
    sluice_buf_putc(&b, '\0');
    return b.data;
}

static rd_kafka_conf_t *
make_conf(kin_ctx *c)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char *brokers = join(&c->cfg->brokers);
    int rc = kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
    free(brokers);
    if (rc == 0)
        rc = kafka_conf_set(conf, "group.id", c->cfg->group_id, err, sizeof err);
    if (rc == 0)
        rc = kafka_conf_set(conf, "enable.auto.offset.store", "false", err, sizeof err);
    if (rc == 0)
        rc = kafka_conf_set(conf, "auto.offset.reset", start_names[c->cfg->start_from], err,
                            sizeof err);
    if (rc == 0)
        rc = kafka_conf_set(conf, "client.id", sluice_instance_id(c->ins), err, sizeof err);
    if (rc < 0) {
        sluice_option_error(c->ins, NULL, "%s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (kafka_conf_apply_map(conf, &c->cfg->rdkafka, err, sizeof err) < 0) {
        sluice_option_error(c->ins, "rdkafka", "%s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, c);
    kafka_conf_log_to_sluice(conf);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_rebalance_cb(conf, kin_rebalance);
    return conf;
}

static int
kin_init(sluice_instance *ins, const void *config, void **ctx)
{
    const kin_config *cfg = config;
    const sluice_added_field fields[] = {
        {NULL, "message"},           {NULL, "parse_error"},
        {"topic_key", cfg->topic_key}, {"partition_key", cfg->partition_key},
        {"offset_key", cfg->offset_key}, {"key_field", cfg->key_field},
        {"headers_key", cfg->headers_key}};
    if (sluice_check_added_fields(ins, fields, sizeof fields / sizeof *fields) != SLUICE_OK)
        return SLUICE_ERROR;
    kin_ctx *c = sluice_calloc(1, sizeof *c);
    *ctx = c;
    c->ins = ins;
    c->cfg = cfg;
    c->wake[0] = c->wake[1] = -1;
    msgpack_sbuffer_init(&c->scratch);
    if (owned_prop_in_map(c))
        return SLUICE_ERROR;
    rd_kafka_conf_t *conf = make_conf(c);
    if (!conf)
        return SLUICE_ERROR;
    if (sluice_instance_validating(ins)) {
        rd_kafka_conf_destroy(conf);
        return SLUICE_OK;
    }
    char err[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf); /* still ours when rd_kafka_new fails */
        sluice_error(ins, "cannot create the consumer: %s", err);
        return SLUICE_ERROR;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    c->batch = sluice_malloc((size_t)c->cfg->batch_size * sizeof *c->batch);
    return SLUICE_OK;
}

static int
kin_start(void *ctx)
{
    kin_ctx *c = ctx;
    uv_loop_t *loop = sluice_instance_loop(c->ins);
    c->em = sluice_input_emitter(c->ins);
    if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        sluice_error(c->ins, "pipe: %s", strerror(errno));
        return SLUICE_ERROR;
    }
    uv_poll_init(loop, &c->poll, c->wake[0]);
    uv_idle_init(loop, &c->more);
    uv_timer_init(loop, &c->tick);
    c->poll.data = c->more.data = c->tick.data = c;
    c->started = 1;
    rd_kafka_queue_io_event_enable(c->queue, c->wake[1], "1", 1);
    uv_poll_start(&c->poll, UV_READABLE, on_wake);
    uv_timer_start(&c->tick, on_tick, KIN_TICK_MS, KIN_TICK_MS);

    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)c->cfg->topics.n);
    for (size_t i = 0; i < c->cfg->topics.n; i++)
        rd_kafka_topic_partition_list_add(topics, c->cfg->topics.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        sluice_option_error(c->ins, "topics", "cannot subscribe: %s", rd_kafka_err2str(err));
        return SLUICE_ERROR;
    }
    sluice_info(c->ins, "joining group %s for %zu topics", c->cfg->group_id, c->cfg->topics.n);
    consume(c);
    return SLUICE_OK;
}

static void
kin_pause(void *ctx)
{
    kin_ctx *c = ctx;
    if (c->rk)
        kin_set_paused(c, 1);
}

static void
kin_resume(void *ctx)
{
    kin_ctx *c = ctx;
    if (c->rk)
        kin_set_paused(c, 0);
    consume(c);
}

/* Stop reading; the consumer stays in its group until exit, so that the
 * acknowledgements of what is still being delivered store their offsets. */
static void
kin_stop(void *ctx)
{
    kin_ctx *c = ctx;
    c->stopping = 1;
    if (!c->started)
        return;
    rd_kafka_queue_io_event_enable(c->queue, -1, NULL, 0);
    uv_close((uv_handle_t *)&c->poll, NULL);
    uv_close((uv_handle_t *)&c->more, NULL);
    uv_close((uv_handle_t *)&c->tick, NULL);
}

static void
kin_ack(void *ctx, uint64_t token)
{
    kin_offsets_ack(ctx, token);
}

/* Leave the group, committing what is stored, but give up after
 * KIN_CLOSE_MS: with the coordinator unreachable librdkafka would wait
 * for the session to expire, twice. What is not committed is read again. */
static void
close_consumer(kin_ctx *c)
{
    c->closing = 1;
    kin_commit(c, "exit");
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_error_t *error = rd_kafka_consumer_close_queue(c->rk, q);
    int closed = 0;
    if (error) {
        sluice_warn(c->ins, "leaving the group: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else {
        uint64_t deadline = uv_hrtime() + (uint64_t)KIN_CLOSE_MS * 1000000;
        while (!(closed = rd_kafka_consumer_closed(c->rk)) && uv_hrtime() < deadline) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
            if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                kin_rebalance(c->rk, rd_kafka_event_error(ev),
                              rd_kafka_event_topic_partition_list(ev), c);
            if (ev)
                rd_kafka_event_destroy(ev);
        }
        if (!closed)
            sluice_warn(c->ins, "could not leave the group within %d ms: the brokers do not "
                                "answer; the group rebalances once the session times out",
                        KIN_CLOSE_MS);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_destroy_flags(c->rk, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

static void
kin_exit(void *ctx)
{
    kin_ctx *c = ctx;
    if (c->rk)
        close_consumer(c);
    if (c->messages || c->parse_errors)
        sluice_info(c->ins, "read %llu messages, %llu not in the expected format; %llu "
                            "rebalances",
                    (unsigned long long)c->messages, (unsigned long long)c->parse_errors,
                    (unsigned long long)c->rebalances);
    for (int i = 0; i < 2; i++)
        if (c->wake[i] >= 0)
            close(c->wake[i]);
    kin_offsets_free(c);
    msgpack_sbuffer_destroy(&c->scratch);
    free(c->batch);
    free(c);
}

/* ==== Metrics ==== */

enum { M_MESSAGES, M_PARSE_ERRORS, M_ERRORS, M_PARTITIONS, M_LAG, M_UNACKED, M_REBALANCES };

static const sluice_metric_def kin_metrics[] = {
    [M_MESSAGES] = {"messages_total", "Messages read.", 1},
    [M_PARSE_ERRORS] = {"parse_errors_total",
                        "Messages not in the expected format (kept with parse_error: true).", 1},
    [M_ERRORS] = {"consumer_errors_total", "Errors the consumer reported.", 1},
    [M_PARTITIONS] = {"partitions", "Partitions assigned to this consumer.", 0},
    [M_LAG] = {"lag_messages",
               "Messages in the assigned partitions not read yet (from the last fetch's high "
               "watermarks).",
               0},
    [M_UNACKED] = {"unacked_messages",
                   "Messages read and not acknowledged downstream yet (their offsets are not "
                   "stored).",
                   0},
    [M_REBALANCES] = {"rebalances_total", "Assignments and revocations.", 1},
    {NULL, NULL, 0},
};

static double
kin_metric(void *ctx, size_t i)
{
    kin_ctx *c = ctx;
    double n = 0;
    switch (i) {
    case M_MESSAGES: return (double)c->messages;
    case M_PARSE_ERRORS: return (double)c->parse_errors;
    case M_ERRORS: return (double)c->consumer_errors;
    case M_REBALANCES: return (double)c->rebalances;
    }
    for (size_t k = 0; k < c->n_parts; k++) {
        const kin_part *p = c->parts[k];
        if (!p->gen)
            continue;
        int64_t lo, hi;
        if (i == M_PARTITIONS)
            n++;
        else if (i == M_UNACKED)
            n += (double)p->unacked;
        else if (c->rk && p->next >= 0 &&
                 rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) == 0 &&
                 hi > p->next)
            n += (double)(hi - p->next);
    }
    return n;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_ALL,
    .name = "kafka",
    .description = "Consume Kafka topics in a consumer group; offsets committed only once "
                   "events are delivered.",
    .options = kin_options,
    .config_size = sizeof(kin_config),
    .init = kin_init,
    .start = kin_start,
    .pause = kin_pause,
    .resume = kin_resume,
    .stop = kin_stop,
    .exit = kin_exit,
    .ack = kin_ack,
    .metrics = kin_metrics,
    .metric_value = kin_metric,
};

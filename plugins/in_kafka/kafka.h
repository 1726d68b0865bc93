/* in_kafka's shared state: configuration, the consumer, the partitions it
 * owns and the offsets waiting for their events' acknowledgement. */
#ifndef IN_KAFKA_H
#define IN_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <sluice/sluice.h>

enum { KIN_JSON, KIN_MSGPACK, KIN_RAW };
enum { KIN_EARLIEST, KIN_LATEST };

typedef struct kin_config {
    sluice_strlist brokers, topics;
    char *group_id;
    int format;
    int start_from;
    int64_t batch_size;
    sluice_bytes rdkafka;
    /* Fields added to log events, when set. */
    char *topic_key, *partition_key, *offset_key, *key_field, *headers_key;
} kin_config;

/* A partition the consumer owns or has owned. `gen` is the assignment it
 * belongs to (0: not owned now), so that an acknowledgement arriving after
 * a rebalance stores nothing for a partition given away meanwhile. */
typedef struct kin_part {
    char *topic;
    int32_t partition;
    uint64_t gen;
    int64_t next;    /* offset after the last message read; -1: none yet */
    int64_t stored;  /* offset last stored (next to read after a restart) */
    uint64_t unacked; /* messages emitted and not acknowledged yet */
} kin_part;

/* One partition's highest offset (+1) in one batch, stored once the
 * batch's token is acknowledged. */
typedef struct kin_mark {
    uint64_t token;
    kin_part *part;
    uint64_t gen;
    int64_t offset;
    uint64_t count;
} kin_mark;

typedef struct kin_ctx {
    /* First member: librdkafka's log lines find the instance here. */
    sluice_instance *ins;
    const kin_config *cfg;
    sluice_emitter *em;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int cooperative;

    /* Polling: the queue writes to wake[1] when it stops being empty. */
    int wake[2];
    uv_poll_t poll;
    uv_idle_t more;
    uv_timer_t tick;
    int started, stopping, paused, closing;

    /* Partitions, and marks in token order (a ring). */
    kin_part **parts;
    size_t n_parts, cap_parts;
    kin_part *last_part;  /* the partition of the last message, and its topic */
    const rd_kafka_topic_t *last_rkt;
    uint64_t next_gen;
    kin_mark *marks;
    size_t marks_head, marks_len, marks_cap;
    uint64_t next_token;

    rd_kafka_message_t **batch;
    msgpack_sbuffer scratch;

    /* Counters. */
    uint64_t messages, parse_errors, consumer_errors, rebalances, commit_errors;
    sluice_time_t last_parse_log, last_error_log;
} kin_ctx;

/* kafka_offsets.c */
kin_part *kin_part_get(kin_ctx *c, const char *topic, int32_t partition);
/* Queue the marks of one emitted batch under a new token and emit it. */
void kin_marks_push(kin_ctx *c, kin_mark *marks, size_t n);
/* Everything emitted up to `token` is safe: store its offsets. */
void kin_offsets_ack(kin_ctx *c, uint64_t token);
void kin_offsets_free(kin_ctx *c);

/* kafka_group.c: the rebalance callback, and pausing the assignment. */
void kin_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                   rd_kafka_topic_partition_list_t *parts, void *opaque);
void kin_set_paused(kin_ctx *c, int paused);
/* Commit the stored offsets now (synchronously, but asynchronously once
 * closing, so that an unreachable coordinator cannot hold the exit); logs
 * what failed. */
void kin_commit(kin_ctx *c, const char *why);

/* kafka_decode.c: emit one message as one event; returns 1 when its value
 * could not be read as `format` says (kept as a message, flagged). */
int kin_decode_emit(kin_ctx *c, const rd_kafka_message_t *m);

#endif

/* From acknowledged events to stored offsets.
 *
 * Each batch of messages emitted is followed by a token, and the batch's
 * highest offset in each partition is queued under it as a mark. The core
 * acknowledges tokens in order, each covering every event emitted before
 * it, so when a mark's token is acknowledged every message of its
 * partition below the mark is acknowledged too: storing the mark keeps
 * the stored offset contiguous. A mark made in an earlier assignment of
 * its partition (gen) is dropped: the partition may be read by another
 * consumer now, or again from its committed offset by this one. */
#include <stdlib.h>
#include <string.h>

#include "kafka.h"

kin_part *
kin_part_get(kin_ctx *c, const char *topic, int32_t partition)
{
    kin_part *p = c->last_part;
    if (p && p->partition == partition && strcmp(p->topic, topic) == 0)
        return p;
    for (size_t i = 0; i < c->n_parts; i++) {
        p = c->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return c->last_part = p;
    }
    if (c->n_parts == c->cap_parts) {
        c->cap_parts = c->cap_parts ? c->cap_parts * 2 : 16;
        c->parts = sluice_realloc(c->parts, c->cap_parts * sizeof *c->parts);
    }
    p = sluice_calloc(1, sizeof *p);
    p->topic = sluice_strdup(topic);
    p->partition = partition;
    p->next = -1;
    p->stored = -1;
    c->parts[c->n_parts++] = p;
    return c->last_part = p;
}

static void
marks_grow(kin_ctx *c, size_t extra)
{
    if (c->marks_len + extra <= c->marks_cap)
        return;
    size_t cap = c->marks_cap ? c->marks_cap : 64;
    while (cap < c->marks_len + extra)
        cap *= 2;
    kin_mark *v = sluice_malloc(cap * sizeof *v);
    for (size_t i = 0; i < c->marks_len; i++)
        v[i] = c->marks[(c->marks_head + i) % c->marks_cap];
    free(c->marks);
    c->marks = v;
    c->marks_cap = cap;
    c->marks_head = 0;
}

void
kin_marks_push(kin_ctx *c, kin_mark *marks, size_t n)
{
    uint64_t token = ++c->next_token;
    marks_grow(c, n);
    for (size_t i = 0; i < n; i++) {
        marks[i].token = token;
        if (marks[i].gen && marks[i].gen == marks[i].part->gen)
            marks[i].part->unacked += marks[i].count;
        c->marks[(c->marks_head + c->marks_len++) % c->marks_cap] = marks[i];
    }
    sluice_emit_token(c->em, token);
}

void
kin_offsets_ack(kin_ctx *c, uint64_t token)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    while (c->marks_len && c->marks[c->marks_head].token <= token) {
        kin_mark m = c->marks[c->marks_head];
        c->marks_head = (c->marks_head + 1) % c->marks_cap;
        c->marks_len--;
        if (m.gen != m.part->gen || m.gen == 0)
            continue;
        m.part->unacked -= m.part->unacked < m.count ? m.part->unacked : m.count;
        if (m.offset <= m.part->stored)
            continue;
        m.part->stored = m.offset;
        if (!l)
            l = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
            l, m.part->topic, m.part->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(l, m.part->topic, m.part->partition);
        tp->offset = m.offset;
    }
    if (!l)
        return;
    /* librdkafka refuses offsets of partitions it no longer has assigned
     * (a rebalance it has not told us about yet): they are read again. */
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
    if (err && err != RD_KAFKA_RESP_ERR__STATE)
        sluice_warn(c->ins, "cannot store offsets: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

void
kin_offsets_free(kin_ctx *c)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        free(c->parts[i]->topic);
        free(c->parts[i]);
    }
    free(c->parts);
    free(c->marks);
}

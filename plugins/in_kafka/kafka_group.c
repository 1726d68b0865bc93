/* The consumer group side of in_kafka: rebalances and pausing.
 *
 * On a revocation the offsets stored so far (acknowledged events only) are
 * committed at once, and the marks still waiting for their tokens are
 * forgotten: their messages are read again by whoever gets the partition,
 * never skipped. Lost partitions (the session expired) cannot be committed;
 * they are only forgotten. A partition assigned while the input is paused
 * by backpressure is paused at once. Both the eager and the cooperative
 * (partition.assignment.strategy: cooperative-sticky) protocols work. */
#include <string.h>

#include "kafka.h"

void
kin_commit(kin_ctx *c, const char *why)
{
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, c->closing);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        c->commit_errors++;
        sluice_warn(c->ins, "cannot commit offsets (%s): %s; the events after the last "
                            "committed offsets will be read again",
                    why, rd_kafka_err2str(err));
    }
}

static void
assigned(kin_ctx *c, rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        kin_part *p = kin_part_get(c, parts->elems[i].topic, parts->elems[i].partition);
        p->gen = ++c->next_gen;
        p->next = -1;
        p->stored = -1;
        p->unacked = 0;
    }
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t err = 0;
    if (c->cooperative)
        error = rd_kafka_incremental_assign(c->rk, parts);
    else
        err = rd_kafka_assign(c->rk, parts);
    if (error) {
        sluice_error(c->ins, "cannot take partitions: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (err) {
        sluice_error(c->ins, "cannot take partitions: %s", rd_kafka_err2str(err));
    }
    if (c->paused && parts->cnt)
        rd_kafka_pause_partitions(c->rk, parts);
    sluice_info(c->ins, "assigned %d partitions", parts->cnt);
}

/* Commit what is stored of the partitions given up, without waiting: a
 * coordinator slow to answer must not hold the engine's loop. */
static void
commit_revoked(kin_ctx *c, const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        kin_part *p = kin_part_get(c, parts->elems[i].topic, parts->elems[i].partition);
        if (p->stored >= 0)
            rd_kafka_topic_partition_list_add(l, parts->elems[i].topic, p->partition)->offset =
                p->stored;
    }
    rd_kafka_resp_err_t err = l->cnt ? rd_kafka_commit(c->rk, l, 1) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err) {
        c->commit_errors++;
        sluice_warn(c->ins, "cannot commit the offsets of partitions given up: %s; their "
                            "events after the last committed offsets will be read again",
                    rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void
revoked(kin_ctx *c, rd_kafka_topic_partition_list_t *parts)
{
    int lost = rd_kafka_assignment_lost(c->rk);
    if (!lost)
        commit_revoked(c, parts);
    for (int i = 0; i < parts->cnt; i++) {
        kin_part *p = kin_part_get(c, parts->elems[i].topic, parts->elems[i].partition);
        p->gen = 0;
        p->unacked = 0;
    }
    if (c->cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(c->rk, parts);
        if (error) {
            sluice_warn(c->ins, "cannot give partitions up: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_assign(c->rk, NULL);
    }
    sluice_info(c->ins, "%s %d partitions", lost ? "lost" : "revoked", parts->cnt);
}

void
kin_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
              void *opaque)
{
    kin_ctx *c = opaque;
    c->rebalances++;
    /* Known only once the group is joined. */
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    c->cooperative = protocol && strcmp(protocol, "COOPERATIVE") == 0;
    c->last_part = NULL;
    c->last_rkt = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assigned(c, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        revoked(c, parts);
    } else {
        sluice_error(c->ins, "rebalance failed: %s", rd_kafka_err2str(err));
        revoked(c, parts);
    }
}

void
kin_set_paused(kin_ctx *c, int paused)
{
    c->paused = paused;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l)
        return;
    if (l->cnt) {
        rd_kafka_resp_err_t err = paused ? rd_kafka_pause_partitions(c->rk, l)
                                         : rd_kafka_resume_partitions(c->rk, l);
        if (err)
            sluice_warn(c->ins, "cannot %s fetching: %s", paused ? "pause" : "resume",
                        rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

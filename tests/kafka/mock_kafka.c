/* A Kafka cluster for the tests: librdkafka's mock brokers, in a process of
 * their own so that sluice processes (agents, aggregators, killed and
 * restarted) all use one cluster. Not a real Kafka (none is packaged for
 * Debian 12); librdkafka's mock speaks the protocol, including consumer
 * groups and idempotent producers, and injects failures on command.
 *
 *   mock_kafka BOOTSTRAP_FILE BROKERS
 *
 * writes "host:port,..." to BOOTSTRAP_FILE (atomically) once listening,
 * then reads commands from stdin, one per line, answering "ok" or
 * "error: ..." on stdout:
 *   topic NAME PARTITIONS         create a topic
 *   down BROKER | up BROKER       take a broker (1..BROKERS) down or up
 *   errors API COUNT CODE         fail the next COUNT requests of the API
 *                                 (0 Produce, 1 Fetch, 8 OffsetCommit...)
 *                                 with the error CODE (e.g. 6, 7, 10)
 *   rtt BROKER MS                 delay a broker's answers
 *   uncommitted GROUP TOPIC       answer "ok N": the messages of TOPIC
 *                                 after GROUP's committed offsets (asked
 *                                 as a client outside the group, so the
 *                                 group does not rebalance)
 * and exits at the end of stdin or on SIGTERM. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sum over TOPIC's partitions of high watermark minus GROUP's committed
 * offset (the low watermark where none is committed); -1 on an error. */
static long long
uncommitted(rd_kafka_mock_cluster_t *mc, const char *group, const char *topic)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc), err,
                          sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        return -1;
    long long sum = -1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == 0 && md->topic_cnt == 1 &&
        !md->topics[0].err) {
        int n = md->topics[0].partition_cnt;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id);
        if (rd_kafka_committed(rk, l, 5000) == 0) {
            sum = 0;
            for (int i = 0; i < l->cnt && sum >= 0; i++) {
                int64_t lo, hi;
                if (l->elems[i].err || rd_kafka_query_watermark_offsets(
                                           rk, topic, l->elems[i].partition, &lo, &hi, 5000))
                    sum = -1;
                else
                    sum += hi - (l->elems[i].offset >= 0 ? l->elems[i].offset : lo);
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return sum;
}

static int
command(rd_kafka_mock_cluster_t *mc, const char *line)
{
    char name[256];
    int a, b, c;
    if (sscanf(line, "topic %255s %d", name, &a) == 2)
        return rd_kafka_mock_topic_create(mc, name, a, 1) ? -1 : 0;
    if (sscanf(line, "down %d", &a) == 1)
        return rd_kafka_mock_broker_set_down(mc, a) ? -1 : 0;
    if (sscanf(line, "up %d", &a) == 1)
        return rd_kafka_mock_broker_set_up(mc, a) ? -1 : 0;
    if (sscanf(line, "rtt %d %d", &a, &b) == 2)
        return rd_kafka_mock_broker_set_rtt(mc, a, b) ? -1 : 0;
    if (sscanf(line, "errors %d %d %d", &a, &b, &c) == 3) {
        rd_kafka_resp_err_t *errs = calloc((size_t)b, sizeof *errs);
        for (int i = 0; i < b; i++)
            errs[i] = (rd_kafka_resp_err_t)c;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, errs);
        free(errs);
        return 0;
    }
    return -1;
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP_FILE BROKERS\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock_kafka: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, atoi(argv[2]));
    if (!mc) {
        fprintf(stderr, "mock_kafka: no mock cluster\n");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    char line[512];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0])
            continue;
        char group[256], topic[256];
        if (sscanf(line, "uncommitted %255s %255s", group, topic) == 2) {
            long long n = uncommitted(mc, group, topic);
            if (n >= 0)
                printf("ok %lld\n", n);
            else
                printf("error: cannot read the offsets of '%s' in '%s'\n", group, topic);
        } else if (command(mc, line) == 0)
            printf("ok\n");
        else
            printf("error: cannot do '%s'\n", line);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

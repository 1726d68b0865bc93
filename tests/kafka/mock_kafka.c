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
 * and exits at the end of stdin or on SIGTERM. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        if (command(mc, line) == 0)
            printf("ok\n");
        else
            printf("error: cannot do '%s'\n", line);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

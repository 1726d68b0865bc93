/* The engine end to end in-process: dummy -> filters -> outputs with
 * retries, fan-out, events of two kinds, backpressure and shutdown flushes,
 * using the test plugins in tests/unit/plugins. */
#include <check.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pipeline.h"
#include "testutil.h"
#include "xalloc.h"

typedef struct run_state {
    engine *e;
    uint64_t want;  /* stop once every output has delivered this many events */
    uint64_t ticks; /* 10 ms each */
} run_state;

static void
on_tick(uv_timer_t *t)
{
    run_state *rs = t->data;
    int done = 1;
    for (size_t i = 0; i < rs->e->n_outputs; i++)
        if (rs->e->outputs[i]->delivered_events < rs->want)
            done = 0;
    /* Not before every input emitted all it will (a slow machine may not
     * have run dummy's first turn yet). */
    for (size_t i = 0; i < rs->e->n_pipelines; i++)
        if (rs->e->pipelines[i]->inputs_done < rs->e->pipelines[i]->n_inputs)
            done = 0;
    if (done || ++rs->ticks > 3000) {
        uv_close((uv_handle_t *)t, NULL);
        engine_stop(rs->e);
    }
}

/* Load `yaml`, run it until every output has `want` events, stop. */
static void
run_config(const char *yaml, uint64_t want, sluice_config *cfg, engine *e)
{
    char *dir = test_tmpdir();
    char *full = xasprintf("service:\n  http: off\n  plugins_path: [%s]\n%s",
                           SLUICE_TEST_PLUGIN_DIR, yaml);
    char *path = test_write(dir, "t.yaml", full);
    cfg_errors errs = {0};
    int r = config_load(cfg, path, SLUICE_BUILTIN_PLUGIN_DIR, &errs);
    cfg_errors_print(&errs, stderr);
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(engine_create(e, cfg, &errs, 0), 0);
    cfg_errors_free(&errs);
    uv_timer_t t;
    run_state rs = {e, want, 0};
    uv_timer_init(&e->loop, &t);
    t.data = &rs;
    uv_timer_start(&t, on_tick, 10, 10);
    ck_assert_int_eq(engine_run(e), 0);
    ck_assert_msg(rs.ticks <= 3000, "timed out waiting for delivery");
    free(full);
    free(path);
    test_rmdir(dir);
    free(dir);
}

static void *
plugin_symbol(const sluice_config *cfg, const char *plugin, const char *name)
{
    for (size_t i = 0; i < cfg->registry.n_loaded; i++)
        if (strcmp(cfg->registry.loaded[i]->desc.name, plugin) == 0)
            return dlsym(cfg->registry.loaded[i]->dl, name);
    return NULL;
}

static void *
flaky_symbol(const sluice_config *cfg, const char *name)
{
    return plugin_symbol(cfg, "flaky", name);
}

typedef struct ack_result {
    uint64_t acks, last;
    int ordered;
} ack_result;

static ack_result
acker_result(const sluice_config *cfg)
{
    uint64_t (*acks)(void) = (uint64_t(*)(void))plugin_symbol(cfg, "acker", "acker_acks");
    uint64_t (*last)(void) = (uint64_t(*)(void))plugin_symbol(cfg, "acker", "acker_last_token");
    int (*ordered)(void) = (int (*)(void))plugin_symbol(cfg, "acker", "acker_ordered");
    ck_assert_ptr_nonnull(acks);
    return (ack_result){acks(), last(), ordered()};
}

START_TEST(test_engine_filters_retries_and_kinds)
{
    sluice_config cfg;
    engine e;
    run_config("  chunk_size: 4KiB\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 20000}]\n"
               "    filters: [{type: drop_odd}]\n"
               "    outputs:\n"
               "      - {type: flaky, fail_attempts: 2, retry: {initial_backoff: 1ms}}\n"
               "      - {type: flaky, fail_attempts: 0, id: second, workers: 3}\n",
               10000, &cfg, &e);
    unsigned (*seen)(uint64_t) = (unsigned (*)(uint64_t))flaky_symbol(&cfg, "flaky_seen");
    unsigned long long (*metrics)(void) =
        (unsigned long long (*)(void))flaky_symbol(&cfg, "flaky_metric_events");
    ck_assert_ptr_nonnull(seen);
    /* Both outputs got every even seq once, and no odd one. */
    for (uint64_t s = 0; s < 20000; s++)
        ck_assert_msg(seen(s) == ((s & 1) ? 0u : 2u), "seq %llu seen %u times",
                      (unsigned long long)s, seen(s));
    /* Each output also got every metric event the filter made. */
    ck_assert_uint_gt(metrics(), 0);
    ck_assert_uint_eq(metrics() % 2, 0);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 10000 + metrics() / 2);
    ck_assert_uint_eq(e.outputs[1]->delivered_events, 10000 + metrics() / 2);
    ck_assert_uint_eq(e.outputs[0]->failed_events, 0);
    /* Every chunk of the first output failed twice before it was taken. */
    ck_assert_uint_eq(e.outputs[0]->retries, 2 * e.outputs[0]->delivered_chunks);
    ck_assert_uint_eq(e.outputs[1]->retries, 0);
    ck_assert_uint_eq(e.pipelines[0]->inputs[0]->events_in, 20000);
    ck_assert_uint_eq(e.pipelines[0]->filters[0]->events_in, 20000);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_ordered_output)
{
    /* Three workers and a failed first attempt of every other chunk: an
     * ORDERED output still gets every chunk once, one at a time, in order. */
    sluice_config cfg;
    engine e;
    run_config("  chunk_size: 4KiB\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 5000}]\n"
               "    outputs:\n"
               "      - {type: in_order, workers: 3, retry: {initial_backoff: 1ms, "
               "max_backoff: 5ms}}\n",
               5000, &cfg, &e);
    void (*stats)(unsigned long long *, unsigned long long *, int *) =
        (void (*)(unsigned long long *, unsigned long long *, int *))plugin_symbol(
            &cfg, "in_order", "in_order_stats");
    ck_assert_ptr_nonnull(stats);
    unsigned long long n, late;
    int overlapped;
    stats(&n, &late, &overlapped);
    ck_assert_uint_eq(n, 5000);
    ck_assert_uint_eq(late, 0);
    ck_assert_int_eq(overlapped, 0);
    ck_assert_uint_gt(e.outputs[0]->retries, 0);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_flushes_open_chunks_on_stop)
{
    /* flush_interval is far away: only the shutdown can close the chunk. */
    sluice_config cfg;
    engine e;
    run_config("  flush_interval: 1h\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 1000}]\n"
               "    outputs: [{type: null}]\n",
               0, &cfg, &e);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 1000);
    ck_assert_uint_eq(e.undelivered, 0);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_backpressure_pauses_inputs)
{
    sluice_config cfg;
    engine e;
    run_config("  chunk_size: 4KiB\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 50000}]\n"
               "    outputs:\n"
               "      - type: flaky\n"
               "        fail_attempts: 1\n"
               "        retry: {initial_backoff: 5ms}\n"
               "        buffer: {max_memory: 64KiB}\n",
               50000, &cfg, &e);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 50000);
    ck_assert_uint_gt(e.pipelines[0]->pauses, 0);
    ck_assert_uint_eq(e.outputs[0]->buf.held_bytes, 0);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_default_memory_follows_the_inputs)
{
    /* A window of 4 chunks where every input pauses without loss; 64 MiB
     * where one loses what comes while it is paused (UDP), and for a
     * filesystem buffer; what the configuration says, always. */
    char *dir = test_tmpdir();
    char *yaml = xasprintf("service:\n  http: off\n  chunk_size: 256KiB\n  plugins_path: [%s]\n"
                           "  storage: {path: %s/state}\n"
                           "pipelines:\n"
                           "  files:\n"
                           "    inputs: [{type: dummy}]\n"
                           "    outputs: [{type: null}, {type: null, buffer: {max_memory: 1MiB}},\n"
                           "              {type: null, buffer: {type: filesystem}}]\n"
                           "  udp:\n"
                           "    inputs: [{type: dummy}, {type: syslog, listen: [udp://127.0.0.1:5514]}]\n"
                           "    outputs: [{type: null}]\n",
                           SLUICE_TEST_PLUGIN_DIR, dir);
    char *path = test_write(dir, "t.yaml", yaml);
    sluice_config cfg;
    engine e;
    cfg_errors errs = {0};
    ck_assert_int_eq(config_load(&cfg, path, SLUICE_BUILTIN_PLUGIN_DIR, &errs), 0);
    ck_assert_int_eq(engine_create(&e, &cfg, &errs, 1), 0);
    cfg_errors_print(&errs, stderr);
    ck_assert_uint_eq(e.outputs[0]->buf.max_memory, 4 * 256 << 10);
    ck_assert_uint_eq(e.outputs[1]->buf.max_memory, 1 << 20);
    ck_assert_uint_eq(e.outputs[2]->buf.max_memory, 64 << 20);
    ck_assert_uint_eq(e.outputs[3]->buf.max_memory, 64 << 20);
    cfg_errors_free(&errs);
    engine_destroy(&e);
    config_free(&cfg);
    free(yaml);
    free(path);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_engine_gives_up_after_max_attempts)
{
    sluice_config cfg;
    engine e;
    run_config("  flush_interval: 10ms\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 100}]\n"
               "    outputs:\n"
               "      - {type: flaky, fail_attempts: 100, retry: {max_attempts: 3, "
               "initial_backoff: 1ms}}\n",
               0, &cfg, &e);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 0);
    ck_assert_uint_eq(e.outputs[0]->failed_events + e.undelivered, 100);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_grace_expires_and_counts_undelivered)
{
    /* The output never accepts; SIGTERM-style stop must still end within the
     * grace period, counting what was not delivered. */
    sluice_config cfg;
    engine e;
    run_config("  grace: 300ms\n  flush_interval: 10ms\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: dummy, rate: 0, count: 100}]\n"
               "    outputs:\n"
               "      - {type: flaky, fail_attempts: 1000000, retry: {initial_backoff: 20ms}}\n",
               0, &cfg, &e);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 0);
    ck_assert_uint_eq(e.undelivered, 100);
    ck_assert_uint_eq(e.outputs[0]->failed_events, 100);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_engine_per_event_results_and_dead_letters)
{
    char *dir = test_tmpdir();
    char *yaml = xasprintf("  flush_interval: 20ms\n"
                           "pipelines:\n  p:\n"
                           "    inputs: [{type: dummy, rate: 0, count: 1000}]\n"
                           "    outputs:\n"
                           "      - type: flaky\n"
                           "        fail_attempts: 0\n"
                           "        fail_every: 10\n"
                           "        retry_every: 7\n"
                           "        retry_after: 30ms\n"
                           "        dead_letter: {path: %s/dead.jsonl}\n",
                           dir);
    sluice_config cfg;
    engine e;
    /* seq % 10 == 0 fail: 100. seq % 7 == 1 refused once: 143, of which
     * 14 also end in 0 and fail first: 129 retried, all delivered. */
    run_config(yaml, 900, &cfg, &e);
    unsigned (*seen)(uint64_t) = (unsigned (*)(uint64_t))flaky_symbol(&cfg, "flaky_seen");
    for (uint64_t s = 0; s < 1000; s++)
        ck_assert_msg(seen(s) == (s % 10 ? 1u : 0u), "seq %llu seen %u times",
                      (unsigned long long)s, seen(s));
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 900);
    ck_assert_uint_eq(e.outputs[0]->failed_events, 100);
    ck_assert_uint_eq(e.outputs[0]->retried_events, 129);
    ck_assert_uint_eq(e.outputs[0]->dead.events, 100);

    /* Exactly the refused events, each with its reason. */
    char *path = xasprintf("%s/dead.jsonl", dir);
    char *text = test_read(path, NULL);
    ck_assert_ptr_nonnull(text);
    size_t lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        char *seqp = strstr(line, "\"seq\":");
        ck_assert_ptr_nonnull(seqp);
        unsigned long long s = strtoull(seqp + 6, NULL, 10);
        ck_assert_uint_eq(s % 10, 0);
        char want[96];
        snprintf(want, sizeof want, "\"error\":\"seq %llu refused\"", s);
        ck_assert_ptr_nonnull(strstr(line, want));
        ck_assert_ptr_nonnull(strstr(line, "\"pipeline\":\"p\",\"output\":\"p.flaky.0\""));
        ck_assert_int_eq(strncmp(line, "{\"time\":\"", 9), 0);
    }
    ck_assert_uint_eq(lines, 100);
    free(text);
    free(path);
    engine_destroy(&e);
    config_free(&cfg);
    free(yaml);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_ack_after_delivery_and_dead_letters)
{
    /* Retried once, one event in ten dead-lettered: all safe, all acked. */
    sluice_config cfg;
    engine e;
    run_config("  flush_interval: 10ms\n  chunk_size: 4KiB\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: acker, count: 1000, every: 100}]\n"
               "    outputs:\n"
               "      - {type: flaky, fail_attempts: 1, fail_every: 10, "
               "retry: {initial_backoff: 1ms}}\n",
               900, &cfg, &e);
    ack_result r = acker_result(&cfg);
    ck_assert_uint_eq(r.acks, 10);
    ck_assert_uint_eq(r.last, 1000);
    ck_assert_int_eq(r.ordered, 1);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_ack_never_for_lost_events)
{
    sluice_config cfg;
    engine e;
    run_config("  flush_interval: 10ms\n  grace: 200ms\n"
               "pipelines:\n  p:\n"
               "    inputs: [{type: acker, count: 1000, every: 100}]\n"
               "    outputs:\n"
               "      - {type: flaky, fail_attempts: 1000000, retry: {initial_backoff: 5ms}}\n",
               0, &cfg, &e);
    ck_assert_uint_eq(acker_result(&cfg).acks, 0);
    ck_assert_uint_eq(e.undelivered, 1000);
    engine_destroy(&e);
    config_free(&cfg);
}
END_TEST

START_TEST(test_ack_when_durably_buffered)
{
    /* The output never accepts, but with an fsynced filesystem buffer every
     * event is safe once its chunk file is closed. */
    char *dir = test_tmpdir();
    char *yaml = xasprintf("  flush_interval: 10ms\n  grace: 200ms\n  storage: {path: %s}\n"
                           "pipelines:\n  p:\n"
                           "    inputs: [{type: acker, count: 1000, every: 100}]\n"
                           "    outputs:\n"
                           "      - {type: flaky, fail_attempts: 1000000, "
                           "buffer: {type: filesystem, fsync: interval}, "
                           "retry: {initial_backoff: 5ms}}\n",
                           dir);
    sluice_config cfg;
    engine e;
    run_config(yaml, 0, &cfg, &e);
    ack_result r = acker_result(&cfg);
    ck_assert_uint_eq(r.acks, 10);
    ck_assert_uint_eq(r.last, 1000);
    ck_assert_uint_eq(e.outputs[0]->delivered_events, 0);
    ck_assert_uint_eq(e.outputs[0]->buf.left_on_disk, 1000);
    engine_destroy(&e);
    config_free(&cfg);
    free(yaml);
    test_rmdir(dir);
    free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_engine_filters_retries_and_kinds);
    tcase_add_test(tc, test_engine_flushes_open_chunks_on_stop);
    tcase_add_test(tc, test_engine_ordered_output);
    tcase_add_test(tc, test_engine_backpressure_pauses_inputs);
    tcase_add_test(tc, test_engine_default_memory_follows_the_inputs);
    tcase_add_test(tc, test_engine_gives_up_after_max_attempts);
    tcase_add_test(tc, test_engine_grace_expires_and_counts_undelivered);
    tcase_add_test(tc, test_engine_per_event_results_and_dead_letters);
    tcase_add_test(tc, test_ack_after_delivery_and_dead_letters);
    tcase_add_test(tc, test_ack_never_for_lost_events);
    tcase_add_test(tc, test_ack_when_durably_buffered);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

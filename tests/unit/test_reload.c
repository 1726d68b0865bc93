/* Reloads in-process: what is kept stays the same object, a changed output
 * hands its chunks to its successor with no event lost or doubled, a
 * refused configuration changes nothing and says where it is wrong, and an
 * identical one keeps everything. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "reload.h"
#include "testutil.h"
#include "xalloc.h"

#define EVENTS 6000

typedef struct scene {
    engine *e;
    char *dir, *path;
    unsigned ticks;
    sluice_instance *dummy, *a;
    int step_failed;
} scene;

static char *
version(const scene *s, int v)
{
    const char *head = "service:\n  http: off\n  flush_interval: 20ms\n";
    if (v == 1)
        return xasprintf("%spipelines:\n  p:\n"
                         "    inputs: [{type: dummy, id: d, rate: 10000, count: %d}]\n"
                         "    outputs: [{type: file, id: a, path: %s/a1.jsonl}]\n",
                         head, EVENTS, s->dir);
    if (v == 2)
        return xasprintf("%spipelines:\n  p:\n"
                         "    inputs: [{type: dummy, id: d, rate: 10000, count: %d}]\n"
                         "    filters: [{type: modify, add: {v: two}}]\n"
                         "    outputs:\n"
                         "      - {type: file, id: a, path: %s/a2.jsonl}\n"
                         "      - {type: file, id: b, path: %s/b.jsonl}\n",
                         head, EVENTS, s->dir, s->dir);
    /* Line 7: a plugin that does not exist. */
    return xasprintf("%spipelines:\n  p:\n"
                     "    inputs: [{type: dummy, id: d, rate: 10000, count: %d}]\n"
                     "    outputs: [{type: nope, id: a}]\n",
                     head, EVENTS);
}

static void
install(scene *s, int v)
{
    char *text = version(s, v);
    free(test_write(s->dir, "t.yaml", text));
    free(text);
}

static size_t
count_lines(const char *path)
{
    size_t len, n = 0;
    char *text = test_read(path, &len);
    for (size_t i = 0; text && i < len; i++)
        n += text[i] == '\n';
    free(text);
    return n;
}

static void
on_tick(uv_timer_t *t)
{
    scene *s = t->data;
    engine *e = s->e;
    pipeline *p = e->pipelines[0];
    s->ticks++;
    if (s->ticks == 1) {
        s->dummy = p->inputs[0];
        s->a = p->outputs[0];
        install(s, 2);
        ck_assert_int_eq(reload_now(e, "test"), 0);
        p = e->pipelines[0];
        ck_assert_ptr_eq(p->inputs[0], s->dummy);
        ck_assert_ptr_ne(p->outputs[0], s->a);
        ck_assert_uint_eq(p->n_filters, 1);
        ck_assert_uint_eq(e->n_outputs, 2);
        s->a = p->outputs[0];
    } else if (s->ticks == 5) {
        install(s, 3);
        ck_assert_int_eq(reload_now(e, "test"), -1);
        ck_assert_ptr_eq(e->pipelines[0]->inputs[0], s->dummy);
        ck_assert_ptr_eq(e->pipelines[0]->outputs[0], s->a);
        ck_assert_uint_eq(e->n_outputs, 2);
        sluice_buf b = SLUICE_BUF_INIT;
        reload_status_json(e, &b);
        sluice_buf_putc(&b, '\0');
        ck_assert_msg(strstr(b.data, "\"result\":\"refused\""), "%s", b.data);
        ck_assert_msg(strstr(b.data, "t.yaml:7:22: ") && strstr(b.data, "nope"), "%s", b.data);
        ck_assert_msg(strstr(b.data, "\"failures\":1"), "%s", b.data);
        sluice_buf_free(&b);
    } else if (s->ticks == 8) {
        install(s, 2);
        ck_assert_int_eq(reload_now(e, "test"), 0);
        ck_assert_ptr_eq(e->pipelines[0]->inputs[0], s->dummy);
        ck_assert_ptr_eq(e->pipelines[0]->outputs[0], s->a);
        ck_assert_uint_eq(e->n_outputs, 2);
    }
    char *a1 = xasprintf("%s/a1.jsonl", s->dir), *a2 = xasprintf("%s/a2.jsonl", s->dir);
    size_t got = count_lines(a1) + count_lines(a2);
    free(a1);
    free(a2);
    if (got >= EVENTS || s->ticks > 1000) {
        uv_close((uv_handle_t *)t, NULL);
        engine_stop(e);
    }
}

/* Every seq once over the files `names`, `want` in all. */
static void
check_once(const char *dir, const char *const *names, size_t n_names, size_t want)
{
    unsigned char *seen = xcalloc(EVENTS, 1);
    size_t total = 0;
    for (size_t f = 0; f < n_names; f++) {
        char *path = xasprintf("%s/%s", dir, names[f]);
        size_t len;
        char *text = test_read(path, &len);
        for (char *line = text; line && *line;) {
            char *end = strchr(line, '\n');
            ck_assert_ptr_nonnull(end);
            *end = '\0';
            const char *seq = strstr(line, "\"seq\":");
            ck_assert_msg(seq, "no seq in %s", line);
            long v = strtol(seq + 6, NULL, 10);
            ck_assert(v >= 0 && v < EVENTS);
            ck_assert_msg(!seen[v], "seq %ld twice", v);
            seen[v] = 1;
            total++;
            line = end + 1;
        }
        free(text);
        free(path);
    }
    ck_assert_uint_eq(total, want);
    free(seen);
}

START_TEST(test_reload_keeps_hands_over_and_refuses)
{
    scene s = {0};
    s.dir = test_tmpdir();
    install(&s, 1);
    s.path = xasprintf("%s/t.yaml", s.dir);
    sluice_config cfg;
    cfg_errors errs = {0};
    ck_assert_int_eq(config_load(&cfg, s.path, SLUICE_BUILTIN_PLUGIN_DIR, &errs), 0);
    engine e;
    ck_assert_int_eq(engine_create(&e, &cfg, &errs, 0), 0);
    cfg_errors_free(&errs);
    s.e = &e;
    uv_timer_t t;
    uv_timer_init(&e.loop, &t);
    t.data = &s;
    uv_timer_start(&t, on_tick, 20, 20);
    ck_assert_int_eq(engine_run(&e), 0);
    ck_assert_msg(s.ticks <= 1000, "timed out");
    engine_destroy(&e);
    config_free(&cfg);

    /* Output a, before and after it changed: every event once. */
    static const char *const a[] = {"a1.jsonl", "a2.jsonl"};
    check_once(s.dir, a, 2, EVENTS);
    /* b came with the filter: what it got has the filter's field. */
    char *b = xasprintf("%s/b.jsonl", s.dir);
    size_t len;
    char *text = test_read(b, &len);
    ck_assert_msg(text && len > 0, "b got nothing");
    size_t lines = count_lines(b), marked = 0;
    for (char *p = text; (p = strstr(p, "\"v\":\"two\"")); p++)
        marked++;
    ck_assert_uint_eq(marked, lines);
    free(text);
    free(b);
    test_rmdir(s.dir);
    free(s.dir);
    free(s.path);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reload");
    TCase *tc = tcase_create("reload");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reload_keeps_hands_over_and_refuses);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

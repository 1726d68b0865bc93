/* sluice top's reading and layout: a /api/v1/pipelines document into rows
 * (rates, buffers, a plugin's own metrics, nulls), sorting by a column
 * with blanks last, the 80-column text, the height limit, bad documents. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "../../core/top/top.h"
#include "testutil.h"

static const char doc[] =
    "{\"version\":\"9.9\",\"rate_window_seconds\":10.02,\"pipelines\":["
    "{\"name\":\"app\",\"pauses_total\":0,\"paused\":0,\"unrouted_events_total\":0,"
    "\"inputs\":[{\"id\":\"gen\",\"plugin\":\"dummy\",\"events_total\":100,\"paused\":0,"
    "\"events_per_second\":200.04,\"bytes_per_second\":6500}],"
    "\"filters\":[{\"id\":\"keep\",\"plugin\":\"grep\",\"events_in_per_second\":200,"
    "\"events_out_per_second\":20,\"dead_lettered_total\":3}],"
    "\"outputs\":[{\"id\":\"sink\",\"plugin\":\"null\",\"events_per_second\":20,"
    "\"bytes_per_second\":null,\"retries_total\":12345,\"dead_lettered_total\":0,"
    "\"buffer_memory_bytes\":1048576,\"buffer_disk_bytes\":0,"
    "\"buffer\":{\"type\":\"memory\",\"max_memory\":4194304,\"max_disk\":1073741824}}]},"
    "{\"name\":\"logs\",\"pauses_total\":2,\"paused\":1,\"unrouted_events_total\":5,"
    "\"inputs\":[{\"id\":\"tailer\",\"plugin\":\"tail\",\"files\":2,\"lag_bytes\":4096,"
    "\"rotations_total\":1,\"events_total\":9,\"paused\":1,\"events_per_second\":0,"
    "\"bytes_per_second\":0,\"rotations_per_second\":0}],\"filters\":[],"
    "\"outputs\":[{\"id\":\"disk\",\"plugin\":\"http\",\"events_per_second\":1500,"
    "\"bytes_per_second\":2500000,\"retries_total\":0,\"dead_lettered_total\":0,"
    "\"buffer_memory_bytes\":0,\"buffer_disk_bytes\":536870912,"
    "\"buffer\":{\"type\":\"filesystem\",\"max_memory\":4194304,\"max_disk\":1073741824}}]}]}";

static void
parse(top_snapshot *s)
{
    char err[200];
    memset(s, 0, sizeof *s);
    ck_assert_msg(top_snapshot_parse(s, doc, strlen(doc), err, sizeof err) == 0, "%s", err);
}

static const top_row *
row(const top_snapshot *s, const char *id)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (strcmp(s->rows[i].id, id) == 0)
            return &s->rows[i];
    ck_abort_msg("no row %s", id);
    return NULL;
}

static void
ids(const top_snapshot *s, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < s->n_rows; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", s->rows[i].id);
}

START_TEST(test_reads_rows)
{
    top_snapshot s;
    parse(&s);
    ck_assert_str_eq(s.version, "9.9");
    ck_assert_double_eq_tol(s.window, 10.02, 1e-9);
    ck_assert_uint_eq(s.n_pipelines, 2);
    ck_assert_str_eq(s.pipelines[1].name, "logs");
    ck_assert(s.pipelines[1].paused == 1 && s.pipelines[1].pauses == 2 &&
              s.pipelines[1].unrouted == 5);
    ck_assert_uint_eq(s.n_rows, 5);
    const top_row *gen = row(&s, "gen"), *keep = row(&s, "keep"), *sink = row(&s, "sink");
    const top_row *tailer = row(&s, "tailer"), *disk = row(&s, "disk");
    ck_assert(gen->kind == 'i' && gen->in_rate == 200.04 && isnan(gen->out_rate) &&
              gen->bytes_rate == 6500 && gen->own == NULL);
    ck_assert(keep->kind == 'f' && keep->in_rate == 200 && keep->out_rate == 20 &&
              keep->dead == 3 && isnan(keep->retries));
    ck_assert(sink->kind == 'o' && isnan(sink->bytes_rate) && sink->retries == 12345 &&
              sink->mem == 1048576 && sink->max_mem == 4194304 && !sink->fs);
    ck_assert(disk->fs && disk->disk == 536870912 && disk->max_disk == 1073741824);
    ck_assert_str_eq(tailer->pipeline, "logs");
    ck_assert_str_eq(tailer->own, "files=2 lag_bytes=4096 rotations=1");
    ck_assert(tailer->paused == 1);
    top_snapshot_free(&s);
}
END_TEST

START_TEST(test_sorts_blanks_last)
{
    top_snapshot s;
    parse(&s);
    char got[200];
    top_view v = {COL_IN, 0, 0};
    top_sort(&s, &v);
    ids(&s, got, sizeof got);
    ck_assert_str_eq(got, "gen keep tailer sink disk");
    v.reverse = 1;
    top_sort(&s, &v);
    ids(&s, got, sizeof got);
    ck_assert_str_eq(got, "tailer keep gen sink disk");
    v = (top_view){COL_ID, 0, 0};
    top_sort(&s, &v);
    ids(&s, got, sizeof got);
    ck_assert_str_eq(got, "disk gen keep sink tailer");
    v = (top_view){COL_MEM, 0, 0};
    top_sort(&s, &v);
    ids(&s, got, sizeof got);
    ck_assert_str_eq(got, "sink disk gen keep tailer");
    v = (top_view){COL_PIPELINE, 0, 0};
    top_sort(&s, &v);
    ids(&s, got, sizeof got);
    ck_assert_str_eq(got, "gen keep sink tailer disk");
    ck_assert_int_eq(top_column_for_key('n'), COL_IN);
    ck_assert_int_eq(top_column_for_key('z'), -1);
    top_snapshot_free(&s);
}
END_TEST

START_TEST(test_layout_80_columns)
{
    top_snapshot s;
    parse(&s);
    top_view v = {COL_PIPELINE, 0, 0};
    top_sort(&s, &v);
    sluice_buf out = SLUICE_BUF_INIT;
    top_render(&out, &s, &v, "http://x", NULL, 80, 0);
    sluice_buf_putc(&out, '\0');
    const char *body = strchr(out.data, '\n') + 1; /* past the clock */
    ck_assert_str_eq(
        body,
        "sort: PIPELINE asc (s: next, R: reverse, q: quit, piknobmdrl: by column)\n"
        "PIPELINE   STATE    PAUSES UNROUTED\n"
        "app        running       0        0\n"
        "logs       PAUSED        2        5\n"
        "\n"
        "PIPELINE   ID             KIND    IN/s   OUT/s BYTES/s  MEM% DISK%  RETRY  DEAD\n"
        "app        gen            in     200.0       -    6.5k     -     -      -     -\n"
        "app        keep           flt    200.0    20.0       -     -     -      -     3\n"
        "app        sink           out        -    20.0       -   25%     -  12.3k     0\n"
        "logs       tailer         in       0.0       -     0.0     -     -      -     -\n"
        "           tail: files=2 lag_bytes=4096 rotations=1\n"
        "logs       disk           out        -    1.5k    2.5M    0%   50%      0     0\n");
    ck_assert(strstr(out.data, ", rates over 10s: http://x\n") != NULL);
    sluice_buf_reset(&out);
    top_render(&out, &s, &v, "http://x", "Couldn't connect to server", 80, 10);
    sluice_buf_putc(&out, '\0');
    body = strchr(out.data, '\n') + 1;
    ck_assert_str_eq(
        body,
        "! Couldn't connect to server (retrying)\n"
        "PIPELINE   STATE    PAUSES UNROUTED\n"
        "app        running       0        0\n"
        "logs       PAUSED        2        5\n"
        "\n"
        "PIPELINE   ID             KIND    IN/s   OUT/s BYTES/s  MEM% DISK%  RETRY  DEAD\n"
        "app        gen            in     200.0       -    6.5k     -     -      -     -\n"
        "app        keep           flt    200.0    20.0       -     -     -      -     3\n"
        "... 3 more rows (a taller terminal shows them)\n");
    sluice_buf_free(&out);
    top_snapshot_free(&s);
}
END_TEST

START_TEST(test_bad_documents)
{
    top_snapshot s;
    parse(&s);
    char err[200];
    ck_assert_int_eq(top_snapshot_parse(&s, "{\"pipelines\":", 13, err, sizeof err), -1);
    ck_assert_int_eq(top_snapshot_parse(&s, "{\"status\":\"ok\"}", 15, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an /api/v1/pipelines answer (no \"pipelines\" array)");
    ck_assert_uint_eq(s.n_rows, 5); /* the last good one stays */
    ck_assert_int_eq(top_snapshot_parse(&s, "{\"pipelines\":[1,{\"inputs\":[2]}]}", 32, err,
                                        sizeof err),
                     0);
    ck_assert_uint_eq(s.n_pipelines, 1);
    ck_assert_str_eq(s.pipelines[0].name, "?");
    ck_assert_uint_eq(s.n_rows, 0);
    ck_assert(isnan(s.window));
    top_snapshot_free(&s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("top");
    TCase *tc = tcase_create("top");
    tcase_add_test(tc, test_reads_rows);
    tcase_add_test(tc, test_sorts_blanks_last);
    tcase_add_test(tc, test_layout_80_columns);
    tcase_add_test(tc, test_bad_documents);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

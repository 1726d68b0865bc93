/* The filter test harness (see filter_harness.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "filter_harness.h"
#include "sluice/format.h"
#include "sluice/json.h"
#include "testutil.h"
#include "xalloc.h"

static char *
with_dir(const char *s, const char *dir)
{
    sluice_buf b = SLUICE_BUF_INIT;
    for (const char *p = s; *p;) {
        if (strncmp(p, "${DIR}", 6) == 0) {
            sluice_buf_append(&b, dir, strlen(dir));
            p += 6;
        } else {
            sluice_buf_putc(&b, *p++);
        }
    }
    sluice_buf_putc(&b, '\0');
    return b.data;
}

int
harness_init(harness *h, const char *filters, const char *extra)
{
    memset(h, 0, sizeof *h);
    h->dir = test_tmpdir();
    char *f = with_dir(filters, h->dir), *x = with_dir(extra ? extra : "", h->dir);
    char *yaml = xasprintf("service:\n  http: off\n  chunk_size: 64MiB\n  storage: {path: %s/state}\n"
                           "pipelines:\n  t:\n    filters: %s\n    outputs: [{type: null}]\n%s",
                           h->dir, f, x);
    char *path = test_write(h->dir, "t.yaml", yaml);
    cfg_errors errs = {0};
    int r = config_load(&h->cfg, path, SLUICE_BUILTIN_PLUGIN_DIR, &errs);
    cfg_errors_print(&errs, stderr);
    cfg_errors_free(&errs);
    ck_assert_int_eq(r, 0);
    r = engine_create(&h->e, &h->cfg, &h->errs, 0);
    cfg_errors_print(&h->errs, stderr);
    h->created = 1;
    free(f);
    free(x);
    free(yaml);
    free(path);
    return r;
}

static pipeline *
find_pipeline(harness *h, const char *name)
{
    for (size_t i = 0; i < h->e.n_pipelines; i++)
        if (strcmp(h->e.pipelines[i]->name, name) == 0)
            return h->e.pipelines[i];
    ck_abort_msg("no pipeline %s", name);
    return NULL;
}

void
harness_feed(harness *h, sluice_time_t t, const char *const *events)
{
    pipeline *p = find_pipeline(h, "t");
    sluice_emitter *em = sluice_pipeline_emitter(p->filters[0], "t");
    for (size_t i = 0; events[i]; i++) {
        msgpack_packer *pk = sluice_emit_begin(em, SLUICE_EVENT_LOG, t);
        char err[128];
        ck_assert_msg(sluice_json_to_msgpack(events[i], strlen(events[i]), pk, err, sizeof err) == 0,
                      "test event %zu: %s", i, err);
        sluice_emit_end(em);
    }
    pipeline_run_filters(p);
}

void
harness_stop(harness *h)
{
    pipeline *p = find_pipeline(h, "t");
    pipeline_run_filters(p);
    for (size_t i = 0; i < p->n_filters; i++)
        if (p->filters[i]->plugin->stop)
            p->filters[i]->plugin->stop(p->filters[i]->ctx);
    for (size_t i = 0; i < h->e.n_pipelines; i++)
        pipeline_run_filters(h->e.pipelines[i]);
}

char *
harness_output(harness *h, const char *name, int with_time)
{
    pipeline *p = find_pipeline(h, name);
    pipeline_run_filters(p);
    sluice_buf out = SLUICE_BUF_INIT;
    sluice_format_opts json = {SLUICE_FORMAT_JSON, with_time ? "time" : NULL, NULL};
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
        if (p->open[k])
            sluice_format_events(&out, &json, p->open[k]->buf.data, p->open[k]->buf.size, NULL);
    sluice_buf_putc(&out, '\0');
    return out.data;
}

sluice_instance *
harness_filter(harness *h, size_t i)
{
    return find_pipeline(h, "t")->filters[i];
}

void
harness_free(harness *h)
{
    cfg_errors_free(&h->errs);
    engine_destroy(&h->e);
    config_free(&h->cfg);
    test_rmdir(h->dir);
    free(h->dir);
}

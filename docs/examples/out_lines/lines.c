/* out_lines: an example third-party output, built out of tree against the
 * installed sluice SDK:
 *
 *   cc -shared -fPIC -o out_lines.so lines.c $(pkg-config --cflags sluice)
 *
 * It appends one field of every event (by default `message`) to a file, one
 * per line, and writes nothing for events without that field. */
#include <stdio.h>
#include <stdlib.h>

#include <sluice/sluice.h>

typedef struct lines_config {
    char *path;
    char *field;
} lines_config;

static const sluice_option lines_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(lines_config, path), .help = "File to append to."},
    {.name = "field", .type = SLUICE_OPT_STR, .def = "message",
     .offset = offsetof(lines_config, field), .help = "Field to write (a path like a.b)."},
    SLUICE_OPTIONS_END,
};

typedef struct lines_ctx {
    sluice_instance *ins;
    const lines_config *cfg;
    FILE *f;
} lines_ctx;

static int
lines_init(sluice_instance *ins, const void *config, void **ctxp)
{
    lines_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return SLUICE_ERROR;
    c->ins = ins;
    c->cfg = config;
    *ctxp = c;
    return SLUICE_OK;
}

static void
lines_flush(void *ctx, sluice_flush *fl)
{
    lines_ctx *c = ctx;
    if (!c->f && !(c->f = fopen(c->cfg->path, "a"))) {
        sluice_flush_done(fl, SLUICE_RETRY, "cannot open the file");
        return;
    }
    size_t len;
    const char *data = sluice_flush_data(fl, &len);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1) {
        const msgpack_object *v = sluice_record_get(&ev.body, c->cfg->field);
        if (!v)
            continue;
        sluice_buf b = SLUICE_BUF_INIT;
        if (v->type == MSGPACK_OBJECT_STR)
            sluice_buf_append(&b, v->via.str.ptr, v->via.str.size);
        else
            sluice_json_value(&b, v);
        fwrite(b.data, 1, b.len, c->f);
        fputc('\n', c->f);
        sluice_buf_free(&b);
    }
    sluice_event_iter_destroy(&it);
    int err = fflush(c->f);
    sluice_flush_done(fl, err ? SLUICE_RETRY : SLUICE_OK, err ? "write failed" : NULL);
}

static void
lines_exit(void *ctx)
{
    lines_ctx *c = ctx;
    if (c->f)
        fclose(c->f);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_OUTPUT),
    .name = "lines",
    .description = "Example: append one field of each event to a file.",
    .options = lines_options,
    .config_size = sizeof(lines_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = lines_init,
    .flush = lines_flush,
    .exit = lines_exit,
};

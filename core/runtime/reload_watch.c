/* --watch-config: the directories of the configuration's files, of its
 * includes and of the files instances depend on (rule files) are watched;
 * a change, once things settle, asks for a reload. */
#include <string.h>

#include "reload_impl.h"

static void
on_settle(uv_timer_t *t)
{
    reload_request(((reload_state *)t->data)->e, "configuration file changed");
}

static void
on_file_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)events;
    watched_dir *w = h->data;
    if (status != 0 || !name)
        return;
    for (size_t i = 0; i < w->n_names; i++)
        if (strcmp(w->names[i], name) == 0) {
            uv_timer_start(&w->rs->settle, on_settle, WATCH_SETTLE_MS, 0);
            return;
        }
}

static void
watch_file(reload_state *rs, const char *file)
{
    char *dir = xstrdup(file);
    char *slash = strrchr(dir, '/');
    const char *name = slash ? file + (slash - dir) + 1 : file;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        strcpy(dir, ".");
    watched_dir *w = NULL;
    for (size_t i = 0; i < rs->n_watches && !w; i++)
        if (strcmp(rs->watches[i]->dir, dir) == 0)
            w = rs->watches[i];
    if (w) {
        free(dir);
        for (size_t i = 0; i < w->n_names; i++)
            if (strcmp(w->names[i], name) == 0)
                return;
        PUSH(w->names, w->n_names, xstrdup(name));
        return;
    }
    w = xcalloc(1, sizeof *w);
    w->dir = dir;
    w->rs = rs;
    PUSH(w->names, w->n_names, xstrdup(name));
    uv_fs_event_init(&rs->e->loop, &w->h);
    w->h.data = w;
    int r = uv_fs_event_start(&w->h, on_file_event, dir, 0);
    if (r < 0)
        sluice_warn(NULL, "--watch-config: cannot watch %s: %s", dir, uv_strerror(r));
    PUSH(rs->watches, rs->n_watches, w);
}

void
reload_watch_tree(reload_state *rs, const cfg_node *n)
{
    if (!n)
        return;
    if (n->file)
        watch_file(rs, n->file);
    if (n->kind == CFG_MAP) /* every file's nodes start with a key */
        for (size_t i = 0; i < n->n; i += 2)
            reload_watch_tree(rs, n->items[i + 1]);
}

/* The files instances read their settings from (rule files). */
void
reload_watch_deps(reload_state *rs)
{
    engine *e = rs->e;
    sluice_instance *ins;
    for (size_t i = 0; i < e->n_pipelines; i++)
        for (size_t k = 0; (ins = pipeline_instance(e->pipelines[i], k)); k++)
            for (size_t d = 0; d < ins->n_deps; d++)
                watch_file(rs, ins->dep_paths[d]);
}

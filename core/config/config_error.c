/* Collecting and printing configuration errors. */
#include <stdarg.h>
#include <stdlib.h>

#include "config_error.h"
#include "config_node.h"
#include "xalloc.h"

static void
add(cfg_errors *e, const char *file, int line, int col, const char *fmt, va_list ap)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    cfg_error *err = &e->v[e->n++];
    err->file = file ? xstrdup(file) : NULL;
    err->line = line;
    err->col = col;
    if (vasprintf(&err->msg, fmt, ap) < 0)
        err->msg = xstrdup("(out of memory formatting an error)");
}

void
cfg_error_at(cfg_errors *e, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(e, file, line, col, fmt, ap);
    va_end(ap);
}

void
cfg_error_node(cfg_errors *e, const cfg_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(e, at ? at->file : NULL, at ? at->line : 0, at ? at->col : 0, fmt, ap);
    va_end(ap);
}

char *
cfg_error_str(const cfg_error *err)
{
    if (err->file && err->line > 0)
        return xasprintf("%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
    if (err->file)
        return xasprintf("%s: %s", err->file, err->msg);
    return xstrdup(err->msg);
}

void
cfg_errors_print(const cfg_errors *e, FILE *f)
{
    for (size_t i = 0; i < e->n; i++) {
        char *s = cfg_error_str(&e->v[i]);
        fprintf(f, "%s\n", s);
        free(s);
    }
}

void
cfg_errors_free(cfg_errors *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].file);
        free(e->v[i].msg);
    }
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

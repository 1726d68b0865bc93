/* Name templates (see name_template.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "name_template.h"

typedef enum seg_kind { SEG_TEXT, SEG_TIME, SEG_FIELD } seg_kind;

typedef struct seg {
    seg_kind kind;
    char *text; /* SEG_TEXT: the text; SEG_FIELD: the path */
    char dir;   /* SEG_TIME: the directive letter */
} seg;

struct name_template {
    seg *v;
    size_t n;
};

static void
add(name_template *x, seg_kind kind, const char *s, size_t len, char dir)
{
    x->v = sluice_realloc(x->v, (x->n + 1) * sizeof *x->v);
    if (!x->v)
        abort();
    x->v[x->n++] = (seg){kind, s ? sluice_strndup(s, len) : NULL, dir};
}

name_template *
name_template_parse(const char *tmpl, char *err, size_t errlen)
{
    name_template *x = sluice_calloc(1, sizeof *x);
    const char *p = tmpl, *lit = tmpl;
    while (*p) {
        if (*p != '%' && !(p[0] == '$' && p[1] == '{')) {
            p++;
            continue;
        }
        if (p > lit)
            add(x, SEG_TEXT, lit, (size_t)(p - lit), 0);
        if (p[1] == '{') { /* %{field}, or ${field} written as $${field} in the config */
            const char *end = strchr(p + 2, '}');
            if (!end || end == p + 2) {
                snprintf(err, errlen, "'%s': %c{ needs a field name and a closing }", tmpl, *p);
                name_template_free(x);
                return NULL;
            }
            add(x, SEG_FIELD, p + 2, (size_t)(end - p - 2), 0);
            p = end + 1;
        } else if (p[1] && strchr("YmdHMjy", p[1])) {
            add(x, SEG_TIME, NULL, 0, p[1]);
            p += 2;
        } else if (p[1] == '%') {
            add(x, SEG_TEXT, "%", 1, 0);
            p += 2;
        } else {
            snprintf(err, errlen, "'%s': unknown directive %%%c (use %%Y %%m %%d %%H %%M %%j %%y, "
                                  "%%{field} or %%%%)",
                     tmpl, p[1] ? p[1] : '?');
            name_template_free(x);
            return NULL;
        }
        lit = p;
    }
    if (p > lit)
        add(x, SEG_TEXT, lit, (size_t)(p - lit), 0);
    return x;
}

int
name_template_is_constant(const name_template *x)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->v[i].kind != SEG_TEXT)
            return 0;
    return 1;
}

int
name_template_render(const name_template *x, const sluice_event *ev, name_append_fn append,
                     sluice_buf *out, char *why, size_t whylen)
{
    time_t secs = (time_t)(ev->time >= 0 ? ev->time / SLUICE_NSEC_PER_SEC
                                          : (ev->time - SLUICE_NSEC_PER_SEC + 1) / SLUICE_NSEC_PER_SEC);
    struct tm tm;
    int have_tm = 0;
    for (size_t i = 0; i < x->n; i++) {
        const seg *s = &x->v[i];
        if (s->kind == SEG_TEXT) {
            append(out, s->text, strlen(s->text));
        } else if (s->kind == SEG_TIME) {
            if (!have_tm && !gmtime_r(&secs, &tm)) {
                snprintf(why, whylen, "event time out of range for the name");
                return -1;
            }
            have_tm = 1;
            char fmt[3] = {'%', s->dir, '\0'}, buf[16];
            size_t n = strftime(buf, sizeof buf, fmt, &tm);
            append(out, buf, n);
        } else {
            const msgpack_object *v = sluice_record_get(&ev->body, s->text);
            if (!v) {
                snprintf(why, whylen, "the name needs field '%s', which the event lacks",
                         s->text);
                return -1;
            }
            sluice_buf scratch = SLUICE_BUF_INIT;
            size_t n;
            const char *text = sluice_json_text(v, &scratch, &n);
            append(out, text, n);
            sluice_buf_free(&scratch);
        }
    }
    return 0;
}

void
name_template_free(name_template *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].text);
    free(x->v);
    free(x);
}

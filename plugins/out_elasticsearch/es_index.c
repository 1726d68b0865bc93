/* Index name templates (see es_index.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_index.h"

typedef enum seg_kind { SEG_TEXT, SEG_TIME, SEG_FIELD } seg_kind;

typedef struct seg {
    seg_kind kind;
    char *text; /* SEG_TEXT: the text; SEG_FIELD: the path */
    char dir;   /* SEG_TIME: the directive letter */
} seg;

struct es_index {
    seg *v;
    size_t n;
};

static void
add(es_index *x, seg_kind kind, const char *s, size_t len, char dir)
{
    x->v = sluice_realloc(x->v, (x->n + 1) * sizeof *x->v);
    if (!x->v)
        abort();
    x->v[x->n++] = (seg){kind, s ? sluice_strndup(s, len) : NULL, dir};
}

es_index *
es_index_parse(const char *tmpl, char *err, size_t errlen)
{
    es_index *x = sluice_calloc(1, sizeof *x);
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
                es_index_free(x);
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
            es_index_free(x);
            return NULL;
        }
        lit = p;
    }
    if (p > lit)
        add(x, SEG_TEXT, lit, (size_t)(p - lit), 0);
    return x;
}

/* Index names are lowercase and cannot hold \ / * ? " < > | space , #. */
static void
append_name(sluice_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        else if (strchr("\\/*?\"<>| ,#:", c) || (unsigned char)c < 0x20)
            c = '_';
        sluice_buf_putc(out, c);
    }
}

int
es_index_render(const es_index *x, const sluice_event *ev, sluice_buf *out, char *why,
                size_t whylen)
{
    time_t secs = (time_t)(ev->time >= 0 ? ev->time / SLUICE_NSEC_PER_SEC
                                          : (ev->time - SLUICE_NSEC_PER_SEC + 1) / SLUICE_NSEC_PER_SEC);
    struct tm tm;
    int have_tm = 0;
    for (size_t i = 0; i < x->n; i++) {
        const seg *s = &x->v[i];
        if (s->kind == SEG_TEXT) {
            append_name(out, s->text, strlen(s->text));
        } else if (s->kind == SEG_TIME) {
            if (!have_tm && !gmtime_r(&secs, &tm)) {
                snprintf(why, whylen, "event time out of range for the index name");
                return -1;
            }
            have_tm = 1;
            char fmt[3] = {'%', s->dir, '\0'}, buf[16];
            size_t n = strftime(buf, sizeof buf, fmt, &tm);
            sluice_buf_append(out, buf, n);
        } else {
            const msgpack_object *v = sluice_record_get(&ev->body, s->text);
            if (!v) {
                snprintf(why, whylen, "the index name needs field '%s', which the event lacks",
                         s->text);
                return -1;
            }
            sluice_buf scratch = SLUICE_BUF_INIT;
            size_t n;
            const char *text = sluice_json_text(v, &scratch, &n);
            append_name(out, text, n);
            sluice_buf_free(&scratch);
        }
    }
    return 0;
}

void
es_index_free(es_index *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++)
        free(x->v[i].text);
    free(x->v);
    free(x);
}

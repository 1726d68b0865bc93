/* Graphite paths and plaintext lines (see graphite_path.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphite_path.h"

typedef enum part_kind { PART_TEXT, PART_NAME, PART_FIELD, PART_TAG } part_kind;

typedef struct part {
    part_kind kind;
    char *text; /* PART_TEXT: literal; PART_TAG: the tag key */
} part;

struct gr_template {
    part *v;
    size_t n;
};

static void
add(gr_template *t, part_kind kind, const char *s, size_t n)
{
    t->v = sluice_realloc(t->v, (t->n + 1) * sizeof *t->v);
    if (!t->v)
        abort();
    t->v[t->n++] = (part){kind, s ? sluice_strndup(s, n) : NULL};
}

gr_template *
gr_template_parse(const char *tmpl, char *err, size_t errlen)
{
    gr_template *t = sluice_calloc(1, sizeof *t);
    const char *p = tmpl, *lit = tmpl;
    while (*p) {
        if (*p != '{') {
            p++;
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end) {
            snprintf(err, errlen, "'%s': a { is not closed", tmpl);
            gr_template_free(t);
            return NULL;
        }
        if (p > lit)
            add(t, PART_TEXT, lit, (size_t)(p - lit));
        size_t n = (size_t)(end - p - 1);
        if (n == 4 && memcmp(p + 1, "name", 4) == 0) {
            add(t, PART_NAME, NULL, 0);
        } else if (n == 5 && memcmp(p + 1, "field", 5) == 0) {
            add(t, PART_FIELD, NULL, 0);
        } else if (n > 4 && memcmp(p + 1, "tag:", 4) == 0) {
            add(t, PART_TAG, p + 5, n - 4);
        } else {
            snprintf(err, errlen, "'%s': unknown {%.*s} (use {name}, {field} or {tag:KEY})", tmpl,
                     (int)n, p + 1);
            gr_template_free(t);
            return NULL;
        }
        p = lit = end + 1;
    }
    if (p > lit)
        add(t, PART_TEXT, lit, (size_t)(p - lit));
    return t;
}

void
gr_template_free(gr_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].text);
    free(t->v);
    free(t);
}

static void
sanitised(sluice_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == ':';
        sluice_buf_putc(out, ok ? c : '_');
    }
}

static const msgpack_object *
tag(const msgpack_object *tags, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; tags && tags->type == MSGPACK_OBJECT_MAP && i < tags->via.map.size; i++) {
        const msgpack_object *k = &tags->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &tags->via.map.ptr[i].val;
    }
    return NULL;
}

static void
scalar(sluice_buf *out, const msgpack_object *v)
{
    sluice_buf scratch = SLUICE_BUF_INIT;
    size_t n;
    const char *text = sluice_json_text(v, &scratch, &n);
    sanitised(out, text, n);
    sluice_buf_free(&scratch);
}

static int
number(const msgpack_object *v, char out[32])
{
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return snprintf(out, 32, "%llu", (unsigned long long)v->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return snprintf(out, 32, "%lld", (long long)v->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (v->via.f64 != v->via.f64 || v->via.f64 - v->via.f64 != 0)
            return 0; /* NaN, infinities */
        return sluice_double_text(v->via.f64, out);
    default:
        return 0;
    }
}

size_t
gr_lines(sluice_buf *out, const gr_template *t, int tagged, const sluice_event *ev,
         size_t *skipped)
{
    const msgpack_object *name = sluice_record_get(&ev->body, "name");
    const msgpack_object *tags = sluice_record_get(&ev->body, "tags");
    const msgpack_object *fields = sluice_record_get(&ev->body, "fields");
    if (!name || name->type != MSGPACK_OBJECT_STR || !fields || fields->type != MSGPACK_OBJECT_MAP)
        return 0;
    long long secs = (long long)(ev->time >= 0 ? ev->time / SLUICE_NSEC_PER_SEC
                                               : (ev->time - SLUICE_NSEC_PER_SEC + 1) /
                                                     SLUICE_NSEC_PER_SEC);
    size_t lines = 0;
    for (uint32_t f = 0; f < fields->via.map.size; f++) {
        const msgpack_object *fk = &fields->via.map.ptr[f].key, *fv = &fields->via.map.ptr[f].val;
        char num[32];
        int nlen = number(fv, num);
        if (!nlen || fk->type != MSGPACK_OBJECT_STR) {
            (*skipped)++;
            continue;
        }
        for (size_t i = 0; i < t->n; i++) {
            const part *p = &t->v[i];
            if (p->kind == PART_TEXT) {
                sluice_buf_append(out, p->text, strlen(p->text));
            } else if (p->kind == PART_NAME) {
                sanitised(out, name->via.str.ptr, name->via.str.size);
            } else if (p->kind == PART_FIELD) {
                sanitised(out, fk->via.str.ptr, fk->via.str.size);
            } else {
                const msgpack_object *v = tag(tags, p->text);
                if (v)
                    scalar(out, v);
                else
                    sluice_buf_append(out, "none", 4);
            }
        }
        for (uint32_t i = 0; tagged && tags && tags->type == MSGPACK_OBJECT_MAP &&
                             i < tags->via.map.size;
             i++) {
            const msgpack_object *k = &tags->via.map.ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size)
                continue;
            sluice_buf_putc(out, ';');
            sanitised(out, k->via.str.ptr, k->via.str.size);
            sluice_buf_putc(out, '=');
            scalar(out, &tags->via.map.ptr[i].val);
        }
        sluice_buf_putc(out, ' ');
        sluice_buf_append(out, num, (size_t)nlen);
        sluice_buf_printf(out, " %lld\n", secs);
        lines++;
    }
    return lines;
}

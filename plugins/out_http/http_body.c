/* Rendering chunks into out_http bodies (see http_body.h). */
#include <stdlib.h>
#include <string.h>

#include "http_body.h"

void
http_body_build(http_body *b, http_format fmt, const char *time_key, const char *data, size_t len)
{
    memset(b, 0, sizeof *b);
    sluice_format_opts o = {fmt == HTTP_MSGPACK ? SLUICE_FORMAT_MSGPACK : SLUICE_FORMAT_JSON,
                            time_key, NULL};
    size_t cap = 1024;
    b->offs = malloc(cap * sizeof *b->offs);
    sluice_buf_reserve(&b->text, len + len / 2);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    while (sluice_event_next(&it, &ev) == 1) {
        if (b->n + 2 > cap)
            b->offs = realloc(b->offs, (cap *= 2) * sizeof *b->offs);
        b->offs[b->n++] = b->text.len;
        sluice_format_event(&b->text, &o, &ev);
    }
    sluice_event_iter_destroy(&it);
    b->offs[b->n] = b->text.len;
}

sluice_bytes
http_body_range(const http_body *b, http_format fmt, int gzip, size_t first, size_t last,
                sluice_buf *scratch)
{
    const char *start = b->text.data + b->offs[first];
    size_t len = b->offs[last] - b->offs[first];
    sluice_buf arr = SLUICE_BUF_INIT;
    if (fmt == HTTP_JSON_ARRAY) {
        /* The lines, newlines turned into commas, in brackets. */
        sluice_buf_reserve(&arr, len + 2);
        sluice_buf_putc(&arr, '[');
        sluice_buf_append(&arr, start, len);
        for (size_t i = first + 1; i <= last; i++)
            arr.data[1 + b->offs[i] - b->offs[first] - 1] = i == last ? ']' : ',';
        if (last == first)
            sluice_buf_putc(&arr, ']');
        start = arr.data;
        len = arr.len;
    }
    if (gzip) {
        sluice_gzip(scratch, start, len);
        sluice_buf_free(&arr);
        return (sluice_bytes){scratch->data, scratch->len};
    }
    if (arr.data) {
        *scratch = arr; /* hand the array over */
        return (sluice_bytes){scratch->data, scratch->len};
    }
    return (sluice_bytes){start, len};
}

void
http_body_free(http_body *b)
{
    sluice_buf_free(&b->text);
    free(b->offs);
}

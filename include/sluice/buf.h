/* A growable byte buffer: what formatters write into and outputs send. */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stdarg.h>
#include "common.h"

typedef struct sluice_buf {
    char *data;
    size_t len;
    size_t cap;
} sluice_buf;

#define SLUICE_BUF_INIT {NULL, 0, 0}

/* Make room for `extra` more bytes. Aborts the process when memory is
 * exhausted, as every allocation in sluice does. */
SLUICE_API void sluice_buf_reserve(sluice_buf *b, size_t extra);
SLUICE_API void sluice_buf_append(sluice_buf *b, const void *p, size_t n);
SLUICE_API void sluice_buf_printf(sluice_buf *b, const char *fmt, ...) SLUICE_PRINTF(2, 3);
SLUICE_API void sluice_buf_free(sluice_buf *b);

/* ABI 2.1. URLs built by plugins: `url` without its trailing slashes (a
 * base to append a path to), and `s` percent-encoded but for RFC 3986's
 * unreserved characters (a query value). */
SLUICE_API void sluice_buf_url_base(sluice_buf *b, const char *url);
SLUICE_API void sluice_buf_url_escape(sluice_buf *b, const char *s);

static inline void
sluice_buf_putc(sluice_buf *b, char c)
{
    if (b->len == b->cap)
        sluice_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static inline void
sluice_buf_reset(sluice_buf *b)
{
    b->len = 0;
}

#endif

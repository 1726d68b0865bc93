/* sluice_buf, the growable byte buffer of the SDK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "sluice/buf.h"
#include "xalloc.h"

void
sluice_buf_reserve(sluice_buf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void
sluice_buf_append(sluice_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    sluice_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void
sluice_buf_printf(sluice_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        sluice_buf_reserve(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void
sluice_buf_free(sluice_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
sluice_buf_url_base(sluice_buf *b, const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    sluice_buf_append(b, url, n);
}

void
sluice_buf_url_escape(sluice_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p))
            sluice_buf_putc(b, (char)*p);
        else
            sluice_buf_printf(b, "%%%02X", *p);
    }
}

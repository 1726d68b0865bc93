/* Allocation that aborts on exhaustion, for the core and, through the SDK
 * (sluice/alloc.h), for plugins. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

static void
oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "sluice: out of memory allocating %zu bytes\n", n);
    if (write(STDERR_FILENO, msg, (size_t)len) < 0) {
        /* nothing left to tell */
    }
    abort();
}

void *
sluice_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *
sluice_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *
sluice_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *
sluice_strndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
sluice_strdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
sluice_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return p;
}

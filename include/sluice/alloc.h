/* Allocation for plugins that never returns NULL: on exhaustion sluice logs
 * and aborts, as the core does, since a caller that carried on would lose
 * data quietly. Use these instead of malloc and friends. */
#ifndef SLUICE_ALLOC_H
#define SLUICE_ALLOC_H

#include <stddef.h>
#include "common.h"

SLUICE_API void *sluice_malloc(size_t n);
SLUICE_API void *sluice_calloc(size_t n, size_t size);
SLUICE_API void *sluice_realloc(void *p, size_t n);
SLUICE_API char *sluice_strdup(const char *s);
SLUICE_API char *sluice_strndup(const char *s, size_t n);
SLUICE_API char *sluice_asprintf(const char *fmt, ...) SLUICE_PRINTF(1, 2);

#endif

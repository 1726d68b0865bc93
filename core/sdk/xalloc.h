/* Allocation that never returns NULL: on exhaustion the process logs and
 * aborts, since every caller would otherwise have to lose data quietly.
 * The SDK's sluice_malloc and friends (sluice/alloc.h), by shorter names. */
#ifndef SLUICE_XALLOC_H
#define SLUICE_XALLOC_H

#include "sluice/alloc.h"

#define xmalloc sluice_malloc
#define xcalloc sluice_calloc
#define xrealloc sluice_realloc
#define xstrdup sluice_strdup
#define xstrndup sluice_strndup
#define xasprintf sluice_asprintf

#endif

/* Path patterns for tail: shell globs (*, ?, [...]) where `**` matches any
 * number of directories, and exclusions. */
#ifndef TAIL_GLOB_H
#define TAIL_GLOB_H

#include <stddef.h>

/* Call `found` for every regular file matching `pattern` and none of the
 * `excludes` (fnmatch patterns on the full path). */
void tail_glob(const char *pattern, char *const *excludes, size_t n_excludes,
               void (*found)(void *arg, const char *path), void *arg);

/* Whether `path` matches `pattern` (with ** support). */
int tail_glob_match(const char *pattern, const char *path);

#endif

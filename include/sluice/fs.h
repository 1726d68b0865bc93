/* File-system helpers for plugins: directories made on demand, and writes
 * that either write everything or say why not. */
#ifndef SLUICE_FS_H
#define SLUICE_FS_H

#include <stddef.h>
#include "common.h"

/* mkdir -p: create `path` and its missing parents with `mode`. Returns 0,
 * or -1 with errno set. */
SLUICE_API int sluice_mkdirs(const char *path, unsigned mode);
/* mkdir -p of the directory that holds the file `path`. */
SLUICE_API int sluice_mkdirs_for(const char *path, unsigned mode);
/* Whether sluice_mkdirs(path) could succeed, creating nothing: `path` is a
 * writable directory, or its nearest existing ancestor is. 0, or -1 with
 * errno set (EACCES, ENOTDIR, EROFS...). */
SLUICE_API int sluice_dir_creatable(const char *path);

/* Write all `n` bytes to `fd`, resuming after EINTR and short writes.
 * Returns 0, or -1 with errno set (never 0 bytes without an errno). */
SLUICE_API int sluice_write_all(int fd, const void *p, size_t n);

/* Replace the file `path` with `n` bytes at `p` in one step (a temporary
 * file beside it, then rename), so a crash leaves the old or the new
 * content, never a part. Returns 0, or -1 with errno set. */
SLUICE_API int sluice_write_file(const char *path, const void *p, size_t n);

#endif

/* File-system helpers of the SDK (include/sluice/fs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/fs.h"
#include "xalloc.h"

int
sluice_mkdirs(const char *path, unsigned mode)
{
    char *tmp = xstrdup(path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST) {
            free(tmp);
            return -1;
        }
        *p = '/';
    }
    int r = mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST ? -1 : 0;
    free(tmp);
    return r;
}

int
sluice_mkdirs_for(const char *path, unsigned mode)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = xstrndup(path, (size_t)(slash - path));
    int r = sluice_mkdirs(dir, mode);
    free(dir);
    return r;
}

/* Whether a directory can be made in the existing directory `dir`: a
 * probe made and removed at once, since access(2) says yes to root even
 * where mkdir(2) then fails (/proc, read-only bind mounts). */
static int
can_mkdir_in(const char *dir)
{
    char *probe = xasprintf("%s/.sluice-probe-%ld", dir, (long)getpid());
    int r = mkdir(probe, 0700);
    int err = errno;
    if (r == 0)
        rmdir(probe);
    free(probe);
    errno = err;
    return r;
}

int
sluice_dir_creatable(const char *path)
{
    char *tmp = xstrdup(path);
    struct stat st;
    for (;;) {
        if (stat(tmp, &st) == 0) {
            int r = !S_ISDIR(st.st_mode)      ? (errno = ENOTDIR, -1)
                    : strcmp(tmp, path) == 0 ? access(tmp, W_OK | X_OK)
                                             : can_mkdir_in(tmp);
            free(tmp);
            return r;
        }
        if (errno != ENOENT)
            break;
        char *slash = strrchr(tmp, '/');
        if (!slash) { /* relative: the working directory holds it */
            free(tmp);
            return can_mkdir_in(".");
        }
        slash[slash == tmp] = '\0'; /* "/a" up to "/" */
    }
    free(tmp);
    return -1;
}

int
sluice_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int
sluice_write_file(const char *path, const void *p, size_t n)
{
    char *tmp = sluice_asprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : sluice_write_all(fd, p, n);
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0 && fd >= 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return rc;
}

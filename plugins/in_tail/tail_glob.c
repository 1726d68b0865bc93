/* Globs with ** for tail (see tail_glob.h). Patterns without ** go to
 * glob(3); with **, the directory before the first wildcard is walked and
 * each file is matched segment by segment. */
#include <dirent.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sluice/alloc.h>
#include "tail_glob.h"

#define MAX_DEPTH 32

/* Match path segments against pattern segments; "**" eats zero or more. */
static int
match_segments(const char *pat, const char *path)
{
    while (*pat) {
        if (pat[0] == '*' && pat[1] == '*' && (pat[2] == '/' || pat[2] == '\0')) {
            const char *rest = pat[2] ? pat + 3 : pat + 2;
            if (!*rest)
                return 1;
            for (const char *p = path; ; ) {
                if (match_segments(rest, p))
                    return 1;
                p = strchr(p, '/');
                if (!p)
                    return 0;
                p++;
            }
        }
        const char *ps = strchr(pat, '/'), *qs = strchr(path, '/');
        size_t pl = ps ? (size_t)(ps - pat) : strlen(pat);
        size_t ql = qs ? (size_t)(qs - path) : strlen(path);
        char a[1024], b[1024];
        if (pl >= sizeof a || ql >= sizeof b)
            return 0;
        memcpy(a, pat, pl);
        a[pl] = '\0';
        memcpy(b, path, ql);
        b[ql] = '\0';
        if (fnmatch(a, b, FNM_PERIOD) != 0)
            return 0;
        if (!ps || !qs)
            return !ps && !qs;
        pat = ps + 1;
        path = qs + 1;
    }
    return *path == '\0';
}

int
tail_glob_match(const char *pattern, const char *path)
{
    return match_segments(pattern, path);
}

static int
excluded(const char *path, char *const *ex, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(ex[i], path, 0) == 0)
            return 1;
    return 0;
}

typedef struct walk {
    const char *pattern;
    char *const *ex;
    size_t n_ex;
    void (*found)(void *, const char *);
    void *arg;
} walk;

static void
walk_dir(const walk *w, const char *dir, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = sluice_malloc(len);
        snprintf(p, len, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk_dir(w, p, depth + 1);
            else if (S_ISREG(st.st_mode) && match_segments(w->pattern, p) &&
                     !excluded(p, w->ex, w->n_ex))
                w->found(w->arg, p);
        }
        free(p);
    }
    closedir(d);
}

void
tail_glob(const char *pattern, char *const *excludes, size_t n_excludes,
          void (*found)(void *arg, const char *path), void *arg)
{
    if (!strstr(pattern, "**")) {
        glob_t g;
        if (glob(pattern, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) {
                struct stat st;
                if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode) &&
                    !excluded(g.gl_pathv[i], excludes, n_excludes))
                    found(arg, g.gl_pathv[i]);
            }
            globfree(&g);
        }
        return;
    }
    /* Walk from the last directory before any wildcard. */
    const char *wild = strpbrk(pattern, "*?[");
    const char *slash = wild;
    while (slash > pattern && *slash != '/')
        slash--;
    char *root = slash > pattern ? sluice_strndup(pattern, (size_t)(slash - pattern)) : sluice_strdup("/");
    walk w = {pattern, excludes, n_excludes, found, arg};
    walk_dir(&w, root, 0);
    free(root);
}

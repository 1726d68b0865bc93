/* The plugin registry: search directories, dlopen, ABI checks. */
#include <dirent.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_registry.h"
#include "xalloc.h"

const char *
plugin_kind_name(sluice_plugin_kind kind)
{
    switch (kind) {
    case SLUICE_PLUGIN_INPUT: return "input";
    case SLUICE_PLUGIN_FILTER: return "filter";
    case SLUICE_PLUGIN_OUTPUT: return "output";
    }
    return "unknown";
}

const char *
plugin_kind_prefix(sluice_plugin_kind kind)
{
    switch (kind) {
    case SLUICE_PLUGIN_INPUT: return "in";
    case SLUICE_PLUGIN_FILTER: return "filter";
    case SLUICE_PLUGIN_OUTPUT: return "out";
    }
    return "unknown";
}

void
registry_init(plugin_registry *reg)
{
    memset(reg, 0, sizeof *reg);
}

void
registry_add_dir(plugin_registry *reg, const char *dir)
{
    for (size_t i = 0; i < reg->n_dirs; i++)
        if (strcmp(reg->dirs[i], dir) == 0)
            return;
    reg->dirs = xrealloc(reg->dirs, (reg->n_dirs + 1) * sizeof *reg->dirs);
    reg->dirs[reg->n_dirs++] = xstrdup(dir);
}

void
registry_add_path_list(plugin_registry *reg, const char *list)
{
    if (!list)
        return;
    char *copy = xstrdup(list), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
        registry_add_dir(reg, d);
    free(copy);
}

char *
registry_builtin_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return xstrdup(".");
    exe[n] = '\0';
    char *dir = dirname(exe);
    /* Installed: <prefix>/bin and <prefix>/<libdir>/sluice/plugins (libdir
     * may be multiarch). Build tree: build/bin and build/lib/sluice/plugins. */
    static const char *const rel[] = {SLUICE_PLUGIN_RELDIR, "lib/sluice/plugins"};
    char joined[PATH_MAX + 64], real[PATH_MAX];
    for (size_t i = 0; i < 2; i++) {
        snprintf(joined, sizeof joined, "%s/../%s", dir, rel[i]);
        if (realpath(joined, real))
            return xstrdup(real);
    }
    return xstrdup(joined);
}

/* Check a descriptor before trusting any other member of it. */
static char *
check_abi(const struct sluice_plugin *d, const char *path)
{
    if (d->abi_major != SLUICE_ABI_MAJOR)
        return xasprintf("plugin %s was built for sluice plugin ABI %u.%u, but this sluice "
                         "speaks ABI %d.%d: rebuild the plugin against this sluice's SDK",
                         path, d->abi_major, d->abi_minor, SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR);
    if (d->abi_minor > SLUICE_ABI_MINOR)
        return xasprintf("plugin %s was built for sluice plugin ABI %u.%u, newer than this "
                         "sluice's ABI %d.%d: upgrade sluice or rebuild the plugin",
                         path, d->abi_major, d->abi_minor, SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR);
    if (d->struct_size < offsetof(struct sluice_plugin, reopen) || !d->name || !*d->name)
        return xasprintf("plugin %s has a malformed descriptor", path);
    if (d->kind != SLUICE_PLUGIN_INPUT && d->kind != SLUICE_PLUGIN_FILTER &&
        d->kind != SLUICE_PLUGIN_OUTPUT)
        return xasprintf("plugin %s declares an unknown kind %d", path, (int)d->kind);
    return NULL;
}

static const plugin_entry *
find_loaded(plugin_registry *reg, sluice_plugin_kind kind, const char *name)
{
    for (size_t i = 0; i < reg->n_loaded; i++)
        if (reg->loaded[i]->desc.kind == kind && strcmp(reg->loaded[i]->desc.name, name) == 0)
            return reg->loaded[i];
    return NULL;
}

const plugin_entry *
registry_load_path(plugin_registry *reg, const char *path, char **err)
{
    for (size_t i = 0; i < reg->n_loaded; i++)
        if (strcmp(reg->loaded[i]->path, path) == 0)
            return reg->loaded[i];
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        *err = xasprintf("cannot load plugin %s: %s", path, dlerror());
        return NULL;
    }
    const struct sluice_plugin *d = dlsym(dl, SLUICE_PLUGIN_SYMBOL);
    if (!d) {
        *err = xasprintf("%s is not a sluice plugin: it exports no '%s' symbol", path,
                         SLUICE_PLUGIN_SYMBOL);
        dlclose(dl);
        return NULL;
    }
    if ((*err = check_abi(d, path))) {
        dlclose(dl);
        return NULL;
    }
    const plugin_entry *dup = find_loaded(reg, d->kind, d->name);
    if (dup) {
        dlclose(dl);
        return dup;
    }
    plugin_entry *e = xcalloc(1, sizeof *e);
    size_t n = d->struct_size < sizeof e->desc ? d->struct_size : sizeof e->desc;
    memcpy(&e->desc, d, n);
    e->path = xstrdup(path);
    e->dl = dl;
    reg->loaded = xrealloc(reg->loaded, (reg->n_loaded + 1) * sizeof *reg->loaded);
    reg->loaded[reg->n_loaded++] = e;
    return e;
}

const plugin_entry *
registry_find(plugin_registry *reg, sluice_plugin_kind kind, const char *name, char **err)
{
    const plugin_entry *e = find_loaded(reg, kind, name);
    if (e)
        return e;
    for (const char *c = name; *c; c++)
        if (*c == '/' || *c == '.') {
            *err = xasprintf("invalid %s plugin name '%s'", plugin_kind_name(kind), name);
            return NULL;
        }
    for (size_t i = 0; i < reg->n_dirs; i++) {
        char *path = xasprintf("%s/%s_%s.so", reg->dirs[i], plugin_kind_prefix(kind), name);
        if (access(path, F_OK) == 0) {
            e = registry_load_path(reg, path, err);
            if (e && (e->desc.kind != kind || strcmp(e->desc.name, name) != 0)) {
                *err = xasprintf("plugin %s declares itself %s '%s', not %s '%s'", path,
                                 plugin_kind_name(e->desc.kind), e->desc.name,
                                 plugin_kind_name(kind), name);
                e = NULL;
            }
            free(path);
            return e;
        }
        free(path);
    }
    size_t len = 0;
    for (size_t i = 0; i < reg->n_dirs; i++)
        len += strlen(reg->dirs[i]) + 2;
    char *dirs = xcalloc(1, len + 1);
    for (size_t i = 0; i < reg->n_dirs; i++) {
        if (i)
            strcat(dirs, ", ");
        strcat(dirs, reg->dirs[i]);
    }
    *err = xasprintf("unknown %s plugin '%s' (searched %s)", plugin_kind_name(kind), name,
                     reg->n_dirs ? dirs : "no directories");
    free(dirs);
    return NULL;
}

static int
compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
registry_load_all(plugin_registry *reg, void (*on_error)(const char *msg))
{
    for (size_t i = 0; i < reg->n_dirs; i++) {
        DIR *d = opendir(reg->dirs[i]);
        if (!d)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t len = strlen(de->d_name);
            if (len > 3 && strcmp(de->d_name + len - 3, ".so") == 0) {
                names = xrealloc(names, (n + 1) * sizeof *names);
                names[n++] = xstrdup(de->d_name);
            }
        }
        closedir(d);
        if (n)
            qsort(names, n, sizeof *names, compare_str);
        for (size_t j = 0; j < n; j++) {
            char *path = xasprintf("%s/%s", reg->dirs[i], names[j]);
            char *err = NULL;
            if (!registry_load_path(reg, path, &err) && on_error)
                on_error(err);
            free(err);
            free(path);
            free(names[j]);
        }
        free(names);
    }
}

const char **
registry_names(plugin_registry *reg, sluice_plugin_kind kind, size_t *n)
{
    registry_load_all(reg, NULL);
    const char **names = xcalloc(reg->n_loaded + 1, sizeof *names);
    *n = 0;
    for (size_t i = 0; i < reg->n_loaded; i++)
        if (reg->loaded[i]->desc.kind == kind)
            names[(*n)++] = reg->loaded[i]->desc.name;
    return names;
}

static void
free_registry(plugin_registry *reg, int unload)
{
    for (size_t i = 0; i < reg->n_loaded; i++) {
        /* Under a sanitizer, keep plugins mapped so leak reports can still
         * name their frames. */
#if !defined(__SANITIZE_ADDRESS__)
        if (unload)
            dlclose(reg->loaded[i]->dl);
#else
        (void)unload;
#endif
        free(reg->loaded[i]->path);
        free(reg->loaded[i]);
    }
    free(reg->loaded);
    for (size_t i = 0; i < reg->n_dirs; i++)
        free(reg->dirs[i]);
    free(reg->dirs);
    memset(reg, 0, sizeof *reg);
}

void
registry_free(plugin_registry *reg)
{
    free_registry(reg, 1);
}

void
registry_free_keep_loaded(plugin_registry *reg)
{
    free_registry(reg, 0);
}

/* Finding and loading plugins: shared objects named <in|filter|out>_<name>.so
 * in an ordered list of directories, each exporting one `sluice_plugin`
 * descriptor whose ABI is checked before anything else is used. */
#ifndef SLUICE_PLUGIN_REGISTRY_H
#define SLUICE_PLUGIN_REGISTRY_H

#include "sluice/plugin.h"

typedef struct plugin_entry {
    struct sluice_plugin desc; /* copied, zero-filled past the plugin's struct_size */
    char *path;
    void *dl;
} plugin_entry;

typedef struct plugin_registry {
    char **dirs;
    size_t n_dirs;
    plugin_entry **loaded;
    size_t n_loaded;
} plugin_registry;

void registry_init(plugin_registry *reg);
void registry_add_dir(plugin_registry *reg, const char *dir);
/* Directories from a colon-separated list (SLUICE_PLUGINS_PATH). */
void registry_add_path_list(plugin_registry *reg, const char *list);
/* <directory of the executable>/../lib/sluice/plugins. Caller frees. */
char *registry_builtin_dir(void);

/* The plugin of `kind` named `name`, loading it on first use. NULL with
 * *err set (caller frees) when it is missing or refused. */
const plugin_entry *registry_find(plugin_registry *reg, sluice_plugin_kind kind,
                                  const char *name, char **err);
/* Load one shared object by path. */
const plugin_entry *registry_load_path(plugin_registry *reg, const char *path, char **err);
/* Load every plugin in the directories (first directory wins for a name).
 * Plugins that fail to load are reported through `on_error` (may be NULL). */
void registry_load_all(plugin_registry *reg, void (*on_error)(const char *msg));
/* Names of the loadable plugins of `kind` (for suggestions). Caller frees
 * the array, not the strings. */
const char **registry_names(plugin_registry *reg, sluice_plugin_kind kind, size_t *n);
void registry_free(plugin_registry *reg);
/* The same, leaving the shared objects loaded (a reload: an instance of
 * the old configuration may still run their code). */
void registry_free_keep_loaded(plugin_registry *reg);

const char *plugin_kind_name(sluice_plugin_kind kind);   /* "input" */
const char *plugin_kind_prefix(sluice_plugin_kind kind); /* "in" */

#endif

/* The configuration contract of DESIGN.md §5 as typed structs: the service
 * section, and pipelines of plugin instances whose options have been checked
 * against each plugin's schema. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include "config_node.h"
#include "plugin_registry.h"

typedef struct service_config {
    int log_level;
    int64_t flush_interval; /* ns */
    int64_t grace;          /* ns */
    int64_t chunk_size;     /* bytes */
    sluice_strlist plugins_path;
    char *storage_path;
    int http_enabled;
    char *http_listen;
    int exit_when_done;
} service_config;

enum { BUFFER_MEMORY, BUFFER_FILESYSTEM };
enum { WHEN_FULL_BLOCK, WHEN_FULL_DROP_OLDEST };
enum { FSYNC_ALWAYS, FSYNC_INTERVAL, FSYNC_NEVER };

/* Core options every output takes besides its plugin's own; filters take
 * dead_letter_path only. */
typedef struct output_settings {
    int64_t workers;
    int buffer_type;    /* BUFFER_MEMORY or BUFFER_FILESYSTEM */
    int64_t max_memory;
    int64_t max_disk;
    int when_full;      /* WHEN_FULL_BLOCK or WHEN_FULL_DROP_OLDEST */
    int fsync;          /* FSYNC_ALWAYS, FSYNC_INTERVAL or FSYNC_NEVER */
    int64_t max_attempts;
    int64_t initial_backoff;
    int64_t max_backoff;
    char *dead_letter_path;
} output_settings;

typedef struct instance_config {
    const plugin_entry *plugin;
    char *id;
    char *where;          /* "pipelines.app.inputs[0]", for errors */
    const cfg_node *node; /* its map in the configuration tree */
    void *config; /* the plugin's struct, filled from its schema */
    int rejected; /* a value its schema's check hook refused: not to init */
    output_settings out;
} instance_config;

typedef struct pipeline_config {
    char *name;
    instance_config *inputs, *filters, *outputs;
    size_t n_inputs, n_filters, n_outputs;
} pipeline_config;

typedef struct sluice_config {
    char *path;
    cfg_node *root; /* kept so that plugins' errors can name their place */
    service_config service;
    pipeline_config *pipelines;
    size_t n_pipelines;
    plugin_registry registry;
} sluice_config;

extern const sluice_option service_options[];
extern const sluice_option output_options[];
extern const sluice_option filter_options[];

/* Load and check `path`. `builtin_dir` is where the built-in plugins live
 * (NULL: next to the executable). Returns 0, or -1 with every problem found
 * added to `errs`. Call config_free in both cases. Values that only a check
 * hook refused do not make it fail: they are in `errs` (n_judged), and
 * their instances are marked `rejected`, which engine_create refuses after
 * the other instances' inits have said what they find. */
int config_load(sluice_config *cfg, const char *path, const char *builtin_dir, cfg_errors *errs);
void config_free(sluice_config *cfg);
/* The same, leaving its plugins' shared objects loaded. */
void config_free_keep_plugins(sluice_config *cfg);

#endif

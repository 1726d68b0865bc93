/* Building the typed configuration from the YAML tree: top-level keys, the
 * service section, pipelines, and each plugin instance's options. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "option.h"
#include "xalloc.h"

/* ==== Schemas of the core's own sections ==== */

static const sluice_option storage_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR, .def = "/var/lib/sluice",
     .offset = offsetof(service_config, storage_path),
     .help = "Directory for filesystem buffers (<path>/<pipeline>/<output-id>/)."},
    SLUICE_OPTIONS_END,
};

static const sluice_option http_options[] = {
    {.name = "listen", .type = SLUICE_OPT_STR, .def = "127.0.0.1:2020",
     .offset = offsetof(service_config, http_listen),
     .help = "Address of the self-monitoring HTTP server: GET /metrics (Prometheus), /health, /api/v1/pipelines."},
    SLUICE_OPTIONS_END,
};

const sluice_option service_options[] = {
    {.name = "log_level", .type = SLUICE_OPT_ENUM, .def = "info",
     .offset = offsetof(service_config, log_level), .values = log_level_names,
     .help = "Lowest level of the core's and plugins' log lines."},
    {.name = "flush_interval", .type = SLUICE_OPT_DURATION, .def = "1s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(service_config, flush_interval),
     .help = "A chunk is closed and sent to the outputs at this age at the latest."},
    {.name = "grace", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 3600 * SLUICE_NSEC_PER_SEC, .offset = offsetof(service_config, grace),
     .help = "On SIGTERM, how long outputs may take to deliver what is left."},
    {.name = "chunk_size", .type = SLUICE_OPT_SIZE, .def = "1MiB", .flags = SLUICE_OPT_RANGE,
     .min = 4096, .max = 64 << 20, .offset = offsetof(service_config, chunk_size),
     .help = "A chunk is closed when its events reach this many bytes. It is the unit of "
             "buffering, retry and delivery (one request per chunk, at least), and the "
             "default memory buffer of an output is 4 of them."},
    {.name = "exit_when_done", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(service_config, exit_when_done),
     .help = "Exit (status 0) once every input has finished (dummy with a count, exec with "
             "oneshot) and what they emitted is delivered; for batch jobs. Also `--once`."},
    {.name = "plugins_path", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(service_config, plugins_path),
     .help = "More directories to search for plugins, after the built-in one."},
    {.name = "storage", .type = SLUICE_OPT_SECTION, .sub = storage_options,
     .help = "Where sluice keeps state on disk."},
    {.name = "http", .type = SLUICE_OPT_SECTION, .flags = SLUICE_OPT_OFF,
     .offset = offsetof(service_config, http_enabled), .sub = http_options,
     .help = "Self-monitoring HTTP server, or `off`."},
    SLUICE_OPTIONS_END,
};

static const char *const buffer_types[] = {"memory", "filesystem", NULL};
static const char *const when_full_values[] = {"block", "drop_oldest", NULL};
static const char *const fsync_values[] = {"always", "interval", "never", NULL};

static const sluice_option buffer_options[] = {
    {.name = "type", .type = SLUICE_OPT_ENUM, .def = "memory", .values = buffer_types,
     .offset = offsetof(output_settings, buffer_type),
     .help = "Where chunks wait for this output: in memory, or also in files under "
             "service.storage.path/<pipeline>/<output-id>/ that survive a crash and are sent "
             "after a restart."},
    {.name = "max_memory", .type = SLUICE_OPT_SIZE, .flags = SLUICE_OPT_RANGE,
     .min = 64 << 10, .max = INT64_C(1) << 40, .offset = offsetof(output_settings, max_memory),
     .help = "Memory buffer: when this output holds this many bytes of chunks, the inputs "
             "feeding it pause. Filesystem buffer: chunks beyond it stay on disk only. "
             "Default: 4 chunks (service.chunk_size) when every input of the pipeline can "
             "pause without losing events (tail, exec, dummy, syslog over TCP or unix "
             "streams: the file or the sender holds them meanwhile); 64MiB when one cannot "
             "(syslog over UDP or unix datagrams), and for a filesystem buffer (a chunk past it "
             "is read back from disk)."},
    {.name = "max_disk", .type = SLUICE_OPT_SIZE, .def = "1GiB", .flags = SLUICE_OPT_RANGE,
     .min = 64 << 10, .max = INT64_C(1) << 50, .offset = offsetof(output_settings, max_disk),
     .help = "Filesystem buffer: the most bytes of chunk files this output keeps."},
    {.name = "when_full", .type = SLUICE_OPT_ENUM, .def = "block", .values = when_full_values,
     .offset = offsetof(output_settings, when_full),
     .help = "Filesystem buffer at max_disk: pause the inputs, or delete the oldest chunks "
             "(every dropped event is counted and logged)."},
    {.name = "fsync", .type = SLUICE_OPT_ENUM, .def = "interval", .values = fsync_values,
     .offset = offsetof(output_settings, fsync),
     .help = "Filesystem buffer: fsync after every write, once a second and at every chunk "
             "close, or never (the kernel's page cache still survives a crash of sluice). Inputs "
             "that acknowledge (tail) commit past events once they are written to the chunk "
             "files, which survives kill -9; with always, once they are fsynced, which also "
             "survives a power loss."},
    SLUICE_OPTIONS_END,
};

static const sluice_option retry_options[] = {
    {.name = "max_attempts", .type = SLUICE_OPT_INT, .def = "0", .flags = SLUICE_OPT_RANGE,
     .min = 0, .max = 1000000, .offset = offsetof(output_settings, max_attempts),
     .help = "Give up on a chunk after this many failed attempts; 0 retries forever."},
    {.name = "initial_backoff", .type = SLUICE_OPT_DURATION, .def = "1s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(output_settings, initial_backoff),
     .help = "Upper bound of the first retry's delay (full jitter)."},
    {.name = "max_backoff", .type = SLUICE_OPT_DURATION, .def = "60s",
     .flags = SLUICE_OPT_RANGE, .min = SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(output_settings, max_backoff),
     .help = "Cap of the exponential backoff between retries."},
    SLUICE_OPTIONS_END,
};

static const sluice_option dead_letter_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR, .offset = offsetof(output_settings, dead_letter_path),
     .help = "File to which events that failed for good are appended as JSON lines "
             "{time, pipeline, output, error, event}; without it they are logged and counted."},
    SLUICE_OPTIONS_END,
};

const sluice_option output_options[] = {
    {.name = "workers", .type = SLUICE_OPT_INT, .def = "1", .flags = SLUICE_OPT_RANGE, .min = 1,
     .max = 64, .offset = offsetof(output_settings, workers),
     .help = "Threads flushing chunks to this output concurrently."},
    {.name = "buffer", .type = SLUICE_OPT_SECTION, .sub = buffer_options,
     .help = "How chunks are held until delivered."},
    {.name = "retry", .type = SLUICE_OPT_SECTION, .sub = retry_options,
     .help = "Exponential backoff with full jitter for transient failures."},
    {.name = "dead_letter", .type = SLUICE_OPT_SECTION, .sub = dead_letter_options,
     .help = "Where events that failed for good go."},
    SLUICE_OPTIONS_END,
};

const sluice_option filter_options[] = {
    {.name = "dead_letter", .type = SLUICE_OPT_SECTION, .sub = dead_letter_options,
     .help = "Where events the filter could not process go, when it is told to dead-letter "
             "them (e.g. json's on_error: dead_letter)."},
    SLUICE_OPTIONS_END,
};

static const char *const top_keys[] = {"service", "pipelines", NULL};
static const char *const pipeline_keys[] = {"inputs", "filters", "outputs", NULL};
static const char *const instance_keys[] = {"type", "id", NULL};

/* ==== Instances ==== */

static int
valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

typedef struct build_ctx {
    sluice_config *cfg;
    cfg_errors *errs;
} build_ctx;

static int
id_taken(const sluice_config *cfg, const pipeline_config *cur, const char *id)
{
    for (size_t p = 0; p <= cfg->n_pipelines; p++) {
        const pipeline_config *pc = p < cfg->n_pipelines ? &cfg->pipelines[p] : cur;
        if (!pc)
            continue;
        const instance_config *lists[3] = {pc->inputs, pc->filters, pc->outputs};
        size_t counts[3] = {pc->n_inputs, pc->n_filters, pc->n_outputs};
        for (int l = 0; l < 3; l++)
            for (size_t i = 0; i < counts[l]; i++)
                if (lists[l][i].id && strcmp(lists[l][i].id, id) == 0)
                    return 1;
        if (pc == cur)
            break;
    }
    return 0;
}

/* Names users bring from Fluent Bit and Vector, and ours for them. */
static const struct {
    sluice_plugin_kind kind;
    const char *theirs, *ours;
} foreign_names[] = {
    {SLUICE_PLUGIN_OUTPUT, "es", "elasticsearch"},
    {SLUICE_PLUGIN_OUTPUT, "opensearch", "elasticsearch"},
    {SLUICE_PLUGIN_OUTPUT, "console", "stdout"},
    {SLUICE_PLUGIN_OUTPUT, "blackhole", "null"},
    {SLUICE_PLUGIN_FILTER, "parser", "regex (or json)"},
    {SLUICE_PLUGIN_FILTER, "record_modifier", "modify"},
    {SLUICE_PLUGIN_FILTER, "remap", "modify"},
    {SLUICE_PLUGIN_FILTER, "filter", "grep"},
    {SLUICE_PLUGIN_INPUT, "file", "tail"},
    {SLUICE_PLUGIN_INPUT, "demo_logs", "dummy"},
    {SLUICE_PLUGIN_INPUT, "fluentbit_metrics", "internal_metrics"},
};

static void
unknown_plugin(build_ctx *bx, const cfg_node *type, const char *where, sluice_plugin_kind kind,
               const char *err)
{
    /* A plugin of another kind in the wrong list: "regex is a filter". */
    for (sluice_plugin_kind k = SLUICE_PLUGIN_INPUT; k <= SLUICE_PLUGIN_OUTPUT; k++) {
        char *other_err = NULL;
        if (k != kind && registry_find(&bx->cfg->registry, k, type->value, &other_err)) {
            cfg_error_node(bx->errs, type, "%s.type: %s is %s %s, not %s %s: list it under %ss",
                           where, type->value, k == SLUICE_PLUGIN_FILTER ? "a" : "an",
                           plugin_kind_name(k), kind == SLUICE_PLUGIN_FILTER ? "a" : "an",
                           plugin_kind_name(kind), plugin_kind_name(k));
            return;
        }
        free(other_err);
    }
    for (size_t i = 0; i < sizeof foreign_names / sizeof *foreign_names; i++)
        if (foreign_names[i].kind == kind && strcasecmp(foreign_names[i].theirs, type->value) == 0) {
            cfg_error_node(bx->errs, type, "%s.type: %s; sluice's name for it is '%s'", where,
                           err, foreign_names[i].ours);
            return;
        }
    size_t n;
    const char **names = registry_names(&bx->cfg->registry, kind, &n);
    const char *hint = option_suggest(type->value, names, n);
    if (hint)
        cfg_error_node(bx->errs, type, "%s.type: %s; did you mean '%s'?", where, err, hint);
    else
        cfg_error_node(bx->errs, type, "%s.type: %s", where, err);
    free(names);
}

/* Fill one instance from its map. Returns 0 or -1. */
static int
build_instance(build_ctx *bx, pipeline_config *pc, instance_config *ic, sluice_plugin_kind kind,
               const cfg_node *map, const char *where, size_t nth_of_type)
{
    char found[96];
    ic->where = xstrdup(where);
    ic->node = map;
    if (map->kind != CFG_MAP) {
        cfg_error_node(bx->errs, map, "%s: expected a map with a 'type', found %s", where,
                       cfg_describe(map, found, sizeof found));
        return -1;
    }
    const cfg_node *type = cfg_map_get(map, "type");
    if (!type) {
        cfg_error_node(bx->errs, map, "%s: missing required key 'type'", where);
        return -1;
    }
    if (type->kind != CFG_SCALAR) {
        cfg_error_node(bx->errs, type, "%s.type: expected a plugin name, found %s", where,
                       cfg_describe(type, found, sizeof found));
        return -1;
    }
    char *err = NULL;
    ic->plugin = registry_find(&bx->cfg->registry, kind, type->value, &err);
    if (!ic->plugin) {
        unknown_plugin(bx, type, where, kind, err);
        free(err);
        return -1;
    }
    const struct sluice_plugin *pl = &ic->plugin->desc;

    const cfg_node *id = cfg_map_get(map, "id");
    char *new_id;
    if (id) {
        if (id->kind != CFG_SCALAR || !valid_name(id->value)) {
            cfg_error_node(bx->errs, id,
                           "%s.id: expected a name of letters, digits, '_', '-' and '.', found %s",
                           where, cfg_describe(id, found, sizeof found));
            return -1;
        }
        new_id = xstrdup(id->value);
    } else {
        /* An input and an output of one name (http, syslog) count on from
         * each other: app.http.0 and app.http.1. */
        new_id = xasprintf("%s.%s.%zu", pc->name, pl->name, nth_of_type);
        while (id_taken(bx->cfg, pc, new_id)) {
            free(new_id);
            new_id = xasprintf("%s.%s.%zu", pc->name, pl->name, ++nth_of_type);
        }
    }
    if (id_taken(bx->cfg, pc, new_id)) {
        cfg_error_node(bx->errs, id ? id : map, "%s: instance id '%s' is used twice", where,
                       new_id);
        free(new_id);
        return -1;
    }
    ic->id = new_id;

    /* Outputs and filters take the core's options besides their plugin's. */
    const sluice_option *core_opts = kind == SLUICE_PLUGIN_OUTPUT   ? output_options
                                     : kind == SLUICE_PLUGIN_FILTER ? filter_options
                                                                    : NULL;
    const sluice_option *schemas[2] = {pl->options, core_opts};
    int bad = option_check_keys(map, where, schemas, core_opts ? 2 : 1, instance_keys, bx->errs);
    ic->config = xcalloc(1, pl->config_size ? pl->config_size : 1);
    size_t judged = bx->errs->n_judged;
    bad += option_fill(pl->options, ic->config, map, where, option_keys_checked, bx->errs);
    ic->rejected = bx->errs->n_judged > judged;
    if (core_opts)
        bad += option_fill(core_opts, &ic->out, map, where, option_keys_checked, bx->errs);
    return bad ? -1 : 0;
}

enum { LIST_OPTIONAL, LIST_NONEMPTY_IF_GIVEN, LIST_REQUIRED };

static void
build_list(build_ctx *bx, pipeline_config *pc, const cfg_node *pmap, const char *key,
           sluice_plugin_kind kind, instance_config **out, size_t *n_out, int need)
{
    char where[512], found[96];
    const cfg_node *list = cfg_map_get(pmap, key);
    if (!list) {
        if (need == LIST_REQUIRED)
            cfg_error_node(bx->errs, pmap, "pipelines.%s: missing required key '%s'", pc->name,
                           key);
        return;
    }
    int nonempty = need != LIST_OPTIONAL;
    if (list->kind != CFG_SEQ || (nonempty && list->n == 0)) {
        cfg_error_node(bx->errs, list, "pipelines.%s.%s: expected a %slist of %ss, found %s",
                       pc->name, key, nonempty ? "non-empty " : "", plugin_kind_name(kind),
                       list->kind == CFG_SEQ ? "an empty list"
                                             : cfg_describe(list, found, sizeof found));
        return;
    }
    *out = xcalloc(list->n, sizeof **out);
    for (size_t i = 0; i < list->n; i++) {
        snprintf(where, sizeof where, "pipelines.%s.%s[%zu]", pc->name, key, i);
        const cfg_node *type = cfg_map_get(list->items[i], "type");
        size_t nth = 0;
        for (size_t j = 0; j < i && type && type->kind == CFG_SCALAR; j++) {
            const cfg_node *t = cfg_map_get(list->items[j], "type");
            nth += t && t->kind == CFG_SCALAR && strcmp(t->value, type->value) == 0;
        }
        instance_config *ic = &(*out)[(*n_out)++];
        build_instance(bx, pc, ic, kind, list->items[i], where, nth);
    }
}

static void
build_pipelines(build_ctx *bx, const cfg_node *pipes)
{
    char found[96];
    if (pipes->kind != CFG_MAP || pipes->n == 0) {
        cfg_error_node(bx->errs, pipes, "pipelines: expected a map of named pipelines, found %s",
                       pipes->kind == CFG_MAP ? "an empty map"
                                              : cfg_describe(pipes, found, sizeof found));
        return;
    }
    sluice_config *cfg = bx->cfg;
    cfg->pipelines = xcalloc(pipes->n / 2, sizeof *cfg->pipelines);
    for (size_t i = 0; i + 1 < pipes->n; i += 2) {
        const cfg_node *name = pipes->items[i], *pmap = pipes->items[i + 1];
        if (!valid_name(name->value)) {
            cfg_error_node(bx->errs, name,
                           "pipelines: a pipeline name is letters, digits, '_', '-' and '.', "
                           "found '%s'",
                           name->value);
            continue;
        }
        if (pmap->kind != CFG_MAP) {
            cfg_error_node(bx->errs, pmap,
                           "pipelines.%s: expected a map with inputs, filters and outputs, found %s",
                           name->value, cfg_describe(pmap, found, sizeof found));
            continue;
        }
        pipeline_config *pc = &cfg->pipelines[cfg->n_pipelines];
        pc->name = xstrdup(name->value);
        char where[300];
        snprintf(where, sizeof where, "pipelines.%s", pc->name);
        option_check_keys(pmap, where, NULL, 0, pipeline_keys, bx->errs);
        /* A pipeline without inputs carries what filters of other pipelines
         * route to it (log_to_metrics' emit_to). */
        build_list(bx, pc, pmap, "inputs", SLUICE_PLUGIN_INPUT, &pc->inputs, &pc->n_inputs,
                   LIST_NONEMPTY_IF_GIVEN);
        build_list(bx, pc, pmap, "filters", SLUICE_PLUGIN_FILTER, &pc->filters, &pc->n_filters,
                   LIST_OPTIONAL);
        build_list(bx, pc, pmap, "outputs", SLUICE_PLUGIN_OUTPUT, &pc->outputs, &pc->n_outputs,
                   LIST_REQUIRED);
        cfg->n_pipelines++;
    }
}

int
config_load(sluice_config *cfg, const char *path, const char *builtin_dir, cfg_errors *errs)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path = xstrdup(path);
    registry_init(&cfg->registry);
    size_t before = errs->n - errs->n_judged;

    cfg_node *root = cfg_load_file(path, errs);
    if (!root) {
        option_fill(service_options, &cfg->service, NULL, "service", NULL, errs);
        return -1;
    }
    option_check_keys(root, "configuration", NULL, 0, top_keys, errs);

    const cfg_node *svc = cfg_map_get(root, "service");
    if (svc && svc->kind != CFG_MAP) {
        char found[96];
        cfg_error_node(errs, svc, "service: expected a map, found %s",
                       cfg_describe(svc, found, sizeof found));
        svc = NULL;
    }
    option_fill(service_options, &cfg->service, svc, "service", NULL, errs);

    char *builtin = builtin_dir ? xstrdup(builtin_dir) : registry_builtin_dir();
    registry_add_dir(&cfg->registry, builtin);
    free(builtin);
    for (size_t i = 0; i < cfg->service.plugins_path.n; i++)
        registry_add_dir(&cfg->registry, cfg->service.plugins_path.v[i]);
    registry_add_path_list(&cfg->registry, getenv("SLUICE_PLUGINS_PATH"));

    const cfg_node *pipes = cfg_map_get(root, "pipelines");
    build_ctx bx = {cfg, errs};
    if (!pipes)
        cfg_error_node(errs, root, "missing required key 'pipelines'");
    else
        build_pipelines(&bx, pipes);

    cfg_report_all_unset(errs, root);
    cfg->root = root;
    return errs->n - errs->n_judged > before ? -1 : 0;
}

static void
free_instances(instance_config *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].plugin)
            option_free(v[i].plugin->desc.options, v[i].config);
        option_free(output_options, &v[i].out); /* a superset of filter_options */
        free(v[i].config);
        free(v[i].id);
        free(v[i].where);
    }
    free(v);
}

static void
free_config(sluice_config *cfg, int unload)
{
    for (size_t p = 0; p < cfg->n_pipelines; p++) {
        pipeline_config *pc = &cfg->pipelines[p];
        free_instances(pc->inputs, pc->n_inputs);
        free_instances(pc->filters, pc->n_filters);
        free_instances(pc->outputs, pc->n_outputs);
        free(pc->name);
    }
    free(cfg->pipelines);
    option_free(service_options, &cfg->service);
    if (unload)
        registry_free(&cfg->registry);
    else
        registry_free_keep_loaded(&cfg->registry);
    cfg_tree_free(cfg->root);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

void
config_free(sluice_config *cfg)
{
    free_config(cfg, 1);
}

void
config_free_keep_plugins(sluice_config *cfg)
{
    free_config(cfg, 0);
}

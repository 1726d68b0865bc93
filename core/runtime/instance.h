/* A running plugin instance, as the core sees it. */
#ifndef SLUICE_INSTANCE_H
#define SLUICE_INSTANCE_H

#include <stdint.h>
#include "config_error.h"
#include "sluice/log.h"
#include "sluice/plugin.h"

struct pipeline;
struct output;
struct retired_own;
struct dead_letter;
struct cfg_node;
struct sluice_config;

struct sluice_instance {
    const struct sluice_plugin *plugin;
    const char *id;         /* borrowed from the config */
    const char *where;      /* "pipelines.app.inputs[0]", borrowed from the config */
    const struct cfg_node *node; /* its map in the config tree, for errors' places */
    struct pipeline *pipeline;
    uv_loop_t *loop;        /* the engine's */
    const struct sluice_config *cfg;
    int dry_run;            /* sluice validate: check, create nothing */
    cfg_errors *errs;       /* while building: where sluice_option_error adds */
    int option_errors;      /* errors reported through sluice_option_error */
    int done;               /* an input that said sluice_input_done */
    int loses_when_paused;  /* an input that said so (UDP) */
    struct sluice_collector *collectors; /* sluice_collector_add's */
    int collecting;         /* started and not stopped: collectors run */
    int routes;             /* a filter that emits into another pipeline */
    const void *config;     /* borrowed from the config */
    struct instance_config *source; /* where its settings are, in the config in force */
    uint64_t fingerprint;   /* cfg_node_hash of its settings: a reload keeps it if equal */
    char **dep_paths;       /* files its settings include (sluice_instance_depends_on)... */
    uint64_t *dep_hashes;   /* ...and the hashes of their contents then */
    size_t n_deps;
    int staged;             /* part of the configuration a reload is checking */
    struct retired_own *own; /* retired by a reload: what it borrowed, now its own */
    int holds;              /* work outstanding after stop (sluice_instance_hold) */
    void *ctx;              /* the plugin's */
    int inited, started, paused;
    sluice_emitter *emitter; /* inputs: where they emit; filters: their output */
    struct output *output;   /* outputs */
    uint64_t events_in;      /* inputs: emitted; filters: received */
    uint64_t bytes_in;       /* inputs: bytes emitted */
    uint64_t events_out;     /* filters: passed on */
    uint64_t filter_errors;  /* filters: batches the callback failed on */
    uint64_t dropped;        /* filters: events dropped on purpose (sluice_filter_dropped) */
    uint64_t failed;         /* filters: events they could not process (sluice_filter_failed) */
    struct dead_letter *dead; /* filters: their dead letters */
};

/* "input", "filter" or "output". */
const char *instance_kind_name(const sluice_instance *ins);
/* The configuration it was built from, or (retired by a reload) the one
 * in force. */
const struct sluice_config *instance_config_of(const sluice_instance *ins);
/* Whether a file it depends on changed since it read it. */
int instance_deps_changed(const sluice_instance *ins);
void instance_deps_free(sluice_instance *ins);

#endif

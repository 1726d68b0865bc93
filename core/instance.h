/* A running plugin instance, as the core sees it. */
#ifndef SLUICE_INSTANCE_H
#define SLUICE_INSTANCE_H

#include <stdint.h>
#include "sluice/log.h"
#include "sluice/plugin.h"

struct pipeline;
struct output;
struct dead_letter;

struct sluice_instance {
    const struct sluice_plugin *plugin;
    const char *id;         /* borrowed from the config */
    struct pipeline *pipeline;
    const void *config;     /* borrowed from the config */
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

#endif

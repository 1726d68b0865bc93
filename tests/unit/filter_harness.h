/* Running filters in-process for unit tests: a pipeline of the given
 * filters, events fed in as JSON, and what comes out as JSON lines. */
#ifndef SLUICE_FILTER_HARNESS_H
#define SLUICE_FILTER_HARNESS_H

#include "engine.h"

typedef struct harness {
    sluice_config cfg;
    engine e;
    char *dir;   /* a temporary directory, removed by harness_free */
    int created; /* engine_create ran */
    cfg_errors errs; /* what engine_create found, with places */
} harness;

/* Build pipeline "t" with `filters` (a YAML list) and, when `extra` is not
 * NULL, more YAML under `pipelines:` (other pipelines). ${DIR} in either is
 * replaced by the temporary directory. Returns engine_create's result. */
int harness_init(harness *h, const char *filters, const char *extra);
/* Feed events (JSON objects; NULL-terminated) at time `t` through the
 * filters. */
void harness_feed(harness *h, sluice_time_t t, const char *const *events);
/* Call every filter's stop (which may emit what it holds). */
void harness_stop(harness *h);
/* What reached pipeline `pipeline`'s chunks so far, as JSON lines (logs
 * first, then metrics), with the time under "time" when `with_time`.
 * Caller frees. */
char *harness_output(harness *h, const char *pipeline, int with_time);
/* Filter `i` of pipeline "t". */
sluice_instance *harness_filter(harness *h, size_t i);
void harness_free(harness *h);

#endif

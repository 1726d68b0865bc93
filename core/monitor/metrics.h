/* sluice's own counters, walked from one table so that /metrics
 * (Prometheus), /api/v1/pipelines (JSON), /health and the internal_metrics
 * input all report the same things. Engine thread only. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include "sluice/buf.h"

struct engine;

/* Prometheus text exposition format 0.0.4. */
void metrics_prometheus(struct engine *e, sluice_buf *out);
/* The running topology with its counters, and each counter's rate per
 * second over about the last 10 s (sampled at each call). */
void metrics_pipelines_json(struct engine *e, sluice_buf *out);
/* Whether a member of an instance's object in that JSON is the core's
 * (else the plugin's own metric, or a rate). */
int metrics_is_core_field(const char *name);
/* Health: 200 while every output delivers or is within its retry budget;
 * 503 with the reasons otherwise. Returns the status. */
int metrics_health(struct engine *e, sluice_buf *out);

/* Note the process's start time (process_start_time_seconds). */
void metrics_process_started(void);

#endif

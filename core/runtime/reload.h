/* Reloading the configuration while running: SIGHUP, POST /api/v1/reload
 * and --watch-config ask; the new configuration is loaded, checked and its
 * new instances initialised before anything running is touched, and only
 * what changed is rebuilt (see reload.c). Engine thread only. */
#ifndef SLUICE_RELOAD_H
#define SLUICE_RELOAD_H

#include "sluice/buf.h"

struct engine;
struct output;
struct sluice_config;

/* What the command line changes in every configuration it loads. */
typedef void (*reload_adjust_fn)(struct sluice_config *cfg, void *arg);

/* Before engine_run. `watch`: reload when the configuration's files change. */
void reload_setup(struct engine *e, reload_adjust_fn adjust, void *arg, int watch);
/* Engine loop ready: the timers, and the file watches. */
void reload_start(struct engine *e);
/* Reload soon, once: asks during a reload make one more after it. */
void reload_request(struct engine *e, const char *trigger);
/* Reload now; 0 when the new configuration runs. */
int reload_now(struct engine *e, const char *trigger);
/* GET /api/v1/reload. */
void reload_status_json(struct engine *e, sluice_buf *out);

/* Shutdown: outputs a reload retired that still finish their chunks. */
size_t reload_draining(struct engine *e, struct output ***v);
void reload_close_handles(struct engine *e);
/* After the running pipelines' instances are freed: free what reloads
 * left behind. */
void reload_free(struct engine *e);

#endif

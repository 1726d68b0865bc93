/* The self-monitoring HTTP server (service.http.listen): GET /metrics,
 * /health and /api/v1/pipelines. libmicrohttpd serves on its own thread;
 * every answer is built on the engine thread, on request, so no counter is
 * ever read across threads. */
#ifndef SLUICE_MONITOR_H
#define SLUICE_MONITOR_H

#include <stddef.h>

struct engine;
struct monitor;

/* Start listening on `listen` ("127.0.0.1:2020", "[::1]:2020"). Returns
 * NULL after logging why it cannot. */
struct monitor *monitor_start(struct engine *e, const char *listen);
/* Whether `listen` is an address monitor_start can take; -1 with why. */
int monitor_check_listen(const char *listen, char *err, size_t errlen);
/* Stop serving and free (engine thread). */
void monitor_stop(struct monitor *m);

#endif

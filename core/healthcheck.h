/* `sluice healthcheck` (see healthcheck.c). */
#ifndef SLUICE_HEALTHCHECK_H
#define SLUICE_HEALTHCHECK_H

#include <stddef.h>

/* GET /health of the sluice whose self-monitoring listens at `listen`
 * (host:port, wildcards meaning loopback); the body goes to stdout.
 * Returns 0 when it answers 200 within `timeout_ms`, else 1. */
int healthcheck(const char *listen, long timeout_ms);
/* The host:port to connect to for a listen address: a wildcard listener
 * (0.0.0.0, [::], ":port") is reached on loopback. `sluice top` too. */
void healthcheck_connect_address(const char *listen, char *out, size_t size);

#endif

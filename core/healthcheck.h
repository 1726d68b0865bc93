/* `sluice healthcheck` (see healthcheck.c). */
#ifndef SLUICE_HEALTHCHECK_H
#define SLUICE_HEALTHCHECK_H

/* GET /health of the sluice whose self-monitoring listens at `listen`
 * (host:port, wildcards meaning loopback); the body goes to stdout.
 * Returns 0 when it answers 200 within `timeout_ms`, else 1. */
int healthcheck(const char *listen, long timeout_ms);

#endif

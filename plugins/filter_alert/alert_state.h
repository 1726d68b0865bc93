/* The alert filter's state on disk: each pending, firing or recently
 * resolved alert with its times and what was last sent, so that after a
 * restart `for` goes on and a firing alert is not sent as new. */
#ifndef ALERT_STATE_H
#define ALERT_STATE_H

#include <sluice/sluice.h>

#include "rules.h"

/* Write every alert of `rs` to `path` (a temporary file renamed over it).
 * Returns 0, or -1 with errno. */
int alert_state_save(const pq_ruleset *rs, const char *path);
/* Put the alerts saved in `path` back into their rules (matched by group
 * and alert name). Returns how many; 0 when there is no file. */
int alert_state_load(pq_ruleset *rs, const char *path);
/* A map option of strings as a label set (values that are not strings
 * are left out). */
void alert_state_labels(const sluice_bytes *map, pq_lset *out);
/* The same, refusing a value that is not a string: 0, or -1 with why. */
int alert_state_labels_strict(const sluice_bytes *map, pq_lset *out, char *err, size_t errlen);

#endif

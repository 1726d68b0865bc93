/* `sluice rules test` and `sluice rules check`: promtool's unit tests and
 * rule file checks. Both print promtool's way to `out` and return 0 when
 * everything passed, 1 otherwise. */
#ifndef SLUICE_PQ_RULES_TEST_H
#define SLUICE_PQ_RULES_TEST_H

#include <stdio.h>

int pq_rules_unit_test(const char *path, FILE *out);
int pq_rules_check(const char *path, FILE *out);

#endif

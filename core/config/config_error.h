/* Configuration errors: collected, not stopped at, so that `sluice validate`
 * lists every problem at once. Each names file:line:column. */
#ifndef SLUICE_CONFIG_ERROR_H
#define SLUICE_CONFIG_ERROR_H

#include <stdio.h>

typedef struct cfg_error {
    char *file; /* NULL when the error has no place */
    int line, col;
    char *msg;
} cfg_error;

typedef struct cfg_errors {
    cfg_error *v;
    size_t n, cap;
    /* Of them, values an option's check hook refused: the configuration
     * can still be built, so that validate goes on to the plugins' inits. */
    size_t n_judged;
} cfg_errors;

struct cfg_node;

void cfg_error_at(cfg_errors *e, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same at a node's position. */
void cfg_error_node(cfg_errors *e, const struct cfg_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "file:line:col: msg", or "file: msg", or "msg". Caller frees. */
char *cfg_error_str(const cfg_error *err);
void cfg_errors_print(const cfg_errors *e, FILE *f);
void cfg_errors_free(cfg_errors *e);

#endif

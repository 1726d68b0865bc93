/* Validating a YAML map against an option schema and filling the typed
 * struct it describes (see include/sluice/option.h). */
#ifndef SLUICE_CORE_OPTION_H
#define SLUICE_CORE_OPTION_H

#include "config_node.h"
#include "sluice/option.h"

/* Fill `config` from `map` (NULL: defaults only). `where` names the map in
 * errors ("pipelines.app.inputs[0]"); `extra_keys` (NULL-terminated, may be
 * NULL) are keys the caller handles itself. Returns the number of errors
 * added. Call option_free on `config` whatever the result. */
int option_fill(const sluice_option *schema, void *config, const cfg_node *map,
                const char *where, const char *const *extra_keys, cfg_errors *errs);
void option_free(const sluice_option *schema, void *config);

/* Pass as `extra_keys` when the caller has already checked the map's keys
 * with option_check_keys (a map validated by more than one schema). */
extern const char *const option_keys_checked[];

/* Report every key of `map` that is in none of the `n` schemas nor in
 * `extra_keys`, suggesting the nearest valid key. Returns the count. */
int option_check_keys(const cfg_node *map, const char *where, const sluice_option *const *schemas,
                      size_t n, const char *const *extra_keys, cfg_errors *errs);

/* Scalar parsers; 0 on success, -1 if `s` is not of the form. */
int option_parse_int(const char *s, int64_t *out);
int option_parse_double(const char *s, double *out);
int option_parse_bool(const char *s, int *out);
int option_parse_duration(const char *s, int64_t *ns);
int option_parse_size(const char *s, int64_t *bytes);

/* The candidate closest to `word` by edit distance, if close enough to be a
 * likely typo; NULL otherwise. */
const char *option_suggest(const char *word, const char *const *candidates, size_t n);

/* The type as written in docs: "string", "duration", "list of strings"... */
const char *option_type_name(sluice_opt_type t);

#endif

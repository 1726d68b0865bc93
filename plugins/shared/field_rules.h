/* Rules of the form {field: regex} (grep's include/exclude,
 * log_to_metrics' when): compiled once with PCRE2 JIT, then matched
 * against a record's fields. Numbers and booleans are matched as their
 * JSON text; a missing field matches nothing. Built into the plugins that
 * use it. */
#ifndef SLUICE_FIELD_RULES_H
#define SLUICE_FIELD_RULES_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sluice/sluice.h>

typedef struct field_rule {
    char *field;
    pcre2_code *re;
} field_rule;

typedef struct field_rules {
    field_rule *v;
    size_t n;
    pcre2_match_data *md;
    sluice_buf text;
} field_rules;

/* Compile the map `src` (an SLUICE_OPT_MAP value); `what` is its option
 * path ("include", "metrics[0].when"), for errors. Returns the number of
 * bad rules (each reported with its place); the good ones are
 * kept. Call field_rules_free either way. */
int field_rules_compile(field_rules *rs, sluice_instance *ins, const char *what,
                        const sluice_bytes *src);
/* The field at `path` as text: a string as it is, any other value as JSON
 * (rendered into `scratch`); NULL when absent. */
const char *field_text(const msgpack_object *body, const char *path, sluice_buf *scratch,
                       size_t *len);
/* Whether rule `i`'s field is in `body` and its regex matches it. */
int field_rule_matches(field_rules *rs, size_t i, const msgpack_object *body);
/* Whether every rule matches (1 when there are none). */
int field_rules_all(field_rules *rs, const msgpack_object *body);
void field_rules_free(field_rules *rs);

#endif

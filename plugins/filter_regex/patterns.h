/* Built-in named patterns for filter_regex, used as %{name} inside a
 * pattern, with the time format and field types that go with them. */
#ifndef SLUICE_REGEX_PATTERNS_H
#define SLUICE_REGEX_PATTERNS_H

#include <stddef.h>

typedef struct regex_builtin {
    const char *name;
    const char *regex;
    const char *time_key;    /* the capture holding the time, or NULL */
    const char *time_format;
    const char *time_zone;   /* for formats without a zone */
    const char *types;       /* "field:type,..." */
} regex_builtin;

extern const regex_builtin regex_builtins[];

const regex_builtin *regex_builtin_find(const char *name, size_t len);

/* `pattern` with every %{name} replaced by its regex (malloc'd), or NULL
 * with `bad` pointing at the unknown reference. `used` gets the last
 * built-in referenced (its time and types are the defaults). */
char *regex_expand(const char *pattern, const regex_builtin **used, const char **bad);

#endif

/* Multiline records for tail: a small state machine of (state, regex, next
 * state) rules, as Fluent Bit's multiline parsers are. A record begins with
 * a line matching a rule of state 0, goes on while each next line matches a
 * rule of the current state, and ends at the first line that does not (or
 * at max_lines, max_bytes or the timeout). Presets for Java, Python and Go
 * stack traces; `start`/`continue` regexes for everything else. */
#ifndef TAIL_MULTILINE_H
#define TAIL_MULTILINE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>

typedef struct ml_rule {
    int state;
    pcre2_code *re;
    int negate; /* matches when the regex does not */
    int next;
} ml_rule;

typedef struct ml_spec {
    ml_rule *rules;
    size_t n;
    pcre2_match_data *md;
} ml_spec;

extern const char *const ml_preset_names[]; /* "none", "java", "python", "go" */

/* Build from a preset (index into ml_preset_names, 0 = none) or from start
 * and/or continue regexes. Returns 0, or -1 with `err` filled. */
int ml_compile(ml_spec *s, int preset, const char *start, const char *cont, char *err,
               size_t errlen);
/* The state after `line` from `state`, or -1 when no rule of `state`
 * matches it. */
int ml_next(const ml_spec *s, int state, const char *line, size_t len);
void ml_free(ml_spec *s);

#endif

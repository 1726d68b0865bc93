/* Multiline rule tables and presets (see tail_multiline.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include "tail_multiline.h"

const char *const ml_preset_names[] = {"none", "java", "python", "go", NULL};

typedef struct rule_src {
    int state;
    const char *re;
    int next;
} rule_src;

/* A log line, then the exception and its frames. */
static const rule_src java[] = {
    {0, ".", 1},
    {1, "^\\s+at |^\\s+\\.\\.\\. \\d+ (more|common frames omitted)|^\\s*Caused by: |"
        "^\\s+Suppressed: |^\\t|^[\\w$.]+(Exception|Error|Throwable)(: .*)?$|"
        "^Exception in thread ", 1},
    {0, NULL, 0},
};

/* A log line, then "Traceback ...", indented frames, the exception line,
 * and chained tracebacks. */
static const rule_src python[] = {
    {0, ".", 1},
    {1, "^Traceback \\(most recent call last\\):$", 2},
    {2, "^\\s", 2},
    {2, "^[\\w.]+(: .*)?$", 3},
    {3, "^$", 4},
    {4, "^(During handling of the above exception, another exception occurred|"
        "The above exception was the direct cause of the following exception):$", 5},
    {5, "^$", 6},
    {6, "^Traceback \\(most recent call last\\):$", 2},
    {0, NULL, 0},
};

/* "panic:" or "fatal error:", then goroutine dumps. */
static const rule_src go[] = {
    {0, "^(panic|fatal error): ", 1},
    {1, "^$|^goroutine \\d+ \\[|^\\t|^\\s+|^[\\w./*()\\[\\]{}-]+\\(.*\\)$|^created by |"
        "^\\[signal |^exit status \\d+$|^panic: |^\\[recovered\\]", 1},
    {0, NULL, 0},
};

static const rule_src *const presets[] = {NULL, java, python, go};

static int
add_rule(ml_spec *s, int state, const char *re, int negate, int next, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "bad regex '%s' at offset %zu: %s", re, (size_t)off, (char *)msg);
        return -1;
    }
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    s->rules = sluice_realloc(s->rules, (s->n + 1) * sizeof *s->rules);
    s->rules[s->n++] = (ml_rule){state, c, negate, next};
    return 0;
}

int
ml_compile(ml_spec *s, int preset, const char *start, const char *cont, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int r = 0;
    if (preset > 0) {
        for (const rule_src *src = presets[preset]; src->re && r == 0; src++)
            r = add_rule(s, src->state, src->re, 0, src->next, err, errlen);
    } else {
        r = add_rule(s, 0, start ? start : ".", 0, 1, err, errlen);
        /* Without a continue regex, whatever does not start a record
         * continues one. */
        if (r == 0)
            r = add_rule(s, 1, cont ? cont : start, cont ? 0 : 1, 1, err, errlen);
    }
    if (r == 0)
        s->md = pcre2_match_data_create(1, NULL);
    else
        ml_free(s);
    return r;
}

int
ml_next(const ml_spec *s, int state, const char *line, size_t len)
{
    for (size_t i = 0; i < s->n; i++) {
        const ml_rule *r = &s->rules[i];
        if (r->state != state)
            continue;
        int m = pcre2_match(r->re, (PCRE2_SPTR)line, len, 0, 0, s->md, NULL) >= 0;
        if (m != r->negate)
            return r->next;
    }
    return -1;
}

void
ml_free(ml_spec *s)
{
    for (size_t i = 0; i < s->n; i++)
        pcre2_code_free(s->rules[i].re);
    free(s->rules);
    pcre2_match_data_free(s->md);
    memset(s, 0, sizeof *s);
}

/* Prometheus's exposition formats, read: the text format 0.0.4 and
 * OpenMetrics 1.0 (what scrapers are served), sample by sample, with the
 * family each sample belongs to. */
#ifndef SLUICE_EXPOSITION_H
#define SLUICE_EXPOSITION_H

#include <stddef.h>
#include <stdint.h>

typedef enum exp_type {
    EXP_UNKNOWN, /* untyped, or a sample of no # TYPE'd family */
    EXP_COUNTER,
    EXP_GAUGE,
    EXP_HISTOGRAM,
    EXP_GAUGEHISTOGRAM,
    EXP_SUMMARY,
    EXP_INFO,
    EXP_STATESET,
} exp_type;

typedef struct exp_label {
    const char *name, *value; /* NUL-terminated; values unescaped */
} exp_label;

typedef struct exp_sample {
    const char *family; /* its # TYPE'd family, or its own name */
    exp_type type;
    const char *name;
    const exp_label *labels;
    size_t n_labels;
    double value;
    int has_time;
    int64_t time_ms;
} exp_sample;

/* Everything is valid only during the call. */
typedef void (*exp_sample_fn)(void *arg, const exp_sample *s);

/* Read all of [body, body+len) as OpenMetrics (`openmetrics`) or the text
 * format, calling `fn` (which may be NULL: only check) for each sample.
 * Returns the number of samples, or -1 with "line N: what" in `err`. A
 * scraper keeps nothing of an exposition that fails, as Prometheus. */
long exp_parse(const char *body, size_t len, int openmetrics, exp_sample_fn fn, void *arg,
               char *err, size_t errlen);

/* The suffix of `name` beyond `family` that a sample of a family of `type`
 * may have ("" for the family's own name), or NULL when it is not one. */
const char *exp_suffix(const char *name, const char *family, exp_type type, int openmetrics);

#endif

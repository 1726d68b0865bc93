/* The prometheus_exporter output's parts: the series it serves
 * (exporter_store.c: metric events in, expiry, the max_series bound) and
 * their exposition (exporter_render.c: text 0.0.4 and OpenMetrics 1.0);
 * exporter.c serves them over HTTP. */
#ifndef SLUICE_EXPORTER_H
#define SLUICE_EXPORTER_H

#include <sluice/sluice.h>

typedef enum px_type { PX_UNTYPED, PX_COUNTER, PX_GAUGE, PX_HISTOGRAM } px_type;

struct px_series;

typedef struct px_family {
    char *name; /* sanitised */
    px_type type;
    struct px_series **series;
    size_t n, cap;
} px_family;

typedef struct px_bucket {
    double le;
    double count; /* cumulative */
} px_bucket;

typedef struct px_series {
    px_family *fam;
    char *labels;   /* as written between braces: a="x",b="y" (sorted); "" for none */
    uint64_t hash;
    struct px_series *next; /* in its hash chain */
    size_t index;   /* in fam->series */
    double value;   /* histograms: the sum */
    double count;   /* histograms */
    px_bucket *buckets; /* histograms: ascending le, the last +Inf */
    size_t n_buckets;
    int64_t updated; /* ms, when an event last set it */
    int64_t time;    /* ms, the event's time (exported with `timestamps`) */
} px_series;

typedef struct px_store {
    px_family **fams; /* sorted by name */
    size_t n_fams;
    px_series **table;
    size_t table_size, n_series;
    size_t max_series;
    int64_t expire_ms;      /* 0: never */
    const char *const *add; /* add_labels: name, value, ... NULL; sanitised */
    uint64_t refused;       /* samples refused: max_series, or a type conflict */
    char why_refused[256];  /* the last refusal */
    uint64_t expired;
} px_store;

/* Take in one metric event. Returns the samples stored, or -1 with why if
 * it is not a metric event. Samples refused (max_series, a family of
 * another type) are counted in `refused`, the last reason kept. */
int px_store_absorb(px_store *st, const msgpack_object *body, sluice_time_t time, int64_t now,
                    char *why, size_t whylen);
/* Forget series not updated for expire_ms. */
void px_store_expire(px_store *st, int64_t now);
void px_store_free(px_store *st);

typedef enum px_format { PX_TEXT, PX_OPENMETRICS } px_format;

/* The exposition of every series. */
void px_render(sluice_buf *out, const px_store *st, px_format fmt, int timestamps);

#endif

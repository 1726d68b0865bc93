/* The exposition of the store: Prometheus's text format 0.0.4, or
 * OpenMetrics 1.0 when the scraper asks for it, written as client_golang
 * writes them: # HELP and # TYPE once per family, histograms as cumulative
 * _bucket{le} (the +Inf bucket equal to _count), _sum and _count; in
 * OpenMetrics a counter's family is named without _total and its sample
 * with it, bounds are canonical floats (le="1.0"), untyped is unknown,
 * timestamps are seconds, and # EOF ends it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exporter.h"

static const char *const text_types[] = {"untyped", "counter", "gauge", "histogram"};
static const char *const om_types[] = {"unknown", "counter", "gauge", "histogram"};

static void
put(sluice_buf *b, const char *s)
{
    sluice_buf_append(b, s, strlen(s));
}

static void
timestamp(sluice_buf *b, const px_series *s, px_format fmt, int timestamps)
{
    if (!timestamps)
        return;
    if (fmt == PX_OPENMETRICS)
        sluice_buf_printf(b, " %lld.%03lld", (long long)(s->time / 1000),
                          (long long)(s->time % 1000));
    else
        sluice_buf_printf(b, " %lld", (long long)s->time);
}

/* name{labels[,le="x"]} value[ timestamp]\n */
static void
sample(sluice_buf *b, const char *name, const char *suffix, const px_series *s, const char *le,
       double v, px_format fmt, int timestamps)
{
    put(b, name);
    put(b, suffix);
    if (*s->labels || le) {
        sluice_buf_putc(b, '{');
        put(b, s->labels);
        if (le) {
            if (*s->labels)
                sluice_buf_putc(b, ',');
            sluice_buf_printf(b, "le=\"%s\"", le);
        }
        sluice_buf_putc(b, '}');
    }
    sluice_buf_putc(b, ' ');
    sluice_prom_value(b, v);
    timestamp(b, s, fmt, timestamps);
    sluice_buf_putc(b, '\n');
}

static void
bound(char out[40], double le, px_format fmt)
{
    if (isinf(le)) {
        memcpy(out, "+Inf", 5);
        return;
    }
    int n = sluice_double_text(le, out);
    out[n] = '\0';
    /* OpenMetrics's canonical form of an integral bound: 1.0 */
    if (fmt == PX_OPENMETRICS && !strpbrk(out, ".eEn"))
        memcpy(out + n, ".0", 3);
}

void
px_render(sluice_buf *out, const px_store *st, px_format fmt, int timestamps)
{
    char name[512], le[40];
    for (size_t i = 0; i < st->n_fams; i++) {
        const px_family *f = st->fams[i];
        if (!f->n)
            continue;
        /* OpenMetrics names a counter's family without _total. */
        size_t len = strlen(f->name);
        snprintf(name, sizeof name, "%s", f->name);
        const char *total = "";
        if (fmt == PX_OPENMETRICS && f->type == PX_COUNTER) {
            if (len > 6 && strcmp(f->name + len - 6, "_total") == 0 && len - 6 < sizeof name)
                name[len - 6] = '\0';
            total = "_total";
        }
        sluice_buf_printf(out, "# HELP %s Metric events named %s, exported by sluice.\n", name,
                          f->name);
        sluice_buf_printf(out, "# TYPE %s %s\n", name,
                          (fmt == PX_OPENMETRICS ? om_types : text_types)[f->type]);
        for (size_t k = 0; k < f->n; k++) {
            const px_series *s = f->series[k];
            if (f->type != PX_HISTOGRAM) {
                sample(out, name, total, s, NULL, s->value, fmt, timestamps);
                continue;
            }
            for (size_t j = 0; j < s->n_buckets; j++) {
                bound(le, s->buckets[j].le, fmt);
                sample(out, name, "_bucket", s, le, s->buckets[j].count, fmt, timestamps);
            }
            sample(out, name, "_sum", s, NULL, s->value, fmt, timestamps);
            sample(out, name, "_count", s, NULL, s->count, fmt, timestamps);
        }
    }
    if (fmt == PX_OPENMETRICS)
        put(out, "# EOF\n");
}

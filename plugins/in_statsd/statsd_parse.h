/* The StatsD line protocol, parsed in place (no I/O, no allocation):
 *
 *   name[,tag=v...]:value[:value...]|type[|@rate][|#tag:v,tag...][|c:id][|Tts]
 *
 * Types c (counter), g (gauge; a leading + or - is a delta), ms, h and d
 * (timings), s (set). Several values share one type, rate and tags in
 * DogStatsD's multi-value form (`t:1:2:3|ms`); Telegraf's form gives each
 * its own type (`foo:1|c:200|ms`). Tags come InfluxDB-style in the name
 * and DogStatsD-style after `#` (a tag without a value has the value
 * "true"); they apply to every value of the line. DogStatsD's container
 * (`|c:`) and timestamp (`|T`) fields are read and ignored. Events (`_e{`)
 * and service checks (`_sc|`) are recognised and refused as unsupported. */
#ifndef STATSD_PARSE_H
#define STATSD_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define STATSD_MAX_TAGS 64
#define STATSD_MAX_VALUES 128

typedef enum statsd_type {
    STATSD_COUNTER = 0,
    STATSD_GAUGE,
    STATSD_TIMER,
    STATSD_SET,
    STATSD_TYPES,
} statsd_type;

/* Bytes inside the parsed line. */
typedef struct sd_span {
    const char *p;
    size_t n;
} sd_span;

typedef struct statsd_tag {
    sd_span key, value;
} statsd_tag;

typedef struct statsd_value {
    statsd_type type;
    int delta;    /* gauges: the value was written with a sign */
    double value; /* counters, gauges, timings: finite */
    double rate;  /* the sample rate, in (0, 1]; 1 when not given */
    sd_span text; /* sets: the member as written */
} statsd_value;

/* One parsed line. Spans point into the line, which must outlive it. */
typedef struct statsd_line {
    sd_span name;
    statsd_tag tags[STATSD_MAX_TAGS]; /* sorted by key, each key once */
    size_t n_tags;
    statsd_value values[STATSD_MAX_VALUES];
    size_t n_values;
} statsd_line;

enum {
    STATSD_LINE_OK = 0,
    STATSD_LINE_BAD = -1,         /* malformed: `err` says why */
    STATSD_LINE_UNSUPPORTED = -2, /* a DogStatsD event or service check */
};

/* Parse one line (without its newline) into `out`. Returns
 * STATSD_LINE_OK, or STATSD_LINE_BAD with what is wrong in `err`, or
 * STATSD_LINE_UNSUPPORTED (err names what it was). Nothing of a bad line
 * is kept: either every value of the line is in `out`, or none. When the
 * same tag key is given twice, the last one written wins. */
int statsd_parse_line(const char *line, size_t len, statsd_line *out, char *err, size_t errlen);

/* A decimal number (optional sign, digits, fraction, exponent) making up
 * all of [p, p+n); 0 with the value in *out, or -1 for anything else,
 * including inf and nan. */
int statsd_parse_number(const char *p, size_t n, double *out);

extern const char *const statsd_type_names[STATSD_TYPES];

#endif

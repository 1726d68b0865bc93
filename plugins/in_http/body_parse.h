/* Request bodies of the http input, turned into staged events: a whole
 * request is parsed before any of it is emitted, so a bad line refuses the
 * request and nothing of it reaches the pipeline. */
#ifndef IN_HTTP_BODY_PARSE_H
#define IN_HTTP_BODY_PARSE_H

#include <sluice/sluice.h>

typedef enum body_format {
    BODY_AUTO,   /* a JSON object or array, else NDJSON */
    BODY_NDJSON, /* one JSON object per line */
    BODY_FORM,   /* application/x-www-form-urlencoded: one event */
    BODY_TEXT,   /* one event per line, in `message` */
} body_format;

/* Fields added to every log event of a request (path, peer, headers). */
#define BODY_MAX_META 16
typedef struct body_meta {
    size_t n;
    const char *key[BODY_MAX_META];
    const char *value[BODY_MAX_META];
} body_meta;

/* Where a request's events are staged, and how many. */
typedef struct body_stage {
    msgpack_sbuffer events;  /* whole events, [time, body] back to back */
    msgpack_sbuffer scratch; /* one parsed value at a time */
    size_t count;
    size_t limit;  /* staged bytes at most; 0: no limit */
    int too_large; /* the last body staged more than `limit` */
} body_stage;

/* The format a Content-Type names (BODY_AUTO for JSON or none). */
body_format body_format_of(const char *content_type);

/* Stage the log events of `body` at time `now` (cleared first). Returns 0,
 * or -1 with `err` naming the line and column (or the array element) and
 * what is wrong there. */
int body_logs(body_stage *st, body_format f, const char *body, size_t len, sluice_time_t now,
              const body_meta *meta, char *err, size_t errlen);

/* Stage the metric events of an InfluxDB line protocol body whose
 * timestamps count units of `unit` nanoseconds. Same results. */
int body_line_protocol(body_stage *st, const char *body, size_t len, int64_t unit,
                       sluice_time_t now, char *err, size_t errlen);

/* Nanoseconds per unit of an InfluxDB `precision` (ns, n, us, u, ms, s, m,
 * h), or 0 if it is none of them. */
int64_t body_precision(const char *precision);

/* Stage the metric events of collectd's write_http JSON (body_collectd.c). */
int body_collectd(body_stage *st, const char *body, size_t len, sluice_time_t now, char *err,
                  size_t errlen);

/* For the formats: parse one whole JSON value into st->scratch (errors by
 * line and column), note an event just packed into st->events (-1 once
 * the stage holds more than its limit: tiny lines with metadata can stage
 * many times their body), and drop what is staged. */
int body_parse_json(body_stage *st, const char *body, size_t len, char *err, size_t errlen);
int body_staged(body_stage *st);
/* A format's result `r` (0 or -1 with `err`) made final: -1 when the stage
 * passed its limit (st->too_large stays set), and the stage dropped on -1. */
int body_staged_result(body_stage *st, int r, char *err, size_t errlen);
void body_stage_clear(body_stage *st);

void body_stage_init(body_stage *st);
void body_stage_destroy(body_stage *st);

#endif

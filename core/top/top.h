/* `sluice top`: a terminal view of a running sluice's /api/v1/pipelines.
 *   top.c        the command: options, the refresh loop, keys
 *   top_fetch.c  GET the JSON and read it into a top_snapshot
 *   top_view.c   sort the rows and lay them out as lines of text
 *   top_term.c   the terminal: raw keys, ANSI frames, its size */
#ifndef SLUICE_TOP_H
#define SLUICE_TOP_H

#include <stddef.h>

#include "sluice/buf.h"

/* One plugin instance. Values absent from the JSON (or null) are NAN. */
typedef struct top_row {
    char *pipeline, *id, *plugin;
    char kind;        /* 'i', 'f' or 'o' */
    double in_rate;   /* events per second in: inputs emitted, filters received */
    double out_rate;  /* out: filters passed on, outputs delivered */
    double bytes_rate;
    double mem, max_mem, disk, max_disk; /* outputs' buffers */
    int fs;           /* a filesystem buffer */
    double retries, dead;
    double paused;    /* inputs */
    char *own;        /* "files=1 lag_bytes=0 ...": the plugin's own metrics, or NULL */
    size_t order;     /* position in the JSON */
} top_row;

typedef struct top_pipeline {
    char *name;
    double paused, pauses, unrouted;
} top_pipeline;

typedef struct top_snapshot {
    char *version;
    double window; /* rate_window_seconds */
    top_pipeline *pipelines;
    size_t n_pipelines;
    top_row *rows;
    size_t n_rows;
} top_snapshot;

/* ==== top_fetch.c ==== */

typedef struct top_client top_client;

/* A client of the /api/v1/pipelines at `url` (http://host:port[/...]). */
top_client *top_client_new(const char *url);
void top_client_free(top_client *c);
const char *top_client_url(const top_client *c);
/* GET and read the snapshot into `s` (freed first). Returns 0, or -1 with
 * what went wrong in `err` (without the URL); `s` is then left as it was. */
int top_fetch(top_client *c, top_snapshot *s, char *err, size_t errlen);
/* Read a /api/v1/pipelines document. Returns 0 or -1 with `err`. */
int top_snapshot_parse(top_snapshot *s, const char *json, size_t len, char *err, size_t errlen);
void top_snapshot_free(top_snapshot *s);

/* ==== top_view.c ==== */

/* The sortable columns, in the order 's' cycles through them. */
typedef enum top_column {
    COL_PIPELINE,
    COL_ID,
    COL_KIND,
    COL_IN,
    COL_OUT,
    COL_BYTES,
    COL_MEM,
    COL_DISK,
    COL_RETRIES,
    COL_DEAD,
    COL_COUNT
} top_column;

typedef struct top_view {
    top_column sort;
    int reverse; /* against the column's natural order */
    int ansi;    /* highlight the header and the sort column */
} top_view;

/* The key that sorts by `c`, and its column's title. */
char top_column_key(top_column c);
const char *top_column_title(top_column c);
/* The column a key selects, or -1. */
int top_column_for_key(int key);

/* Sort s->rows by v's column. */
void top_sort(top_snapshot *s, const top_view *v);
/* Append the view of `s` as at most `height` lines (0: no limit) of at
 * most `width` visible characters, each ending in "\n". `status` is the
 * first line's news (an error), or NULL. */
void top_render(sluice_buf *out, const top_snapshot *s, const top_view *v, const char *source,
                const char *status, int width, int height);

/* ==== top_term.c ==== */

/* Raw keys, the alternate screen, no cursor; restored by top_term_leave
 * (also at exit and on SIGINT, SIGTERM, SIGHUP). Returns 0 or -1. */
int top_term_enter(void);
void top_term_leave(void);
/* The terminal's size (80x24 if it cannot say). */
void top_term_size(int *width, int *height);
/* Wait up to `ms` for a key or a resize. Returns the key, 0 on timeout or
 * resize, -1 when asked to quit by a signal. */
int top_term_wait(int ms);
/* Draw a frame of lines ("\n"-separated) over the last one. */
void top_term_draw(const char *lines, size_t len);

/* ==== top.c ==== */

/* sluice top [--url URL | -c FILE] [--once]: argv[0] is "top". */
int top_main(int argc, char **argv);

#endif

/* out_http request bodies: a chunk rendered once, with the offset of every
 * event, so any range of events can be sent (or re-sent) as its own body. */
#ifndef OUT_HTTP_BODY_H
#define OUT_HTTP_BODY_H

#include <sluice/sluice.h>

typedef enum http_format { HTTP_NDJSON = 0, HTTP_JSON_ARRAY, HTTP_MSGPACK } http_format;

typedef struct http_body {
    sluice_buf text;  /* every event, back to back (NDJSON lines or MessagePack) */
    size_t *offs;     /* event i is text[offs[i], offs[i+1]) */
    size_t n;
} http_body;

/* Render the events of a chunk. */
void http_body_build(http_body *b, http_format fmt, const char *time_key, const char *data,
                     size_t len);
/* The payload for events [first, last), gzipped if asked: a pointer into
 * the body itself when it can be sent as it is, else built in `scratch`. */
sluice_bytes http_body_range(const http_body *b, http_format fmt, int gzip, size_t first,
                             size_t last, sluice_buf *scratch);
void http_body_free(http_body *b);

#endif

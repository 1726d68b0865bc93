/* Reading a Bulk API answer: {"took":..,"errors":bool,"items":[{"index":
 * {"_id":..,"status":201}}, {"create":{"status":400,"error":{"type":..,
 * "reason":..}}}, ...]}, one item per action, in request order. */
#ifndef SLUICE_ES_BULK_H
#define SLUICE_ES_BULK_H

#include <sluice/sluice.h>

typedef struct es_bulk {
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *items; /* the array */
} es_bulk;

/* 1 when the answer says "errors":false before its items (nothing to read
 * item by item), else 0. */
int es_bulk_all_ok(const char *body, size_t len);
/* Parse the answer. Returns the number of items, or -1 with `why` if it is
 * not a bulk answer. Call es_bulk_free either way. */
long es_bulk_parse(es_bulk *b, const char *body, size_t len, char *why, size_t whylen);
/* Item i's status (0 if it has none); for a failure, "type: reason" (and the
 * caused_by reason) in `why`. */
long es_bulk_item(const es_bulk *b, size_t i, char *why, size_t whylen);
void es_bulk_free(es_bulk *b);

#endif

/* Index names from a template: strftime directives read from the event's
 * time (UTC) and %{field} (or ${field}) references read from the event,
 * e.g. "logs-%{service}-%Y.%m.%d". */
#ifndef SLUICE_ES_INDEX_H
#define SLUICE_ES_INDEX_H

#include <sluice/sluice.h>

typedef struct es_index es_index;

/* Parse `tmpl`. NULL with `err` set if it has an unknown directive or an
 * unclosed %{. */
es_index *es_index_parse(const char *tmpl, char *err, size_t errlen);
/* Append the index of `ev` to `out` (JSON-escaped, without quotes).
 * Returns 0, or -1 naming the missing field in `why`. */
int es_index_render(const es_index *x, const sluice_event *ev, sluice_buf *out, char *why,
                    size_t whylen);
void es_index_free(es_index *x);

#endif

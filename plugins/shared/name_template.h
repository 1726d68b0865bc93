/* Names made from a template and an event: strftime directives read from
 * the event's time (UTC) and %{field} (or ${field}) references read from
 * the event, e.g. "logs-%{service}-%Y.%m.%d". Elasticsearch index names
 * and Kafka topics are made so. */
#ifndef SLUICE_NAME_TEMPLATE_H
#define SLUICE_NAME_TEMPLATE_H

#include <sluice/sluice.h>

typedef struct name_template name_template;

/* Append `s[0..n)` to `out` as the target allows names to be written. */
typedef void (*name_append_fn)(sluice_buf *out, const char *s, size_t n);

/* Parse `tmpl`. NULL with `err` set if it has an unknown directive or an
 * unclosed %{. */
name_template *name_template_parse(const char *tmpl, char *err, size_t errlen);
/* Whether it names no field and no time: the same for every event. */
int name_template_is_constant(const name_template *x);
/* Append the name for `ev` to `out`, every piece through `append`.
 * Returns 0, or -1 naming the missing field in `why`. */
int name_template_render(const name_template *x, const sluice_event *ev, name_append_fn append,
                         sluice_buf *out, char *why, size_t whylen);
void name_template_free(name_template *x);

#endif

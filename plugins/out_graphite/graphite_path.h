/* Graphite metric paths from a template: "prefix.{name}.{tag:host}.{field}"
 * where {name} is the metric's name, {field} the field's and {tag:K} the
 * value of tag K ("none" when absent). Substituted text is sanitised: any
 * byte but letters, digits, '-', '_' and ':' becomes '_', so a value cannot
 * add path levels. The tagged form (Graphite 1.1) is "path;tag=value;..."
 * with every tag of the metric. */
#ifndef SLUICE_GRAPHITE_PATH_H
#define SLUICE_GRAPHITE_PATH_H

#include <sluice/sluice.h>

typedef struct gr_template gr_template;

gr_template *gr_template_parse(const char *tmpl, char *err, size_t errlen);
void gr_template_free(gr_template *t);

/* Append "path[;tags] value timestamp\n" for every numeric field of the
 * metric event `ev`. Returns the lines written; *skipped counts fields
 * that are not numbers. */
size_t gr_lines(sluice_buf *out, const gr_template *t, int tagged, const sluice_event *ev,
                size_t *skipped);

#endif

/* Describing plugins from their option schemas: `sluice plugins` as text,
 * JSON (--json) and Markdown (--markdown, which is docs/configuration.md). */
#ifndef SLUICE_PLUGIN_DOCS_H
#define SLUICE_PLUGIN_DOCS_H

#include <stdio.h>
#include "plugin_registry.h"

void plugin_docs_text(FILE *f, const plugin_registry *reg);
void plugin_docs_json(FILE *f, const plugin_registry *reg);
void plugin_docs_markdown(FILE *f, const plugin_registry *reg);

#endif

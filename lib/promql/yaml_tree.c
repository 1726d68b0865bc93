/* libyaml documents into yt_node trees (see yaml_tree.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sluice/alloc.h"
#include "yaml_tree.h"

#define YT_MAX_DEPTH 64

static yt_node *
convert(yaml_document_t *doc, yaml_node_t *yn, int depth)
{
    if (!yn || depth > YT_MAX_DEPTH)
        return NULL;
    yt_node *n = sluice_calloc(1, sizeof *n);
    n->line = (int)yn->start_mark.line + 1;
    n->col = (int)yn->start_mark.column + 1;
    switch (yn->type) {
    case YAML_SEQUENCE_NODE:
        n->kind = YT_SEQ;
        for (yaml_node_item_t *it = yn->data.sequence.items.start;
             it < yn->data.sequence.items.top; it++) {
            yt_node *c = convert(doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!c)
                continue;
            n->items = sluice_realloc(n->items, (n->n + 1) * sizeof *n->items);
            n->items[n->n++] = c;
        }
        break;
    case YAML_MAPPING_NODE:
        n->kind = YT_MAP;
        for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
             p++) {
            yt_node *k = convert(doc, yaml_document_get_node(doc, p->key), depth + 1);
            yt_node *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!k || !v || k->kind != YT_SCALAR) {
                yt_free(k);
                yt_free(v);
                continue;
            }
            n->items = sluice_realloc(n->items, (n->n + 2) * sizeof *n->items);
            n->items[n->n++] = k;
            n->items[n->n++] = v;
        }
        break;
    case YAML_SCALAR_NODE:
        n->kind = YT_SCALAR;
        n->value = sluice_strndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
        n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    default:
        n->kind = YT_SCALAR;
        n->value = sluice_strdup("");
        break;
    }
    return n;
}

yt_node *
yt_load_string(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: invalid YAML: %s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yt_node *n = root ? convert(&doc, root, 0) : NULL;
    if (!n)
        snprintf(err, errlen, "%s: empty document", name);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return n;
}

yt_node *
yt_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            text = sluice_realloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    yt_node *n = yt_load_string(path, text ? text : "", len, err, errlen);
    free(text);
    return n;
}

void
yt_free(yt_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        yt_free(n->items[i]);
    free(n->items);
    free(n->value);
    free(n);
}

const yt_node *
yt_get(const yt_node *map, const char *key)
{
    if (!map || map->kind != YT_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (strcmp(map->items[i]->value, key) == 0)
            return map->items[i + 1];
    return NULL;
}

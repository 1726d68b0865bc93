/* Rule files and promtool test files as trees, read with libyaml: maps,
 * lists and scalars with their line and column, for errors that say
 * where. */
#ifndef SLUICE_PQ_YAML_TREE_H
#define SLUICE_PQ_YAML_TREE_H

#include <stddef.h>

typedef enum yt_kind { YT_SCALAR, YT_SEQ, YT_MAP } yt_kind;

typedef struct yt_node yt_node;
struct yt_node {
    yt_kind kind;
    int line, col;   /* 1-based */
    char *value;     /* YT_SCALAR */
    int plain;       /* an unquoted scalar */
    yt_node **items; /* YT_SEQ: the items; YT_MAP: key, value, key, value... */
    size_t n;
};

/* Read `path`. Returns the root, or NULL with "file:line:col: why" in err. */
yt_node *yt_load_file(const char *path, char *err, size_t errlen);
yt_node *yt_load_string(const char *name, const char *text, size_t len, char *err,
                        size_t errlen);
void yt_free(yt_node *n);
/* The value of `key` in a map, or NULL. */
const yt_node *yt_get(const yt_node *map, const char *key);

#endif

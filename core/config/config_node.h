/* The configuration as a tree of YAML nodes, each knowing the file, line and
 * column it came from, after ${VAR} substitution and `includes` merging. */
#ifndef SLUICE_CONFIG_NODE_H
#define SLUICE_CONFIG_NODE_H

#include <stddef.h>
#include <stdint.h>
#include "config_error.h"

typedef enum cfg_kind { CFG_SCALAR, CFG_SEQ, CFG_MAP } cfg_kind;

typedef struct cfg_node {
    cfg_kind kind;
    char *file; /* the file it came from */
    int line, col;    /* 1-based */
    /* Scalars. */
    char *value;
    size_t len;
    int quoted; /* written in quotes or as a block: never a number or bool */
    char *env;  /* the environment variables substituted into it ("A, B"), or NULL */
    char *unset; /* a variable it names that is not set and has no default; the
                  * error waits until the option is known (cfg_report_unset) */
    /* Sequences: items[i]. Maps: items[2i] is a key (a scalar), items[2i+1]
     * its value. */
    struct cfg_node **items;
    size_t n;
} cfg_node;

/* Load `path` and every file it includes. Returns the root map, or NULL with
 * errors added. Free with cfg_tree_free. */
cfg_node *cfg_load_file(const char *path, cfg_errors *errs);
/* Parse YAML text; `name` labels positions in errors. No includes. */
cfg_node *cfg_parse_string(const char *name, const char *text, size_t len, cfg_errors *errs);
void cfg_tree_free(cfg_node *root);
/* A hash of what the tree under `n` says (kinds, values, keys in order;
 * not where they were written): equal for equal settings. */
uint64_t cfg_node_hash(const cfg_node *n);
/* FNV-1a of `len` bytes, continuing from `h` (CFG_HASH_INIT to start). */
#define CFG_HASH_INIT 0xcbf29ce484222325ULL
uint64_t cfg_hash_bytes(uint64_t h, const void *data, size_t len);

/* Number of entries of a map or items of a sequence. */
static inline size_t
cfg_count(const cfg_node *n)
{
    return n->kind == CFG_MAP ? n->n / 2 : n->n;
}

/* The value for `key` in a map, or NULL. */
cfg_node *cfg_map_get(const cfg_node *map, const char *key);
/* How a node looks, for "found ..." in errors: "'text'", "a map", "a list";
 * a value that came from the environment says so: "'abc' (from ${RATE})". */
const char *cfg_describe(const cfg_node *n, char *buf, size_t size);
/* The node at `path` below `n`: keys and [index]es, as in "metrics[2].buckets".
 * NULL if there is none. */
const cfg_node *cfg_node_at(const cfg_node *n, const char *path);

/* Report the unset variable of `n`, once: `where` names the option, and
 * `fields` says that the option takes %{field} references, which is what a
 * ${name} there usually meant. No-op for a node without one. */
void cfg_report_unset(cfg_errors *errs, const cfg_node *n, const char *where, int fields);
/* Report every unset variable below `root` not reported yet. */
void cfg_report_all_unset(cfg_errors *errs, const cfg_node *root);

#endif

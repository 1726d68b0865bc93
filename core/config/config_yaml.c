/* Reading YAML configuration files into cfg_node trees: libyaml's document
 * API does the parsing; this file adds positions, ${VAR} substitution,
 * duplicate-key detection and `includes`. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_node.h"
#include "sluice/buf.h"
#include "xalloc.h"

/* Bounds that keep hostile files (alias bombs, deep nesting) cheap. */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 100000
#define CFG_MAX_FILE_SIZE (16 * 1024 * 1024)
#define CFG_MAX_INCLUDE_DEPTH 16

typedef struct convert_ctx {
    const char *file;
    cfg_errors *errs;
    size_t nodes;
    int failed;
} convert_ctx;

static cfg_node *
node_new(cfg_kind kind, const char *file, const yaml_mark_t *mark)
{
    cfg_node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->file = xstrdup(file);
    n->line = (int)mark->line + 1;
    n->col = (int)mark->column + 1;
    return n;
}

static void
node_push(cfg_node *parent, cfg_node *child)
{
    parent->items = xrealloc(parent->items, (parent->n + 1) * sizeof *parent->items);
    parent->items[parent->n++] = child;
}

void
cfg_tree_free(cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        cfg_tree_free(n->items[i]);
    free(n->items);
    free(n->value);
    free(n->env);
    free(n->unset);
    free(n->file);
    free(n);
}

uint64_t
cfg_hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t
hash_node(uint64_t h, const cfg_node *n)
{
    unsigned char head[2] = {(unsigned char)n->kind, (unsigned char)n->quoted};
    h = cfg_hash_bytes(h, head, sizeof head);
    if (n->kind == CFG_SCALAR)
        h = cfg_hash_bytes(h, n->value, n->len + 1);
    uint64_t count = n->n;
    h = cfg_hash_bytes(h, &count, sizeof count);
    for (size_t i = 0; i < n->n; i++)
        h = hash_node(h, n->items[i]);
    return h;
}

uint64_t
cfg_node_hash(const cfg_node *n)
{
    return n ? hash_node(CFG_HASH_INIT, n) : 0;
}

cfg_node *
cfg_map_get(const cfg_node *map, const char *key)
{
    if (!map || map->kind != CFG_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (strcmp(map->items[i]->value, key) == 0)
            return map->items[i + 1];
    return NULL;
}

const char *
cfg_describe(const cfg_node *n, char *buf, size_t size)
{
    if (n->kind == CFG_MAP)
        return "a map";
    if (n->kind == CFG_SEQ)
        return "a list";
    if (n->len == 0 && !n->env)
        return "an empty value";
    snprintf(buf, size, "'%.*s%s'%s%s%s", n->len > 60 ? 60 : (int)n->len, n->value,
             n->len > 60 ? "..." : "", n->env ? " (from ${" : "", n->env ? n->env : "",
             n->env ? "})" : "");
    return buf;
}

const cfg_node *
cfg_node_at(const cfg_node *n, const char *path)
{
    while (n && *path) {
        if (*path == '.') {
            path++;
            continue;
        }
        if (*path == '[') {
            char *end;
            unsigned long i = strtoul(path + 1, &end, 10);
            if (*end != ']' || n->kind != CFG_SEQ || i >= n->n)
                return NULL;
            n = n->items[i];
            path = end + 1;
            continue;
        }
        size_t len = strcspn(path, ".[");
        const cfg_node *next = NULL;
        for (size_t i = 0; n->kind == CFG_MAP && i + 1 < n->n; i += 2)
            if (strlen(n->items[i]->value) == len && memcmp(n->items[i]->value, path, len) == 0)
                next = n->items[i + 1];
        n = next;
        path += len;
    }
    return n;
}

/* ==== ${VAR} substitution ==== */

/* Substitute ${NAME} and ${NAME:-default} in a scalar; "$$" is a literal
 * "$". Returns 0, or -1 with an error added at the scalar. */
static int
env_subst(cfg_node *n, convert_ctx *cx)
{
    if (!memchr(n->value, '$', n->len))
        return 0;
    sluice_buf out = SLUICE_BUF_INIT;
    const char *s = n->value, *end = n->value + n->len;
    while (s < end) {
        if (s[0] != '$' || s + 1 == end || (s[1] != '{' && s[1] != '$')) {
            sluice_buf_append(&out, s, 1);
            s++;
            continue;
        }
        if (s[1] == '$') {
            sluice_buf_append(&out, "$", 1);
            s += 2;
            continue;
        }
        const char *name = s + 2, *p = name;
        while (p < end && (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                           (*p >= '0' && *p <= '9')))
            p++;
        const char *def = NULL, *close;
        if (p + 1 < end && p[0] == ':' && p[1] == '-') {
            def = p + 2;
            close = memchr(def, '}', (size_t)(end - def));
        } else {
            close = (p < end && *p == '}') ? p : NULL;
        }
        if (p == name || !close) {
            cfg_error_node(cx->errs, n,
                           "malformed variable reference in '%.*s': expected ${NAME} or "
                           "${NAME:-default}",
                           (int)n->len, n->value);
            sluice_buf_free(&out);
            return -1;
        }
        char var[256];
        size_t vlen = (size_t)(p - name) < sizeof var - 1 ? (size_t)(p - name) : sizeof var - 1;
        memcpy(var, name, vlen);
        var[vlen] = '\0';
        const char *val = getenv(var);
        char *names = n->env ? xasprintf("%s, %s", n->env, var) : xstrdup(var);
        free(n->env);
        n->env = names;
        if (val && (*val || !def)) {
            sluice_buf_append(&out, val, strlen(val));
        } else if (def) {
            sluice_buf_append(&out, def, (size_t)(close - def));
        } else {
            /* Reported once the option it is in is known (cfg_report_unset). */
            if (!n->unset)
                n->unset = xstrdup(var);
            sluice_buf_append(&out, s, (size_t)(close + 1 - s));
        }
        s = close + 1;
    }
    sluice_buf_putc(&out, '\0');
    free(n->value);
    n->value = out.data;
    n->len = out.len - 1;
    return 0;
}

void
cfg_report_unset(cfg_errors *errs, const cfg_node *n, const char *where, int fields)
{
    if (!n || !n->unset)
        return;
    const char *v = n->unset;
    if (fields)
        cfg_error_node(errs, n,
                       "%s%senvironment variable '%s' is not set; to use the event's field '%s' "
                       "write %%{%s} (or $${%s}), for a default write ${%s:-value}",
                       where ? where : "", where ? ": " : "", v, v, v, v, v);
    else
        cfg_error_node(errs, n,
                       "%s%senvironment variable '%s' is not set and has no default (write "
                       "${%s:-value} to give one)",
                       where ? where : "", where ? ": " : "", v, v);
    /* The tree is the loader's; marking a node reported is all this changes. */
    cfg_node *mut = (cfg_node *)n;
    free(mut->unset);
    mut->unset = NULL;
}

void
cfg_report_all_unset(cfg_errors *errs, const cfg_node *root)
{
    if (!root)
        return;
    cfg_report_unset(errs, root, NULL, 0);
    for (size_t i = 0; i < root->n; i++)
        cfg_report_all_unset(errs, root->items[i]);
}

/* ==== libyaml document -> cfg_node ==== */

/* One libyaml node, and recursively what it holds, as a new cfg_node tree
 * the caller owns. Owns the limits (CFG_MAX_NODES, CFG_MAX_DEPTH) and the
 * errors only a tree shows: non-scalar map keys, duplicate keys; scalars
 * that are values get their ${VAR}s substituted (env_subst). Sets
 * cx->failed on any error and returns what it built so far, or NULL past
 * a limit; calls nothing but the node helpers and cfg_error_*. */
static cfg_node *
convert(convert_ctx *cx, yaml_document_t *doc, yaml_node_t *yn, int depth, int is_key)
{
    if (++cx->nodes > CFG_MAX_NODES || depth > CFG_MAX_DEPTH) {
        if (!cx->failed)
            cfg_error_at(cx->errs, cx->file, (int)yn->start_mark.line + 1,
                         (int)yn->start_mark.column + 1,
                         "configuration too large or too deeply nested (more than %d levels or "
                         "%d nodes)",
                         CFG_MAX_DEPTH, CFG_MAX_NODES);
        cx->failed = 1;
        return NULL;
    }
    cfg_node *n;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n = node_new(CFG_SCALAR, cx->file, &yn->start_mark);
        n->value = xstrndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
        n->len = yn->data.scalar.length;
        n->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (!is_key && env_subst(n, cx) < 0)
            cx->failed = 1;
        return n;
    case YAML_SEQUENCE_NODE:
        n = node_new(CFG_SEQ, cx->file, &yn->start_mark);
        for (yaml_node_item_t *it = yn->data.sequence.items.start;
             it < yn->data.sequence.items.top; it++) {
            cfg_node *c = convert(cx, doc, yaml_document_get_node(doc, *it), depth + 1, 0);
            if (!c)
                break;
            node_push(n, c);
        }
        return n;
    case YAML_MAPPING_NODE:
        n = node_new(CFG_MAP, cx->file, &yn->start_mark);
        for (yaml_node_pair_t *pr = yn->data.mapping.pairs.start;
             pr < yn->data.mapping.pairs.top; pr++) {
            yaml_node_t *yk = yaml_document_get_node(doc, pr->key);
            if (yk->type != YAML_SCALAR_NODE) {
                cfg_error_at(cx->errs, cx->file, (int)yk->start_mark.line + 1,
                             (int)yk->start_mark.column + 1,
                             "a map key must be a plain string, found %s",
                             yk->type == YAML_MAPPING_NODE ? "a map" : "a list");
                cx->failed = 1;
                continue;
            }
            cfg_node *k = convert(cx, doc, yk, depth + 1, 1);
            if (!k)
                break;
            cfg_node *prev = NULL;
            for (size_t i = 0; i + 1 < n->n; i += 2)
                if (strcmp(n->items[i]->value, k->value) == 0)
                    prev = n->items[i];
            if (prev) {
                cfg_error_node(cx->errs, k, "duplicate key '%s' (first at line %d, column %d)",
                               k->value, prev->line, prev->col);
                cx->failed = 1;
            }
            cfg_node *v = convert(cx, doc, yaml_document_get_node(doc, pr->value), depth + 1, 0);
            if (!v) {
                cfg_tree_free(k);
                break;
            }
            node_push(n, k);
            node_push(n, v);
        }
        return n;
    default:
        n = node_new(CFG_SCALAR, cx->file, &yn->start_mark);
        n->value = xstrdup("");
        return n;
    }
}

/* Whether the lines from `from` to `to` hold an unquoted ${ inside a flow
 * collection: `{a: ${X}}` is a YAML error, since `{` opens a map there. */
static int
var_in_flow(const char *text, size_t len, const yaml_mark_t *from, const yaml_mark_t *to)
{
    size_t start = from->index < len ? from->index : len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    size_t end = to->index < len ? to->index : len;
    while (end < len && text[end] != '\n')
        end++;
    int depth = 0;
    char quote = 0;
    for (size_t i = start; i < end; i++) {
        char c = text[i];
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && i + 1 < end && text[i + 1] == '{') {
            if (depth > 0)
                return 1;
            i++;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

cfg_node *
cfg_parse_string(const char *name, const char *text, size_t len, cfg_errors *errs)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        cfg_error_at(errs, name, 0, 0, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        const char *hint = var_in_flow(text, len, parser.context ? &parser.context_mark : m, m)
                               ? " (a ${VAR} inside {...} or [...] must be quoted: "
                                 "token: \"${VAR}\")"
                               : "";
        if (parser.context)
            cfg_error_at(errs, name, (int)m->line + 1, (int)m->column + 1,
                         "invalid YAML: %s %s%s", parser.problem ? parser.problem : "error",
                         parser.context, hint);
        else
            cfg_error_at(errs, name, (int)m->line + 1, (int)m->column + 1, "invalid YAML: %s%s",
                         parser.problem ? parser.problem : "error", hint);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_parser_delete(&parser);

    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cfg_node *tree = NULL;
    if (!root) {
        cfg_error_at(errs, name, 1, 1, "the configuration is empty: expected a map");
    } else {
        convert_ctx cx = {name, errs, 0, 0};
        tree = convert(&cx, &doc, root, 0, 0);
        if (cx.failed) {
            cfg_tree_free(tree);
            tree = NULL;
        } else if (tree && tree->kind != CFG_MAP) {
            char buf[80];
            cfg_error_node(errs, tree, "the configuration must be a map, found %s",
                           cfg_describe(tree, buf, sizeof buf));
            cfg_tree_free(tree);
            tree = NULL;
        }
    }
    yaml_document_delete(&doc);
    return tree;
}

/* ==== Files and includes ==== */

static char *
read_file(const char *path, size_t *len, cfg_errors *errs)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cfg_error_at(errs, path, 0, 0, "cannot read the file: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > CFG_MAX_FILE_SIZE) {
            cfg_error_at(errs, path, 0, 0, "the file is larger than %d MiB",
                         CFG_MAX_FILE_SIZE >> 20);
            free(buf);
            fclose(f);
            return NULL;
        }
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        cfg_error_at(errs, path, 0, 0, "cannot read the file: I/O error");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

typedef struct include_stack {
    const char *real[CFG_MAX_INCLUDE_DEPTH + 1];
    int depth;
} include_stack;

static cfg_node *load_file(const char *path, include_stack *st, const cfg_node *from,
                           cfg_errors *errs);

/* Move the entries of map `src` into map `dst`; a key present in both is an
 * error naming both places. */
static void
merge_map(cfg_node *dst, cfg_node *src, const char *what, cfg_errors *errs)
{
    for (size_t i = 0; i + 1 < src->n; i += 2) {
        cfg_node *k = src->items[i], *v = src->items[i + 1];
        cfg_node *prev = NULL;
        for (size_t j = 0; j + 1 < dst->n; j += 2)
            if (strcmp(dst->items[j]->value, k->value) == 0)
                prev = dst->items[j];
        if (prev) {
            cfg_error_node(errs, k, "%s '%s' is already defined at %s:%d:%d", what, k->value,
                           prev->file, prev->line, prev->col);
            cfg_tree_free(k);
            cfg_tree_free(v);
        } else {
            node_push(dst, k);
            node_push(dst, v);
        }
        src->items[i] = src->items[i + 1] = NULL;
    }
    src->n = 0;
}

/* Merge an included file's root map into the including one: `pipelines`
 * and `service` entry by entry, anything else as a top-level key (so an
 * unknown key is still reported where it was written). */
static void
merge_root(cfg_node *root, cfg_node *inc, cfg_errors *errs)
{
    for (size_t i = 0; i + 1 < inc->n; i += 2) {
        cfg_node *k = inc->items[i], *v = inc->items[i + 1];
        cfg_node *mine = cfg_map_get(root, k->value);
        if (mine && mine->kind == CFG_MAP && v->kind == CFG_MAP &&
            (strcmp(k->value, "pipelines") == 0 || strcmp(k->value, "service") == 0)) {
            merge_map(mine, v, strcmp(k->value, "pipelines") == 0 ? "pipeline" : "service key",
                      errs);
            cfg_tree_free(k);
            cfg_tree_free(v);
        } else if (mine) {
            cfg_node *mk = NULL;
            for (size_t j = 0; j + 1 < root->n; j += 2)
                if (root->items[j + 1] == mine)
                    mk = root->items[j];
            cfg_error_node(errs, k, "key '%s' is already defined at %s:%d:%d", k->value,
                           mk->file, mk->line, mk->col);
            cfg_tree_free(k);
            cfg_tree_free(v);
        } else {
            node_push(root, k);
            node_push(root, v);
        }
        inc->items[i] = inc->items[i + 1] = NULL;
    }
    inc->n = 0;
}

static int
has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static void
process_includes(cfg_node *root, const char *path, include_stack *st, cfg_errors *errs)
{
    size_t idx = 0;
    for (; idx + 1 < root->n; idx += 2)
        if (strcmp(root->items[idx]->value, "includes") == 0)
            break;
    if (idx + 1 >= root->n)
        return;
    cfg_node *key = root->items[idx], *list = root->items[idx + 1];
    /* Detach `includes` from the root: it is consumed here. */
    memmove(&root->items[idx], &root->items[idx + 2], (root->n - idx - 2) * sizeof *root->items);
    root->n -= 2;

    char *dircopy = xstrdup(path);
    const char *dir = dirname(dircopy);
    size_t count = list->kind == CFG_SEQ ? list->n : 1;
    if (list->kind == CFG_MAP) {
        cfg_error_node(errs, list, "includes: expected a list of file paths or globs, found a map");
        count = 0;
    }
    for (size_t i = 0; i < count; i++) {
        cfg_node *pat = list->kind == CFG_SEQ ? list->items[i] : list;
        if (pat->kind != CFG_SCALAR) {
            char b[80];
            cfg_error_node(errs, pat, "includes: expected a file path or glob, found %s",
                           cfg_describe(pat, b, sizeof b));
            continue;
        }
        char *full = pat->value[0] == '/' ? xstrdup(pat->value)
                                          : xasprintf("%s/%s", dir, pat->value);
        glob_t g;
        int rc = glob(full, GLOB_ERR, NULL, &g);
        if (rc == GLOB_NOMATCH && !has_glob_chars(pat->value)) {
            cfg_error_node(errs, pat, "includes: cannot read '%s': %s", full, strerror(ENOENT));
        } else if (rc == 0) {
            for (size_t j = 0; j < g.gl_pathc; j++) {
                cfg_node *inc = load_file(g.gl_pathv[j], st, pat, errs);
                if (inc) {
                    merge_root(root, inc, errs);
                    cfg_tree_free(inc);
                }
            }
        }
        if (rc == 0 || rc == GLOB_NOMATCH)
            globfree(&g);
        free(full);
    }
    free(dircopy);
    cfg_tree_free(key);
    cfg_tree_free(list);
}

static cfg_node *
load_file(const char *path, include_stack *st, const cfg_node *from, cfg_errors *errs)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        if (from)
            cfg_error_node(errs, from, "includes: cannot read '%s': %s", path, strerror(errno));
        else
            cfg_error_at(errs, path, 0, 0, "cannot read the file: %s", strerror(errno));
        return NULL;
    }
    for (int i = 0; i < st->depth; i++) {
        if (strcmp(st->real[i], real) == 0) {
            sluice_buf chain = SLUICE_BUF_INIT;
            for (int j = i; j < st->depth; j++)
                sluice_buf_printf(&chain, "%s -> ", st->real[j]);
            sluice_buf_printf(&chain, "%s", real);
            cfg_error_node(errs, from, "includes: include loop: %s", chain.data);
            sluice_buf_free(&chain);
            return NULL;
        }
    }
    if (st->depth == CFG_MAX_INCLUDE_DEPTH) {
        cfg_error_node(errs, from, "includes: more than %d nested includes",
                       CFG_MAX_INCLUDE_DEPTH);
        return NULL;
    }
    size_t len;
    char *text = read_file(path, &len, errs);
    if (!text)
        return NULL;
    cfg_node *root = cfg_parse_string(path, text, len, errs);
    free(text);
    if (!root)
        return NULL;
    char *mine = xstrdup(real);
    st->real[st->depth++] = mine;
    process_includes(root, path, st, errs);
    st->depth--;
    free(mine);
    return root;
}

cfg_node *
cfg_load_file(const char *path, cfg_errors *errs)
{
    include_stack st = {{0}, 0};
    return load_file(path, &st, NULL, errs);
}

/* Filling a plugin's typed config struct from a YAML map, driven by the
 * plugin's option schema: type checks, ranges, enums, defaults, required
 * options and unknown keys with a suggestion. */
#include <inttypes.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "option.h"
#include "xalloc.h"

const char *
option_type_name(sluice_opt_type t)
{
    switch (t) {
    case SLUICE_OPT_STR: return "string";
    case SLUICE_OPT_INT: return "integer";
    case SLUICE_OPT_DOUBLE: return "number";
    case SLUICE_OPT_BOOL: return "bool";
    case SLUICE_OPT_DURATION: return "duration";
    case SLUICE_OPT_SIZE: return "size";
    case SLUICE_OPT_ENUM: return "enum";
    case SLUICE_OPT_STR_LIST: return "list of strings";
    case SLUICE_OPT_MAP: return "map";
    case SLUICE_OPT_SECTION: return "section";
    case SLUICE_OPT_LIST: return "list of maps";
    }
    return "?";
}

#define FIELD(cfg, opt, type) ((type *)((char *)(cfg) + (opt)->offset))

/* ==== YAML values as MessagePack (SLUICE_OPT_MAP) ==== */

static void
pack_scalar(msgpack_packer *pk, const cfg_node *n)
{
    int64_t i;
    double d;
    if (!n->quoted) {
        if (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0) {
            msgpack_pack_nil(pk);
            return;
        }
        if (strcmp(n->value, "true") == 0) {
            msgpack_pack_true(pk);
            return;
        }
        if (strcmp(n->value, "false") == 0) {
            msgpack_pack_false(pk);
            return;
        }
        if (option_parse_int(n->value, &i) == 0) {
            msgpack_pack_int64(pk, i);
            return;
        }
        if (option_parse_double(n->value, &d) == 0) {
            msgpack_pack_double(pk, d);
            return;
        }
    }
    msgpack_pack_str_with_body(pk, n->value, n->len);
}

static void
pack_node(msgpack_packer *pk, const cfg_node *n)
{
    switch (n->kind) {
    case CFG_SCALAR:
        pack_scalar(pk, n);
        break;
    case CFG_SEQ:
        msgpack_pack_array(pk, n->n);
        for (size_t i = 0; i < n->n; i++)
            pack_node(pk, n->items[i]);
        break;
    case CFG_MAP:
        msgpack_pack_map(pk, n->n / 2);
        for (size_t i = 0; i < n->n; i++)
            pack_node(pk, n->items[i]);
        break;
    }
}

/* ==== Filling one option ==== */

static void
format_duration(char *buf, size_t size, int64_t ns)
{
    if (ns % (3600 * SLUICE_NSEC_PER_SEC) == 0 && ns)
        snprintf(buf, size, "%" PRId64 "h", ns / (3600 * SLUICE_NSEC_PER_SEC));
    else if (ns % (60 * SLUICE_NSEC_PER_SEC) == 0 && ns)
        snprintf(buf, size, "%" PRId64 "m", ns / (60 * SLUICE_NSEC_PER_SEC));
    else if (ns % SLUICE_NSEC_PER_SEC == 0)
        snprintf(buf, size, "%" PRId64 "s", ns / SLUICE_NSEC_PER_SEC);
    else
        snprintf(buf, size, "%" PRId64 "ms", ns / SLUICE_NSEC_PER_MSEC);
}

static void
format_size(char *buf, size_t size, int64_t b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && b && b % 1024 == 0) {
        b /= 1024;
        u++;
    }
    snprintf(buf, size, "%" PRId64 "%s", b, units[u]);
}

static void
format_value(char *buf, size_t size, sluice_opt_type t, int64_t v)
{
    if (t == SLUICE_OPT_DURATION)
        format_duration(buf, size, v);
    else if (t == SLUICE_OPT_SIZE)
        format_size(buf, size, v);
    else
        snprintf(buf, size, "%" PRId64, v);
}

static const char *
expectation(const sluice_option *o, char *buf, size_t size)
{
    switch (o->type) {
    case SLUICE_OPT_STR: return "a string";
    case SLUICE_OPT_INT: return "an integer";
    case SLUICE_OPT_DOUBLE: return "a number";
    case SLUICE_OPT_BOOL: return "true or false";
    case SLUICE_OPT_DURATION: return "a duration such as 500ms, 1s, 5m or 1h";
    case SLUICE_OPT_SIZE: return "a size such as 512KiB, 2MiB or 1GiB";
    case SLUICE_OPT_STR_LIST: return "a list of strings";
    case SLUICE_OPT_MAP: return "a map";
    case SLUICE_OPT_SECTION: return (o->flags & SLUICE_OPT_OFF) ? "a map or off" : "a map";
    case SLUICE_OPT_LIST: return "a list of maps";
    case SLUICE_OPT_ENUM: {
        size_t off = (size_t)snprintf(buf, size, "one of ");
        for (size_t i = 0; o->values[i] && off < size; i++)
            off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", o->values[i]);
        return buf;
    }
    }
    return "?";
}

static int
type_error(cfg_errors *errs, const cfg_node *n, const char *where, const sluice_option *o)
{
    char exp[512], found[96];
    cfg_error_node(errs, n, "%s.%s: expected %s, found %s", where, o->name,
                   expectation(o, exp, sizeof exp), cfg_describe(n, found, sizeof found));
    return 1;
}

static int
range_error(cfg_errors *errs, const cfg_node *n, const char *where, const sluice_option *o)
{
    char lo[32], hi[32];
    format_value(lo, sizeof lo, o->type, o->min);
    format_value(hi, sizeof hi, o->type, o->max);
    cfg_error_node(errs, n, "%s.%s: expected %s from %s to %s, found '%s'", where, o->name,
                   o->type == SLUICE_OPT_INT        ? "an integer"
                   : o->type == SLUICE_OPT_DURATION ? "a duration"
                                                    : "a size",
                   lo, hi, n->value);
    return 1;
}

static void
free_list(const sluice_option *o, void *config)
{
    sluice_list *l = FIELD(config, o, sluice_list);
    for (size_t k = 0; k < l->n; k++)
        option_free(o->sub, (char *)l->items + k * (size_t)o->item_size);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Store node `n` as the value of option `o` in `config`, by the option's
 * type: parse, range-check, free what was there before, own the copy.
 * Owns every type error and range error, each at `n`'s place; unset
 * ${VAR}s are reported first. Sections and lists recurse through
 * option_fill. Returns the number of errors (0: stored). The check hook
 * is run by the caller, after this. */
static int
set_option(const sluice_option *o, void *config, const cfg_node *n, const char *where,
           cfg_errors *errs)
{
    int64_t i64;
    int r;
    if (n->unset || (n->kind == CFG_SEQ && o->type == SLUICE_OPT_STR_LIST)) {
        int bad = 0;
        for (size_t k = 0; k < (n->kind == CFG_SEQ ? n->n : 1); k++) {
            const cfg_node *item = n->kind == CFG_SEQ ? n->items[k] : n;
            if (item->unset) {
                char *at = xasprintf("%s.%s", where, o->name);
                cfg_report_unset(errs, item, at, (o->flags & SLUICE_OPT_FIELDS) != 0);
                free(at);
                bad = 1;
            }
        }
        if (bad)
            return 1;
    }
    switch (o->type) {
    case SLUICE_OPT_STR:
        if (n->kind != CFG_SCALAR)
            return type_error(errs, n, where, o);
        free(*FIELD(config, o, char *));
        *FIELD(config, o, char *) = xstrndup(n->value, n->len);
        return 0;
    case SLUICE_OPT_INT:
    case SLUICE_OPT_DURATION:
    case SLUICE_OPT_SIZE:
        if (n->kind != CFG_SCALAR)
            return type_error(errs, n, where, o);
        r = o->type == SLUICE_OPT_INT        ? option_parse_int(n->value, &i64)
            : o->type == SLUICE_OPT_DURATION ? option_parse_duration(n->value, &i64)
                                             : option_parse_size(n->value, &i64);
        if (r < 0)
            return type_error(errs, n, where, o);
        if ((o->flags & SLUICE_OPT_RANGE) && (i64 < o->min || i64 > o->max))
            return range_error(errs, n, where, o);
        *FIELD(config, o, int64_t) = i64;
        return 0;
    case SLUICE_OPT_DOUBLE:
        if (n->kind != CFG_SCALAR || option_parse_double(n->value, FIELD(config, o, double)) < 0)
            return type_error(errs, n, where, o);
        return 0;
    case SLUICE_OPT_BOOL:
        if (n->kind != CFG_SCALAR || option_parse_bool(n->value, FIELD(config, o, int)) < 0)
            return type_error(errs, n, where, o);
        return 0;
    case SLUICE_OPT_ENUM:
        if (n->kind == CFG_SCALAR)
            for (int k = 0; o->values[k]; k++)
                if (strcmp(o->values[k], n->value) == 0) {
                    *FIELD(config, o, int) = k;
                    return 0;
                }
        return type_error(errs, n, where, o);
    case SLUICE_OPT_STR_LIST: {
        const cfg_node *const *items = (const cfg_node *const *)&n;
        size_t count = 1;
        if (n->kind == CFG_SEQ) {
            items = (const cfg_node *const *)n->items;
            count = n->n;
        }
        if (n->kind == CFG_MAP)
            return type_error(errs, n, where, o);
        for (size_t k = 0; k < count; k++)
            if (items[k]->kind != CFG_SCALAR)
                return type_error(errs, items[k], where, o);
        sluice_strlist *l = FIELD(config, o, sluice_strlist);
        for (size_t k = 0; k < l->n; k++)
            free(l->v[k]);
        free(l->v);
        l->n = count;
        l->v = xcalloc(count + 1, sizeof *l->v);
        for (size_t k = 0; k < count; k++)
            l->v[k] = xstrndup(items[k]->value, items[k]->len);
        return 0;
    }
    case SLUICE_OPT_MAP: {
        if (n->kind != CFG_MAP)
            return type_error(errs, n, where, o);
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        pack_node(&pk, n);
        sluice_bytes *b = FIELD(config, o, sluice_bytes);
        free((char *)b->data);
        b->data = sb.data;
        b->len = sb.size;
        return 0;
    }
    case SLUICE_OPT_SECTION: {
        char *sub_where = xasprintf("%s.%s", where, o->name);
        int bad = 0;
        if (n->kind == CFG_MAP) {
            if (o->flags & SLUICE_OPT_OFF)
                *FIELD(config, o, int) = 1;
            bad = option_fill(o->sub, config, n, sub_where, NULL, errs);
        } else if ((o->flags & SLUICE_OPT_OFF) && n->kind == CFG_SCALAR &&
                   option_parse_bool(n->value, &r) == 0 && r == 0) {
            *FIELD(config, o, int) = 0;
            bad = option_fill(o->sub, config, NULL, sub_where, NULL, errs);
        } else {
            bad = type_error(errs, n, where, o);
        }
        free(sub_where);
        return bad;
    }
    case SLUICE_OPT_LIST: {
        if (n->kind != CFG_SEQ)
            return type_error(errs, n, where, o);
        free_list(o, config);
        sluice_list *l = FIELD(config, o, sluice_list);
        size_t item_size = (size_t)o->item_size;
        l->items = xcalloc(n->n ? n->n : 1, item_size);
        int bad = 0;
        for (size_t k = 0; k < n->n; k++) {
            char *sub_where = xasprintf("%s.%s[%zu]", where, o->name, k);
            bad += option_fill(o->sub, (char *)l->items + k * item_size, n->items[k], sub_where,
                               NULL, errs);
            free(sub_where);
            l->n++;
        }
        return bad;
    }
    }
    return 0;
}

/* The plugin's own judgement of a value the config gave (o->check), after
 * set_option stored it; a string list is judged item by item, so that the
 * error points at the item. */
static int
check_option(const sluice_option *o, void *config, const cfg_node *n, const char *where,
             cfg_errors *errs)
{
    char err[256];
    if (o->type == SLUICE_OPT_STR_LIST) {
        const sluice_strlist *l = FIELD(config, o, sluice_strlist);
        int bad = 0;
        for (size_t k = 0; k < l->n; k++) {
            err[0] = '\0';
            if (o->check(&l->v[k], err, sizeof err) == 0)
                continue;
            const cfg_node *at = n->kind == CFG_SEQ ? n->items[k] : n;
            if (n->kind == CFG_SEQ)
                cfg_error_node(errs, at, "%s.%s[%zu]: %s", where, o->name, k, err);
            else
                cfg_error_node(errs, at, "%s.%s: %s", where, o->name, err);
            errs->n_judged++;
            bad++;
        }
        return bad;
    }
    err[0] = '\0';
    if (o->check(FIELD(config, o, char), err, sizeof err) == 0)
        return 0;
    cfg_error_node(errs, n, "%s.%s: %s", where, o->name, err);
    errs->n_judged++;
    return 1;
}

/* Parse a schema default (written as YAML) into a node. */
static cfg_node *
default_node(const sluice_option *o, cfg_errors *errs)
{
    char *text = xasprintf("v: %s", o->def);
    char *name = xasprintf("<default of %s>", o->name);
    cfg_node *root = cfg_parse_string(name, text, strlen(text), errs);
    free(text);
    free(name);
    return root;
}

const char *const option_keys_checked[] = {NULL};

int
option_check_keys(const cfg_node *map, const char *where, const sluice_option *const *schemas,
                  size_t n_schemas, const char *const *extra_keys, cfg_errors *errs)
{
    size_t n_names = 0;
    for (size_t s = 0; s < n_schemas; s++)
        for (const sluice_option *o = schemas[s]; o && o->name; o++)
            n_names++;
    for (size_t e = 0; extra_keys && extra_keys[e]; e++)
        n_names++;
    const char **names = xcalloc(n_names + 1, sizeof *names);
    size_t k = 0;
    for (size_t s = 0; s < n_schemas; s++)
        for (const sluice_option *o = schemas[s]; o && o->name; o++)
            names[k++] = o->name;
    for (size_t e = 0; extra_keys && extra_keys[e]; e++)
        names[k++] = extra_keys[e];

    int bad = 0;
    if (map->kind != CFG_MAP)
        return 0; /* option_fill reports it */
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const cfg_node *key = map->items[i];
        int known = 0;
        for (size_t j = 0; j < n_names && !known; j++)
            known = strcmp(names[j], key->value) == 0;
        if (known)
            continue;
        const char *hint = option_suggest(key->value, names, n_names);
        if (hint)
            cfg_error_node(errs, key, "%s: unknown key '%s' (did you mean '%s'?)", where,
                           key->value, hint);
        else
            cfg_error_node(errs, key, "%s: unknown key '%s'", where, key->value);
        bad++;
    }
    free(names);
    return bad;
}

int
option_fill(const sluice_option *schema, void *config, const cfg_node *map, const char *where,
            const char *const *extra_keys, cfg_errors *errs)
{
    int bad = 0;
    if (map && map->kind != CFG_MAP) {
        char found[96];
        cfg_error_node(errs, map, "%s: expected a map, found %s", where,
                       cfg_describe(map, found, sizeof found));
        return 1;
    }
    if (map && extra_keys != option_keys_checked)
        bad += option_check_keys(map, where, &schema, 1, extra_keys, errs);

    for (const sluice_option *o = schema; o && o->name; o++) {
        const cfg_node *n = map ? cfg_map_get(map, o->name) : NULL;
        if (n) {
            int wrong = set_option(o, config, n, where, errs);
            if (!wrong && o->check && o->type != SLUICE_OPT_SECTION && o->type != SLUICE_OPT_LIST)
                wrong = check_option(o, config, n, where, errs);
            bad += wrong;
        } else if (o->type == SLUICE_OPT_SECTION) {
            /* An absent section is on, unless its default says off. */
            int on;
            if (o->flags & SLUICE_OPT_OFF)
                *FIELD(config, o, int) =
                    !(o->def && option_parse_bool(o->def, &on) == 0 && on == 0);
            char *sub_where = xasprintf("%s.%s", where, o->name);
            bad += option_fill(o->sub, config, NULL, sub_where, NULL, errs);
            free(sub_where);
        } else if (o->flags & SLUICE_OPT_REQUIRED) {
            if (map)
                cfg_error_node(errs, map, "%s: missing required option '%s'", where, o->name);
            else
                cfg_error_at(errs, NULL, 0, 0, "%s: missing required option '%s'", where,
                             o->name);
            bad++;
        } else if (o->def) {
            cfg_node *root = default_node(o, errs);
            if (!root)
                bad++;
            else
                bad += set_option(o, config, cfg_map_get(root, "v"), where, errs);
            cfg_tree_free(root);
        }
    }
    return bad;
}

void
option_free(const sluice_option *schema, void *config)
{
    if (!config)
        return;
    for (const sluice_option *o = schema; o && o->name; o++) {
        switch (o->type) {
        case SLUICE_OPT_STR:
            free(*FIELD(config, o, char *));
            *FIELD(config, o, char *) = NULL;
            break;
        case SLUICE_OPT_STR_LIST: {
            sluice_strlist *l = FIELD(config, o, sluice_strlist);
            for (size_t k = 0; k < l->n; k++)
                free(l->v[k]);
            free(l->v);
            l->v = NULL;
            l->n = 0;
            break;
        }
        case SLUICE_OPT_MAP: {
            sluice_bytes *b = FIELD(config, o, sluice_bytes);
            free((char *)b->data);
            b->data = NULL;
            b->len = 0;
            break;
        }
        case SLUICE_OPT_SECTION:
            option_free(o->sub, config);
            break;
        case SLUICE_OPT_LIST:
            free_list(o, config);
            break;
        default:
            break;
        }
    }
}

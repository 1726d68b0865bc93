/* filter_regex: matches a field (default `message`) against PCRE2 patterns
 * compiled with JIT and turns named captures into fields.
 *
 *   pattern / patterns   one regex, or a list tried in order; %{name} brings
 *                        in a built-in (patterns.c) with its time and types
 *   types                {field: int|float|bool|string}; a value that does
 *                        not convert stays a string and is counted; "-"
 *                        (access logs' "none") leaves the field out
 *   time_key/time_format the capture that sets the event's time
 *   on_no_match          keep the event as it was, drop it, or tag it
 *
 * Captures replace fields of the same name; the source field is removed
 * unless keep_original. Unset optional groups add nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sluice/sluice.h>

#include "patterns.h"

enum { NO_MATCH_KEEP, NO_MATCH_DROP, NO_MATCH_TAG };
static const char *const no_match_names[] = {"keep", "drop", "tag", NULL};

enum { TYPE_STRING, TYPE_INT, TYPE_FLOAT, TYPE_BOOL };
static const char *const type_names[] = {"string", "int", "float", "bool", NULL};

typedef struct regex_config {
    char *field;
    char *pattern;
    sluice_strlist patterns;
    sluice_bytes types;
    char *time_key;
    char *time_format;
    char *time_zone;
    int time_keep;
    int keep_original;
    int on_no_match;
    char *tag_key;
} regex_config;

static const sluice_option regex_options[] = {
    {.name = "field", .type = SLUICE_OPT_STR, .def = "message",
     .offset = offsetof(regex_config, field), .help = "The field to match (a path: a.b)."},
    {.name = "pattern", .type = SLUICE_OPT_STR, .offset = offsetof(regex_config, pattern),
     .help = "PCRE2 regex whose named groups become fields; %{apache_combined}, "
             "%{apache_common}, %{nginx_combined}, %{apache_error}, %{nginx_error}, %{syslog} "
             "and %{syslog_iso} insert a built-in, with its time_key, time_format and types as "
             "defaults."},
    {.name = "patterns", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(regex_config, patterns),
     .help = "Several patterns tried in order (after `pattern`); the first match wins."},
    {.name = "types", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(regex_config, types),
     .help = "field: int|float|bool|string. A value that does not convert stays a string "
             "(counted as failed); \"-\" (access logs' none) leaves the field out."},
    {.name = "time_key", .type = SLUICE_OPT_STR, .offset = offsetof(regex_config, time_key),
     .help = "The capture that sets the event's time."},
    {.name = "time_format", .type = SLUICE_OPT_STR, .offset = offsetof(regex_config, time_format),
     .help = "strptime-style format of time_key: %Y %m %d %H %M %S %z %b %s %f (fractions) ... "
             "(see docs/filters.md)."},
    {.name = "time_zone", .type = SLUICE_OPT_STR, .offset = offsetof(regex_config, time_zone),
     .help = "Zone of times written without one: UTC, local, +hh:mm (default: the built-in's, "
             "else UTC)."},
    {.name = "time_keep", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(regex_config, time_keep),
     .help = "Keep time_key as a field once it has set the event's time."},
    {.name = "keep_original", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(regex_config, keep_original),
     .help = "Keep the source field after a match (a top-level field only is removed)."},
    {.name = "on_no_match", .type = SLUICE_OPT_ENUM, .def = "keep", .values = no_match_names,
     .offset = offsetof(regex_config, on_no_match),
     .help = "keep: pass the event on unchanged; drop: drop it; tag: add tag_key: true. All "
             "are counted."},
    {.name = "tag_key", .type = SLUICE_OPT_STR, .def = "regex_no_match",
     .offset = offsetof(regex_config, tag_key),
     .help = "The field on_no_match: tag adds."},
    SLUICE_OPTIONS_END,
};

typedef struct capture {
    uint32_t group;
    const char *name; /* in the pattern's name table */
    size_t len;
    int type;
    int is_time;
} capture;

typedef struct compiled {
    pcre2_code *re;
    int jit;
    capture *caps;
    size_t n_caps;
    const char *time_format; /* NULL: no time capture */
    long tz;
} compiled;

typedef struct regex_ctx {
    sluice_instance *ins;
    const regex_config *cfg;
    compiled *pats;
    size_t n_pats;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    int top_level;
    size_t field_len;
    /* Per event: which captures are set, and their converted values. */
    capture **set;
    sluice_time_t now;
    uint64_t matched, no_match, not_string, type_errors, time_errors, match_errors;
} regex_ctx;

/* ==== Set-up ==== */

static int
type_index(const char *s, size_t n)
{
    for (int i = 0; type_names[i]; i++)
        if (strlen(type_names[i]) == n && strncmp(type_names[i], s, n) == 0)
            return i;
    if (n == 7 && strncmp(s, "integer", 7) == 0)
        return TYPE_INT;
    if (n == 6 && strncmp(s, "double", 6) == 0)
        return TYPE_FLOAT;
    return -1;
}

/* The type the user gave `name`, else the built-in's, else string. */
static int
capture_type(regex_ctx *c, const msgpack_object *types, const regex_builtin *b, const char *name,
             size_t len)
{
    for (uint32_t i = 0; types && i < types->via.map.size; i++) {
        const msgpack_object *k = &types->via.map.ptr[i].key, *v = &types->via.map.ptr[i].val;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
            memcmp(k->via.str.ptr, name, len) == 0 && v->type == MSGPACK_OBJECT_STR)
            return type_index(v->via.str.ptr, v->via.str.size);
    }
    for (const char *p = b ? b->types : NULL; p && *p;) {
        const char *colon = strchr(p, ':'), *comma = strchr(p, ',');
        size_t tlen = comma ? (size_t)(comma - colon - 1) : strlen(colon + 1);
        if ((size_t)(colon - p) == len && memcmp(p, name, len) == 0)
            return type_index(colon + 1, tlen);
        p = comma ? comma + 1 : NULL;
    }
    (void)c;
    return TYPE_STRING;
}

static int
check_types(regex_ctx *c, const msgpack_object *types)
{
    int bad = 0;
    for (uint32_t i = 0; types && i < types->via.map.size; i++) {
        const msgpack_object *k = &types->via.map.ptr[i].key, *v = &types->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR ||
            type_index(v->via.str.ptr, v->via.str.size) < 0) {
            char opt[160];
            snprintf(opt, sizeof opt, "types.%.*s",
                     k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size : 0,
                     k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "");
            if (v->type == MSGPACK_OBJECT_STR)
                sluice_option_error(c->ins, opt, "expected int, float, bool or string, found '%.*s'",
                                    (int)v->via.str.size, v->via.str.ptr);
            else
                sluice_option_error(c->ins, opt, "expected int, float, bool or string");
            bad = 1;
        }
    }
    return bad;
}

/* "unknown pattern %{nginx_combind} (did you mean %{nginx_combined}?)" */
static void
unknown_builtin(regex_ctx *c, const char *opt, const char *bad)
{
    const char *end = strchr(bad, '}');
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(end - bad - 2), bad + 2);
    const char *names[32];
    size_t n = 0;
    for (const regex_builtin *b = regex_builtins; b->name && n < 32; b++)
        names[n++] = b->name;
    const char *near = sluice_nearest(name, names, n);
    if (near)
        sluice_option_error(c->ins, opt, "unknown pattern %%{%s} (did you mean %%{%s}?)", name,
                            near);
    else
        sluice_option_error(c->ins, opt, "unknown pattern %%{%s}; the built-in ones are listed "
                                         "in docs/filters.md",
                            name);
}

/* Compile one pattern (option `opt`, source `src`) into `out`: expand
 * %{name}s, compile and JIT with PCRE2, and read its named groups into
 * captures with their types (`types`, else the built-in's) and which one is
 * the time (time_key, time_format and time_zone, from the config or the
 * built-in). Owns every error about the pattern and its time options,
 * reported with sluice_option_error; returns 0, or -1 after one. What it
 * stored in `out` is freed by the caller either way. */
static int
compile_one(regex_ctx *c, const char *opt, const char *src, const msgpack_object *types,
            compiled *out)
{
    const regex_config *cfg = c->cfg;
    const regex_builtin *b = NULL;
    const char *bad = NULL;
    char *expanded = regex_expand(src, &b, &bad);
    if (!expanded) {
        unknown_builtin(c, opt, bad);
        return -1;
    }
    int code;
    PCRE2_SIZE eoff;
    out->re = pcre2_compile((PCRE2_SPTR)expanded, PCRE2_ZERO_TERMINATED, 0, &code, &eoff, NULL);
    if (!out->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        if (strcmp(src, expanded) == 0)
            sluice_option_error(c->ins, opt, "%s at offset %zu of '%s'", (char *)msg,
                                (size_t)eoff, src);
        else
            sluice_option_error(c->ins, opt, "%s at offset %zu of '%s' (the pattern with its "
                                             "%%{names} expanded)",
                                (char *)msg, (size_t)eoff, expanded);
        free(expanded);
        return -1;
    }
    free(expanded);
    out->jit = pcre2_jit_compile(out->re, PCRE2_JIT_COMPLETE) == 0;

    uint32_t count, entry;
    PCRE2_SPTR table;
    pcre2_pattern_info(out->re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(out->re, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(out->re, PCRE2_INFO_NAMETABLE, &table);
    if (count == 0)
        sluice_warn(c->ins, "pattern '%s' has no named groups: a match adds no field", src);

    const char *time_key = cfg->time_key ? cfg->time_key : b ? b->time_key : NULL;
    out->time_format = cfg->time_format ? cfg->time_format : b ? b->time_format : NULL;
    const char *zone = cfg->time_zone ? cfg->time_zone : b ? b->time_zone : "UTC";
    if (sluice_time_zone_parse(zone, &out->tz) < 0) {
        sluice_option_error(c->ins, "time_zone", "expected UTC, local, +hh:mm or -hhmm, found "
                                                 "'%s'",
                            zone);
        return -1;
    }
    if (time_key && !out->time_format) {
        sluice_option_error(c->ins, "time_key", "'%s' needs a time_format", time_key);
        return -1;
    }
    out->caps = sluice_calloc(count ? count : 1, sizeof *out->caps);
    int time_found = 0;
    for (uint32_t i = 0; i < count; i++, table += entry) {
        capture *cap = &out->caps[out->n_caps++];
        cap->group = ((uint32_t)table[0] << 8) | table[1];
        cap->name = (const char *)table + 2;
        cap->len = strlen(cap->name);
        cap->type = capture_type(c, types, b, cap->name, cap->len);
        cap->is_time = time_key && strcmp(cap->name, time_key) == 0;
        time_found |= cap->is_time;
    }
    if (time_key && !time_found) {
        if (cfg->time_key)
            sluice_warn(c->ins, "pattern '%s' has no group named time_key '%s'", src, time_key);
        out->time_format = NULL;
    }
    return 0;
}

static void
regex_exit(void *ctx)
{
    regex_ctx *c = ctx;
    if (c->matched || c->no_match)
        sluice_info(c->ins,
                    "matched %llu; %llu did not match (%llu not a string, %llu match errors); "
                    "%llu values did not convert, %llu times did not parse",
                    (unsigned long long)c->matched, (unsigned long long)c->no_match,
                    (unsigned long long)c->not_string, (unsigned long long)c->match_errors,
                    (unsigned long long)c->type_errors, (unsigned long long)c->time_errors);
    for (size_t i = 0; i < c->n_pats; i++) {
        pcre2_code_free(c->pats[i].re);
        free(c->pats[i].caps);
    }
    free(c->pats);
    free(c->set);
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mctx);
    pcre2_jit_stack_free(c->jit_stack);
    free(c);
}

static int
regex_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const regex_config *cfg = config;
    regex_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    c->top_level = !strchr(cfg->field, '.');
    c->field_len = strlen(cfg->field);

    msgpack_unpacked types;
    msgpack_unpacked_init(&types);
    size_t off = 0;
    const msgpack_object *tmap = NULL;
    if (msgpack_unpack_next(&types, cfg->types.data, cfg->types.len, &off) ==
            MSGPACK_UNPACK_SUCCESS &&
        types.data.type == MSGPACK_OBJECT_MAP)
        tmap = &types.data;
    int bad = check_types(c, tmap);

    size_t n = (cfg->pattern ? 1 : 0) + cfg->patterns.n;
    if (n == 0) {
        sluice_option_error(ins, NULL, "needs a `pattern` or `patterns`");
        bad = 1;
    }
    c->pats = sluice_calloc(n ? n : 1, sizeof *c->pats);
    size_t max_caps = 1;
    for (size_t i = 0; i < n; i++) {
        const char *src = cfg->pattern ? (i == 0 ? cfg->pattern : cfg->patterns.v[i - 1])
                                       : cfg->patterns.v[i];
        char opt[32];
        if (cfg->pattern && i == 0)
            snprintf(opt, sizeof opt, "pattern");
        else
            snprintf(opt, sizeof opt, "patterns[%zu]", cfg->pattern ? i - 1 : i);
        c->n_pats++;
        if (compile_one(c, opt, src, tmap, &c->pats[i]) < 0) {
            bad = 1; /* and go on, so that validate lists every bad pattern */
            continue;
        }
        if (c->pats[i].n_caps > max_caps)
            max_caps = c->pats[i].n_caps;
    }
    msgpack_unpacked_destroy(&types);
    if (bad)
        return SLUICE_ERROR;
    c->set = sluice_calloc(max_caps, sizeof *c->set);
    c->md = pcre2_match_data_create(1024, NULL);
    /* Backtracking-heavy patterns on long lines need more than the 32 KiB
     * JIT stack PCRE2 starts with. */
    c->jit_stack = pcre2_jit_stack_create(32 << 10, 1 << 20, NULL);
    c->mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack_assign(c->mctx, NULL, c->jit_stack);
    return SLUICE_OK;
}

/* ==== Matching ==== */

static int
key_is(const msgpack_object *k, const char *s, size_t n)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

/* Decimal int64 of exactly [s, s+n), or -1. */
static int
to_int(const char *s, size_t n, int64_t *out)
{
    size_t i = s[0] == '-' || s[0] == '+';
    if (i == n || n - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (s[0] == '-') {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

static int
to_double(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n ? 0 : -1;
}

static int
to_bool(const char *s, size_t n, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                 "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
            return *out = 1, 0;
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static void
pack_value(regex_ctx *c, msgpack_packer *pk, const capture *cap, const char *s, size_t n)
{
    int64_t i;
    double d;
    int b;
    switch (cap->type) {
    case TYPE_INT:
        if (to_int(s, n, &i) == 0) {
            msgpack_pack_int64(pk, i);
            return;
        }
        break;
    case TYPE_FLOAT:
        if (to_double(s, n, &d) == 0) {
            msgpack_pack_double(pk, d);
            return;
        }
        break;
    case TYPE_BOOL:
        if (to_bool(s, n, &b) == 0) {
            b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
            return;
        }
        break;
    default:
        msgpack_pack_str_with_body(pk, s, n);
        return;
    }
    c->type_errors++;
    sluice_filter_failed(c->ins, 1);
    msgpack_pack_str_with_body(pk, s, n);
}

/* Whether a body key gives way to the match: the source field (unless
 * kept) or a key a set capture replaces. */
static int
replaced(const regex_ctx *c, const msgpack_object *k, size_t n_set)
{
    if (!c->cfg->keep_original && c->top_level && key_is(k, c->cfg->field, c->field_len))
        return 1;
    for (size_t i = 0; i < n_set; i++)
        if (key_is(k, c->set[i]->name, c->set[i]->len))
            return 1;
    return 0;
}

static void
emit_match(regex_ctx *c, sluice_emitter *out, const sluice_event *ev, const compiled *pat,
           const char *subject)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    size_t n_set = 0;
    sluice_time_t t = ev->time;
    int time_dropped = 0;
    for (size_t i = 0; i < pat->n_caps; i++) {
        const capture *cap = &pat->caps[i];
        PCRE2_SIZE a = ov[2 * cap->group], b = ov[2 * cap->group + 1];
        /* "-" is how access logs write "none" (%b for no body). */
        if (a == PCRE2_UNSET || (cap->type != TYPE_STRING && b - a == 1 && subject[a] == '-'))
            continue;
        if (cap->is_time && pat->time_format) {
            char err[128];
            if (sluice_time_parse(pat->time_format, subject + a, b - a, pat->tz, c->now, &t, err,
                                  sizeof err) == 0) {
                time_dropped = !c->cfg->time_keep;
            } else {
                if (c->time_errors++ % 10000 == 0)
                    sluice_warn(c->ins, "%s '%.*s' does not match time_format '%s': %s (%llu so far)",
                                cap->name, (int)(b - a > 64 ? 64 : b - a), subject + a,
                                pat->time_format, err, (unsigned long long)c->time_errors);
                sluice_filter_failed(c->ins, 1);
                t = ev->time;
            }
        }
        c->set[n_set++] = (capture *)cap;
    }
    const msgpack_object *body = &ev->body;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < body->via.map.size; i++)
        keep += !replaced(c, &body->via.map.ptr[i].key, n_set);
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, t);
    msgpack_pack_map(pk, keep + (uint32_t)n_set - (uint32_t)time_dropped);
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        if (replaced(c, &body->via.map.ptr[i].key, n_set))
            continue;
        msgpack_pack_object(pk, body->via.map.ptr[i].key);
        msgpack_pack_object(pk, body->via.map.ptr[i].val);
    }
    for (size_t i = 0; i < n_set; i++) {
        const capture *cap = c->set[i];
        if (cap->is_time && time_dropped)
            continue;
        PCRE2_SIZE a = ov[2 * cap->group], b = ov[2 * cap->group + 1];
        msgpack_pack_str_with_body(pk, cap->name, cap->len);
        pack_value(c, pk, cap, subject + a, b - a);
    }
    sluice_emit_end(out);
}

static void
emit_tagged(regex_ctx *c, sluice_emitter *out, const sluice_event *ev)
{
    const msgpack_object *b = &ev->body;
    size_t klen = strlen(c->cfg->tag_key);
    uint32_t had = 0;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        had += key_is(&b->via.map.ptr[i].key, c->cfg->tag_key, klen);
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, ev->time);
    msgpack_pack_map(pk, b->via.map.size - had + 1);
    for (uint32_t i = 0; i < b->via.map.size; i++) {
        if (key_is(&b->via.map.ptr[i].key, c->cfg->tag_key, klen))
            continue;
        msgpack_pack_object(pk, b->via.map.ptr[i].key);
        msgpack_pack_object(pk, b->via.map.ptr[i].val);
    }
    msgpack_pack_str_with_body(pk, c->cfg->tag_key, klen);
    msgpack_pack_true(pk);
    sluice_emit_end(out);
}

/* The first pattern matching [s, s+n), or NULL. */
static const compiled *
match(regex_ctx *c, const char *s, size_t n)
{
    for (size_t i = 0; i < c->n_pats; i++) {
        const compiled *p = &c->pats[i];
        int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)s, n, 0, 0, c->md, c->mctx)
                        : pcre2_match(p->re, (PCRE2_SPTR)s, n, 0, 0, c->md, c->mctx);
        if (rc >= 0)
            return p;
        if (rc != PCRE2_ERROR_NOMATCH && c->match_errors++ % 10000 == 0) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(rc, msg, sizeof msg);
            sluice_warn(c->ins, "matching a %zu-byte value failed: %s (%llu so far)", n,
                        (char *)msg, (unsigned long long)c->match_errors);
        }
    }
    return NULL;
}

static int
regex_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    regex_ctx *c = ctx;
    sluice_event_iter it;
    sluice_event ev;
    c->now = sluice_time_now();
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        const msgpack_object *f = sluice_record_get(&ev.body, c->cfg->field);
        const compiled *p = NULL;
        if (f && f->type == MSGPACK_OBJECT_STR)
            p = match(c, f->via.str.ptr ? f->via.str.ptr : "", f->via.str.size);
        else if (f)
            c->not_string++;
        if (p) {
            c->matched++;
            emit_match(c, out, &ev, p, f->via.str.ptr);
            continue;
        }
        c->no_match++;
        if (c->cfg->on_no_match == NO_MATCH_DROP)
            sluice_filter_dropped(c->ins, 1);
        else if (c->cfg->on_no_match == NO_MATCH_TAG)
            emit_tagged(c, out, &ev);
        else
            sluice_emit_raw(out, SLUICE_EVENT_LOG, ev.raw, ev.raw_len);
    }
    sluice_event_iter_destroy(&it);
    return SLUICE_FILTER_MODIFIED;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "regex",
    .description = "Parse a field with PCRE2 regexes (or built-in log formats) into fields.",
    .options = regex_options,
    .config_size = sizeof(regex_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = regex_init,
    .filter = regex_filter,
    .exit = regex_exit,
};

/* filter_grep: keeps or drops events by PCRE2 regexes on their fields.
 *   include: {field: regex, ...}   kept only if these match (include_op)
 *   exclude: {field: regex, ...}   dropped if these match (exclude_op)
 * Fields are paths (a.b); numbers and booleans are matched as their JSON
 * text; a missing field matches nothing. Dropped events are counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sluice/sluice.h>

enum { OP_AND, OP_OR };
static const char *const op_names[] = {"and", "or", NULL};

typedef struct grep_config {
    sluice_bytes include, exclude;
    int include_op, exclude_op;
} grep_config;

static const sluice_option grep_options[] = {
    {.name = "include", .type = SLUICE_OPT_MAP, .def = "{}",
     .offset = offsetof(grep_config, include),
     .help = "field: regex pairs; an event is kept only if they match (see include_op)."},
    {.name = "exclude", .type = SLUICE_OPT_MAP, .def = "{}",
     .offset = offsetof(grep_config, exclude),
     .help = "field: regex pairs; an event is dropped if they match (see exclude_op)."},
    {.name = "include_op", .type = SLUICE_OPT_ENUM, .def = "and", .values = op_names,
     .offset = offsetof(grep_config, include_op),
     .help = "and: every include rule must match; or: any one."},
    {.name = "exclude_op", .type = SLUICE_OPT_ENUM, .def = "or", .values = op_names,
     .offset = offsetof(grep_config, exclude_op),
     .help = "or: any exclude rule drops the event; and: all of them must match."},
    SLUICE_OPTIONS_END,
};

typedef struct rule {
    char *field;
    pcre2_code *re;
} rule;

typedef struct rules {
    rule *v;
    size_t n;
    int op;
} rules;

typedef struct grep_ctx {
    sluice_instance *ins;
    rules include, exclude;
    pcre2_match_data *md;
    sluice_buf text;
    uint64_t kept, dropped;
} grep_ctx;

static int
compile(sluice_instance *ins, const char *what, const sluice_bytes *src, int op, rules *out)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int bad = 0;
    out->op = op;
    if (msgpack_unpack_next(&up, src->data, src->len, &off) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&up);
        return 0;
    }
    const msgpack_object *m = &up.data;
    out->v = calloc(m->via.map.size ? m->via.map.size : 1, sizeof *out->v);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key, *v = &m->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR) {
            sluice_error(ins, "%s: expected field: regex strings", what);
            bad = 1;
            continue;
        }
        int code;
        PCRE2_SIZE eoff;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->via.str.ptr, v->via.str.size, 0, &code,
                                       &eoff, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof msg);
            sluice_error(ins, "%s.%.*s: bad regex '%.*s' at offset %zu: %s", what,
                         (int)k->via.str.size, k->via.str.ptr, (int)v->via.str.size,
                         v->via.str.ptr, (size_t)eoff, (char *)msg);
            bad = 1;
            continue;
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        out->v[out->n].field = strndup(k->via.str.ptr, k->via.str.size);
        out->v[out->n++].re = re;
    }
    msgpack_unpacked_destroy(&up);
    return bad;
}

/* Whether the rule's field exists and its regex matches it. */
static int
rule_matches(grep_ctx *g, const rule *r, const msgpack_object *body)
{
    const msgpack_object *v = sluice_record_get(body, r->field);
    if (!v)
        return 0;
    const char *s;
    size_t n;
    if (v->type == MSGPACK_OBJECT_STR) {
        s = v->via.str.ptr;
        n = v->via.str.size;
    } else {
        sluice_buf_reset(&g->text);
        sluice_json_value(&g->text, v);
        s = g->text.data;
        n = g->text.len;
    }
    return pcre2_match(r->re, (PCRE2_SPTR)(s ? s : ""), n, 0, 0, g->md, NULL) >= 0;
}

/* The rules combined with their operator; `empty` when there are none. */
static int
rules_match(grep_ctx *g, const rules *rs, const msgpack_object *body, int empty)
{
    if (!rs->n)
        return empty;
    for (size_t i = 0; i < rs->n; i++) {
        int m = rule_matches(g, &rs->v[i], body);
        if (rs->op == OP_OR && m)
            return 1;
        if (rs->op == OP_AND && !m)
            return 0;
    }
    return rs->op == OP_AND;
}

static int
grep_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    grep_ctx *g = ctx;
    sluice_event_iter it;
    sluice_event ev;
    size_t dropped = 0;
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        if (rules_match(g, &g->include, &ev.body, 1) && !rules_match(g, &g->exclude, &ev.body, 0)) {
            sluice_emit_raw(out, in->kind, ev.raw, ev.raw_len);
            g->kept++;
        } else {
            dropped++;
        }
    }
    sluice_event_iter_destroy(&it);
    g->dropped += dropped;
    return SLUICE_FILTER_MODIFIED;
}

static void
free_rules(rules *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].field);
        pcre2_code_free(rs->v[i].re);
    }
    free(rs->v);
}

static int
grep_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const grep_config *cfg = config;
    grep_ctx *g = calloc(1, sizeof *g);
    g->ins = ins;
    int bad = compile(ins, "include", &cfg->include, cfg->include_op, &g->include);
    bad |= compile(ins, "exclude", &cfg->exclude, cfg->exclude_op, &g->exclude);
    g->md = pcre2_match_data_create(1, NULL);
    *ctxp = g;
    return bad ? SLUICE_ERROR : SLUICE_OK;
}

static void
grep_exit(void *ctx)
{
    grep_ctx *g = ctx;
    if (g->kept || g->dropped)
        sluice_info(g->ins, "kept %llu events, dropped %llu", (unsigned long long)g->kept,
                    (unsigned long long)g->dropped);
    free_rules(&g->include);
    free_rules(&g->exclude);
    pcre2_match_data_free(g->md);
    sluice_buf_free(&g->text);
    free(g);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "grep",
    .description = "Keep or drop events by regexes on their fields.",
    .options = grep_options,
    .config_size = sizeof(grep_config),
    .accepts = SLUICE_ACCEPTS_ALL,
    .init = grep_init,
    .filter = grep_filter,
    .exit = grep_exit,
};

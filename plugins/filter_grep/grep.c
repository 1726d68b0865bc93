/* filter_grep: keeps or drops events by PCRE2 regexes on their fields.
 *   include: {field: regex, ...}   kept only if these match (include_op)
 *   exclude: {field: regex, ...}   dropped if these match (exclude_op)
 * Fields are paths (a.b); numbers and booleans are matched as their JSON
 * text; a missing field matches nothing. Dropped events are counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

#include "field_rules.h"

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

typedef struct rules {
    field_rules r;
    int op;
} rules;

typedef struct grep_ctx {
    sluice_instance *ins;
    rules include, exclude;
    uint64_t kept, dropped;
} grep_ctx;

/* The rules combined with their operator; `empty` when there are none. */
static int
rules_match(rules *rs, const msgpack_object *body, int empty)
{
    if (!rs->r.n)
        return empty;
    for (size_t i = 0; i < rs->r.n; i++) {
        int m = field_rule_matches(&rs->r, i, body);
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
        if (rules_match(&g->include, &ev.body, 1) && !rules_match(&g->exclude, &ev.body, 0)) {
            sluice_emit_raw(out, in->kind, ev.raw, ev.raw_len);
            g->kept++;
        } else {
            dropped++;
        }
    }
    sluice_event_iter_destroy(&it);
    g->dropped += dropped;
    sluice_filter_dropped(g->ins, dropped);
    return SLUICE_FILTER_MODIFIED;
}

static int
grep_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const grep_config *cfg = config;
    grep_ctx *g = sluice_calloc(1, sizeof *g);
    g->ins = ins;
    g->include.op = cfg->include_op;
    g->exclude.op = cfg->exclude_op;
    int bad = field_rules_compile(&g->include.r, ins, "include", &cfg->include);
    bad += field_rules_compile(&g->exclude.r, ins, "exclude", &cfg->exclude);
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
    field_rules_free(&g->include.r);
    field_rules_free(&g->exclude.r);
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

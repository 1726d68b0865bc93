/* filter_json: parses a field holding JSON (default `message`) and merges
 * the object into the event, or puts the value under `target`. Keys from
 * the parsed object win over existing ones. The source field is removed
 * unless keep_original (only top-level fields are removed). An event whose
 * field does not parse is kept with parse_error: true, dropped, or
 * dead-lettered with the parser's message, and counted each way; an event
 * without the field passes unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

enum { ON_ERROR_KEEP, ON_ERROR_DROP, ON_ERROR_DEAD_LETTER };
static const char *const on_error_names[] = {"keep", "drop", "dead_letter", NULL};

typedef struct json_config {
    char *field;
    char *target;
    int keep_original;
    int on_error;
} json_config;

static const sluice_option json_options[] = {
    {.name = "field", .type = SLUICE_OPT_STR, .def = "message",
     .offset = offsetof(json_config, field), .help = "The field holding JSON (a path: a.b)."},
    {.name = "target", .type = SLUICE_OPT_STR, .offset = offsetof(json_config, target),
     .help = "Put the parsed value under this key; default: merge the object into the event."},
    {.name = "keep_original", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(json_config, keep_original),
     .help = "Keep the source field after a successful parse."},
    {.name = "on_error", .type = SLUICE_OPT_ENUM, .def = "keep", .values = on_error_names,
     .offset = offsetof(json_config, on_error),
     .help = "keep: add parse_error: true; drop: drop the event; dead_letter: write it with "
             "the parser's message to the filter's dead_letter.path. All are counted."},
    SLUICE_OPTIONS_END,
};

typedef struct json_ctx {
    sluice_instance *ins;
    const json_config *cfg;
    int top_level; /* the field has no dots */
    msgpack_sbuffer scratch;
    msgpack_packer pk;
    uint64_t parsed_ok, errors, dropped, not_string;
} json_ctx;

static int
key_is(const msgpack_object *k, const char *s, size_t n)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

/* Whether the packed members of the parsed object have the key `key`. */
static int
in_members(const sluice_json_members *m, const msgpack_object *key)
{
    if (key->type != MSGPACK_OBJECT_STR)
        return 0;
    const char *p = m->data, *end = m->data + m->len;
    for (uint32_t i = 0; i < m->count && p < end; i++) {
        size_t ks = sluice_msgpack_size(p, (size_t)(end - p));
        if (!ks)
            return 0;
        /* A string's header is 1 (fixstr), 2, 3 or 5 bytes. */
        unsigned char h = (unsigned char)*p;
        size_t head = (h & 0xe0) == 0xa0 ? 1 : h == 0xd9 ? 2 : h == 0xda ? 3 : h == 0xdb ? 5 : 0;
        if (head && ks - head == key->via.str.size &&
            memcmp(p + head, key->via.str.ptr, ks - head) == 0)
            return 1;
        p += ks;
        p += sluice_msgpack_size(p, (size_t)(end - p));
    }
    return 0;
}

static void
emit_with_error(json_ctx *c, sluice_emitter *out, const sluice_event *ev)
{
    const msgpack_object *b = &ev->body;
    uint32_t had = 0;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        had += key_is(&b->via.map.ptr[i].key, "parse_error", 11);
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, ev->time);
    msgpack_pack_map(pk, b->via.map.size - had + 1);
    for (uint32_t i = 0; i < b->via.map.size; i++) {
        if (key_is(&b->via.map.ptr[i].key, "parse_error", 11))
            continue;
        msgpack_pack_object(pk, b->via.map.ptr[i].key);
        msgpack_pack_object(pk, b->via.map.ptr[i].val);
    }
    msgpack_pack_str_with_body(pk, "parse_error", 11);
    msgpack_pack_true(pk);
    sluice_emit_end(out);
}

/* Whether an existing key gives way: the source field (unless kept), or a
 * key the parsed value replaces. */
static int
replaced(const json_ctx *c, const msgpack_object *k, const sluice_json_members *m)
{
    const json_config *cfg = c->cfg;
    if (!cfg->keep_original && c->top_level && key_is(k, cfg->field, strlen(cfg->field)))
        return 1;
    return cfg->target ? key_is(k, cfg->target, strlen(cfg->target)) : in_members(m, k);
}

/* The event with the parsed value merged in (or under target), its packed
 * bytes copied as they are. */
static void
emit_merged(json_ctx *c, sluice_emitter *out, const sluice_event *ev, const sluice_json_members *m)
{
    const json_config *cfg = c->cfg;
    const msgpack_object *b = &ev->body;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < b->via.map.size; i++)
        keep += !replaced(c, &b->via.map.ptr[i].key, m);
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, ev->time);
    msgpack_pack_map(pk, keep + (cfg->target ? 1 : m->count));
    for (uint32_t i = 0; i < b->via.map.size; i++) {
        if (replaced(c, &b->via.map.ptr[i].key, m))
            continue;
        msgpack_pack_object(pk, b->via.map.ptr[i].key);
        msgpack_pack_object(pk, b->via.map.ptr[i].val);
    }
    if (cfg->target) {
        msgpack_pack_str_with_body(pk, cfg->target, strlen(cfg->target));
        pk->callback(pk->data, c->scratch.data, c->scratch.size);
    } else {
        pk->callback(pk->data, m->data, m->len);
    }
    sluice_emit_end(out);
}

/* The common case, an event that is only its source field (a tailed
 * line): the parsed object is the new body, copied as packed. */
static int
emit_fast(json_ctx *c, sluice_emitter *out, const sluice_event *ev)
{
    const msgpack_object *b = &ev->body;
    if (c->cfg->target || c->cfg->keep_original || !c->top_level || b->via.map.size != 1 ||
        !key_is(&b->via.map.ptr[0].key, c->cfg->field, strlen(c->cfg->field)))
        return 0;
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, ev->time);
    pk->callback(pk->data, c->scratch.data, c->scratch.size);
    sluice_emit_end(out);
    return 1;
}

static int
json_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    json_ctx *c = ctx;
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        const msgpack_object *f = sluice_record_get(&ev.body, c->cfg->field);
        if (!f) {
            sluice_emit_raw(out, SLUICE_EVENT_LOG, ev.raw, ev.raw_len);
            continue;
        }
        int ok = 0;
        char err[160] = "not a string";
        sluice_json_members m = {0};
        if (f->type != MSGPACK_OBJECT_STR) {
            c->not_string++;
        } else if (c->cfg->target) {
            msgpack_sbuffer_clear(&c->scratch);
            ok = sluice_json_to_msgpack(f->via.str.ptr, f->via.str.size, &c->pk, err,
                                        sizeof err) == 0;
        } else {
            ok = sluice_json_object(f->via.str.ptr, f->via.str.size, &c->scratch, &m, err,
                                    sizeof err) == 0;
        }
        if (ok) {
            c->parsed_ok++;
            if (!emit_fast(c, out, &ev))
                emit_merged(c, out, &ev, &m);
            continue;
        }
        c->errors++;
        sluice_filter_failed(c->ins, 1);
        if (c->cfg->on_error == ON_ERROR_DROP) {
            c->dropped++;
            sluice_filter_dropped(c->ins, 1);
        } else if (c->cfg->on_error == ON_ERROR_DEAD_LETTER) {
            char reason[200];
            snprintf(reason, sizeof reason, "%s: %s", c->cfg->field, err);
            sluice_dead_letter(c->ins, &ev, reason);
        } else {
            emit_with_error(c, out, &ev);
        }
    }
    sluice_event_iter_destroy(&it);
    return SLUICE_FILTER_MODIFIED;
}

static int
json_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const json_config *cfg = config;
    json_ctx *c = sluice_calloc(1, sizeof *c);
    c->ins = ins;
    c->cfg = cfg;
    c->top_level = !strchr(cfg->field, '.');
    msgpack_sbuffer_init(&c->scratch);
    msgpack_packer_init(&c->pk, &c->scratch, msgpack_sbuffer_write);
    *ctxp = c;
    return SLUICE_OK;
}

static void
json_exit(void *ctx)
{
    json_ctx *c = ctx;
    if (c->parsed_ok || c->errors)
        sluice_info(c->ins, "parsed %llu; %llu failed (%llu not a string), %llu of them dropped",
                    (unsigned long long)c->parsed_ok, (unsigned long long)c->errors,
                    (unsigned long long)c->not_string, (unsigned long long)c->dropped);
    msgpack_sbuffer_destroy(&c->scratch);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "json",
    .description = "Parse a field holding JSON into the event.",
    .options = json_options,
    .config_size = sizeof(json_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = json_init,
    .filter = json_filter,
    .exit = json_exit,
};

/* filter_modify: edits log records. The edits run in this order, each over
 * its fields in the order written; every field is a path (a.b.c):
 *
 *   rename    {from: to}     move a field (replacing `to`)
 *   copy      {from: to}     copy a field (replacing `to`)
 *   set       {field: value} set, creating maps along the way
 *   add       {field: value} set only if absent
 *   hash      [field]        replace by the hex SHA-256 of its text, or its
 *                            HMAC-SHA256 with hash_key (for PII)
 *   lowercase [field]        strings only
 *   uppercase [field]
 *   remove    [field]
 *
 * Values may use ${VAR} (expanded when the config is loaded). A field that
 * is absent is left alone; a non-string under lowercase/uppercase too. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sluice/sluice.h>

#include "record.h"

typedef struct modify_config {
    sluice_bytes rename, copy, set, add;
    sluice_strlist hash, lowercase, uppercase, remove;
    char *hash_key;
} modify_config;

static const sluice_option modify_options[] = {
    {.name = "rename", .type = SLUICE_OPT_MAP, .def = "{}",
     .offset = offsetof(modify_config, rename), .help = "from: to pairs; moves the field."},
    {.name = "copy", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(modify_config, copy),
     .help = "from: to pairs; copies the field."},
    {.name = "set", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(modify_config, set),
     .help = "field: value pairs; sets the field, creating maps along its path."},
    {.name = "add", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(modify_config, add),
     .help = "field: value pairs; sets the field only if it is absent."},
    {.name = "hash", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(modify_config, hash),
     .help = "Fields replaced by the hex SHA-256 of their text (HMAC-SHA256 with hash_key)."},
    {.name = "hash_key", .type = SLUICE_OPT_STR, .offset = offsetof(modify_config, hash_key),
     .help = "Secret key for hash (e.g. ${PII_KEY}), so that hashes cannot be reversed by "
             "trying likely values."},
    {.name = "lowercase", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(modify_config, lowercase), .help = "String fields to lowercase (ASCII)."},
    {.name = "uppercase", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(modify_config, uppercase), .help = "String fields to uppercase (ASCII)."},
    {.name = "remove", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(modify_config, remove),
     .help = "Fields to remove."},
    SLUICE_OPTIONS_END,
};

/* A decoded pair map from the config. */
typedef struct pairs {
    msgpack_unpacked up;
    const msgpack_object_kv *kv;
    uint32_t n;
} pairs;

typedef struct modify_ctx {
    sluice_instance *ins;
    const modify_config *cfg;
    pairs rename, copy, set, add;
    record rec;
    sluice_buf text;
} modify_ctx;

static int
load_pairs(modify_ctx *c, const char *what, const sluice_bytes *src, pairs *p, int values_are_paths)
{
    msgpack_unpacked_init(&p->up);
    size_t off = 0;
    if (msgpack_unpack_next(&p->up, src->data, src->len, &off) != MSGPACK_UNPACK_SUCCESS ||
        p->up.data.type != MSGPACK_OBJECT_MAP)
        return 0;
    p->kv = p->up.data.via.map.ptr;
    p->n = p->up.data.via.map.size;
    for (uint32_t i = 0; i < p->n; i++) {
        const msgpack_object *k = &p->kv[i].key, *v = &p->kv[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            (values_are_paths && (v->type != MSGPACK_OBJECT_STR || v->via.str.size == 0))) {
            sluice_option_error(c->ins, what, "expected %s",
                                values_are_paths ? "from: to field names" : "field: value pairs");
            return 1;
        }
    }
    return 0;
}

/* A NUL-terminated copy of a MessagePack string, kept until exit. */
static char *
path_of(const msgpack_object *o)
{
    return sluice_strndup(o->via.str.ptr, o->via.str.size);
}

static void
free_pairs(pairs *p)
{
    msgpack_unpacked_destroy(&p->up);
}

static void
modify_exit(void *ctx)
{
    modify_ctx *c = ctx;
    free_pairs(&c->rename);
    free_pairs(&c->copy);
    free_pairs(&c->set);
    free_pairs(&c->add);
    record_free(&c->rec);
    sluice_buf_free(&c->text);
    free(c);
}

static int
modify_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const modify_config *cfg = config;
    modify_ctx *c = sluice_calloc(1, sizeof *c);
    *ctxp = c;
    c->ins = ins;
    c->cfg = cfg;
    int bad = load_pairs(c, "rename", &cfg->rename, &c->rename, 1);
    bad |= load_pairs(c, "copy", &cfg->copy, &c->copy, 1);
    bad |= load_pairs(c, "set", &cfg->set, &c->set, 0);
    bad |= load_pairs(c, "add", &cfg->add, &c->add, 0);
    return bad ? SLUICE_ERROR : SLUICE_OK;
}

/* ==== Edits ==== */

/* Move or copy `from` to `to`. */
static void
move(modify_ctx *c, const msgpack_object *from_o, const msgpack_object *to_o, int keep)
{
    char *from = path_of(from_o), *to = path_of(to_o);
    rec_entry *src = record_find(&c->rec, from, 0);
    if (src && strcmp(from, to) != 0) {
        rec_entry copy = *src; /* creating `to` may move entries */
        if (!keep)
            src->removed = 1;
        rec_map *sub = copy.sub && keep ? record_clone(&c->rec, copy.sub) : copy.sub;
        rec_entry *dst = record_find(&c->rec, to, 1);
        if (dst) {
            dst->val = copy.val;
            dst->sub = sub;
        }
    }
    free(from);
    free(to);
}

static void
assign(modify_ctx *c, const msgpack_object_kv *kv, int only_if_absent)
{
    char *path = path_of(&kv->key);
    if (!only_if_absent || !record_find(&c->rec, path, 0)) {
        rec_entry *e = record_find(&c->rec, path, 1);
        if (e) {
            e->val = kv->val;
            e->sub = NULL;
        }
    }
    free(path);
}

static void
hash_field(modify_ctx *c, const char *path)
{
    rec_entry *e = record_find(&c->rec, path, 0);
    if (!e || e->sub)
        return;
    size_t n;
    const char *s = sluice_json_text(&e->val, &c->text, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const char *key = c->cfg->hash_key;
    if (key)
        HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)s, n, md, &md_len);
    else
        EVP_Digest(s, n, md, &md_len, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    char out[2 * EVP_MAX_MD_SIZE];
    for (unsigned i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    e->val = record_str(&c->rec, out, 2 * md_len);
}

static void
change_case(modify_ctx *c, const char *path, int upper)
{
    rec_entry *e = record_find(&c->rec, path, 0);
    if (!e || e->sub || e->val.type != MSGPACK_OBJECT_STR)
        return;
    msgpack_object o = record_str(&c->rec, e->val.via.str.ptr, e->val.via.str.size);
    char *p = (char *)o.via.str.ptr;
    for (uint32_t i = 0; i < o.via.str.size; i++)
        if (upper ? (p[i] >= 'a' && p[i] <= 'z') : (p[i] >= 'A' && p[i] <= 'Z'))
            p[i] ^= 0x20;
    e->val = o;
}

static void
edit(modify_ctx *c)
{
    const modify_config *cfg = c->cfg;
    for (uint32_t i = 0; i < c->rename.n; i++)
        move(c, &c->rename.kv[i].key, &c->rename.kv[i].val, 0);
    for (uint32_t i = 0; i < c->copy.n; i++)
        move(c, &c->copy.kv[i].key, &c->copy.kv[i].val, 1);
    for (uint32_t i = 0; i < c->set.n; i++)
        assign(c, &c->set.kv[i], 0);
    for (uint32_t i = 0; i < c->add.n; i++)
        assign(c, &c->add.kv[i], 1);
    for (size_t i = 0; i < cfg->hash.n; i++)
        hash_field(c, cfg->hash.v[i]);
    for (size_t i = 0; i < cfg->lowercase.n; i++)
        change_case(c, cfg->lowercase.v[i], 0);
    for (size_t i = 0; i < cfg->uppercase.n; i++)
        change_case(c, cfg->uppercase.v[i], 1);
    for (size_t i = 0; i < cfg->remove.n; i++) {
        rec_entry *e = record_find(&c->rec, cfg->remove.v[i], 0);
        if (e)
            e->removed = 1;
    }
}

static int
modify_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    modify_ctx *c = ctx;
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        record_open(&c->rec, &ev.body);
        edit(c);
        msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_LOG, ev.time);
        record_pack(&c->rec, pk);
        sluice_emit_end(out);
    }
    sluice_event_iter_destroy(&it);
    return SLUICE_FILTER_MODIFIED;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "modify",
    .description = "Set, add, rename, copy, remove, hash or change the case of fields.",
    .options = modify_options,
    .config_size = sizeof(modify_config),
    .accepts = SLUICE_ACCEPTS_LOGS,
    .init = modify_init,
    .exit = modify_exit,
    .filter = modify_filter,
};

/* Editing records in place (see record.h). */
#include <stdlib.h>
#include <string.h>

#include <sluice/alloc.h>
#include "record.h"

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 8;
    while (c < need)
        c *= 2;
    p = sluice_realloc(p, c * size);
    if (!p)
        abort();
    *cap = c;
    return p;
}

static void
map_fill(rec_map *m, const msgpack_object *obj)
{
    m->n = 0;
    uint32_t n = obj && obj->type == MSGPACK_OBJECT_MAP ? obj->via.map.size : 0;
    m->v = grow(m->v, &m->cap, n ? n : 1, sizeof *m->v);
    for (uint32_t i = 0; i < n; i++)
        m->v[m->n++] = (rec_entry){obj->via.map.ptr[i].key, obj->via.map.ptr[i].val, NULL, 0};
}

static rec_map *
new_map(record *r, const msgpack_object *obj)
{
    if (r->used_maps == r->n_maps) {
        r->maps = grow(r->maps, &r->cap_maps, r->n_maps + 1, sizeof *r->maps);
        r->maps[r->n_maps] = sluice_calloc(1, sizeof **r->maps);
        if (!r->maps[r->n_maps])
            abort();
        r->n_maps++;
    }
    rec_map *m = r->maps[r->used_maps++];
    map_fill(m, obj);
    return m;
}

void
record_open(record *r, const msgpack_object *map)
{
    for (size_t i = 0; i < r->n_strs; i++)
        free(r->strs[i]);
    r->n_strs = 0;
    r->used_maps = 0;
    map_fill(&r->root, map);
}

static rec_entry *
map_get(rec_map *m, const char *key, size_t len)
{
    for (size_t i = 0; i < m->n; i++) {
        const msgpack_object *k = &m->v[i].key;
        if (!m->v[i].removed && k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
            memcmp(k->via.str.ptr, key, len) == 0)
            return &m->v[i];
    }
    return NULL;
}

msgpack_object
record_str(record *r, const char *s, size_t n)
{
    char *copy = sluice_malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, s, n);
    r->strs = grow(r->strs, &r->cap_strs, r->n_strs + 1, sizeof *r->strs);
    r->strs[r->n_strs++] = copy;
    msgpack_object o = {.type = MSGPACK_OBJECT_STR};
    o.via.str.ptr = copy;
    o.via.str.size = (uint32_t)n;
    return o;
}

rec_entry *
record_find(record *r, const char *path, int create)
{
    rec_map *m = &r->root;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        rec_entry *e = map_get(m, path, len);
        if (!e && create) {
            m->v = grow(m->v, &m->cap, m->n + 1, sizeof *m->v);
            e = &m->v[m->n++];
            *e = (rec_entry){record_str(r, path, len), {.type = MSGPACK_OBJECT_NIL}, NULL, 0};
        }
        if (!e || !dot)
            return e;
        if (!e->sub) {
            if (e->val.type != MSGPACK_OBJECT_MAP && !create)
                return NULL;
            e->sub = new_map(r, e->val.type == MSGPACK_OBJECT_MAP ? &e->val : NULL);
        }
        m = e->sub;
        path = dot + 1;
    }
}

rec_map *
record_clone(record *r, const rec_map *m)
{
    rec_map *copy = new_map(r, NULL);
    copy->v = grow(copy->v, &copy->cap, m->n ? m->n : 1, sizeof *copy->v);
    for (size_t i = 0; i < m->n; i++) {
        copy->v[copy->n] = m->v[i];
        if (m->v[i].sub)
            copy->v[copy->n].sub = record_clone(r, m->v[i].sub);
        copy->n++;
    }
    return copy;
}

static void
pack_map(const rec_map *m, msgpack_packer *pk)
{
    uint32_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += !m->v[i].removed;
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < m->n; i++) {
        const rec_entry *e = &m->v[i];
        if (e->removed)
            continue;
        msgpack_pack_object(pk, e->key);
        if (e->sub)
            pack_map(e->sub, pk);
        else
            msgpack_pack_object(pk, e->val);
    }
}

void
record_pack(const record *r, msgpack_packer *pk)
{
    pack_map(&r->root, pk);
}

void
record_free(record *r)
{
    for (size_t i = 0; i < r->n_strs; i++)
        free(r->strs[i]);
    free(r->strs);
    for (size_t i = 0; i < r->n_maps; i++) {
        free(r->maps[i]->v);
        free(r->maps[i]);
    }
    free(r->maps);
    free(r->root.v);
    memset(r, 0, sizeof *r);
}

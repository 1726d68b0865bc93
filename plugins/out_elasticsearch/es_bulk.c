/* Bulk API answers (see es_bulk.h). */
#include <stdio.h>
#include <string.h>

#include "es_bulk.h"

int
es_bulk_all_ok(const char *body, size_t len)
{
    const char *items = memmem(body, len, "\"items\"", 7);
    size_t head = items ? (size_t)(items - body) : len;
    const char *e = memmem(body, head, "\"errors\"", 8);
    if (!e)
        return 0;
    e += 8;
    while (e < body + head && (*e == ' ' || *e == ':' || *e == '\n' || *e == '\t'))
        e++;
    return (size_t)(body + head - e) >= 5 && memcmp(e, "false", 5) == 0;
}

static const msgpack_object *
get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

long
es_bulk_parse(es_bulk *b, const char *body, size_t len, char *why, size_t whylen)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_unpacked_init(&b->up);
    b->items = NULL;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b->sb, msgpack_sbuffer_write);
    char err[128];
    size_t off = 0;
    if (sluice_json_to_msgpack(body, len, &pk, err, sizeof err) < 0) {
        snprintf(why, whylen, "the bulk answer is not JSON (%s)", err);
        return -1;
    }
    if (msgpack_unpack_next(&b->up, b->sb.data, b->sb.size, &off) != MSGPACK_UNPACK_SUCCESS ||
        !(b->items = get(&b->up.data, "items")) || b->items->type != MSGPACK_OBJECT_ARRAY) {
        b->items = NULL;
        snprintf(why, whylen, "the bulk answer has no items array");
        return -1;
    }
    return (long)b->items->via.array.size;
}

static int
str(const msgpack_object *o, const char **s, int *n)
{
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return 0;
    *s = o->via.str.ptr;
    *n = (int)o->via.str.size;
    return 1;
}

long
es_bulk_item(const es_bulk *b, size_t i, char *why, size_t whylen)
{
    const msgpack_object *item = &b->items->via.array.ptr[i];
    /* {"index": {...}} or create, update, delete: the one value. */
    if (item->type != MSGPACK_OBJECT_MAP || item->via.map.size != 1)
        return 0;
    const msgpack_object *res = &item->via.map.ptr[0].val;
    const msgpack_object *status = get(res, "status");
    long st = status && status->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (long)status->via.u64 : 0;
    const msgpack_object *error = get(res, "error");
    const char *type = "error", *reason = "", *cause = NULL;
    int tn = 5, rn = 0, cn = 0;
    if (error) {
        str(get(error, "type"), &type, &tn);
        str(get(error, "reason"), &reason, &rn);
        str(get(get(error, "caused_by"), "reason"), &cause, &cn);
        if (error->type == MSGPACK_OBJECT_STR) /* very old versions: a string */
            str(error, &reason, &rn);
    }
    if (cause)
        snprintf(why, whylen, "HTTP %ld %.*s: %.*s (caused by: %.*s)", st, tn, type, rn, reason, cn,
                 cause);
    else
        snprintf(why, whylen, "HTTP %ld %.*s: %.*s", st, tn, type, rn, reason);
    return st;
}

void
es_bulk_free(es_bulk *b)
{
    msgpack_unpacked_destroy(&b->up);
    msgpack_sbuffer_destroy(&b->sb);
}

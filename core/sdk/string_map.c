/* Options that are maps of strings (labels, extra fields): their check,
 * and their pairs as a NULL-terminated array (include/sluice/option.h). */
#include <stdio.h>
#include <stdlib.h>

#include <msgpack.h>

#include "sluice/option.h"
#include "xalloc.h"

int
sluice_check_string_map(const void *value, char *err, size_t errlen)
{
    const sluice_bytes *map = value;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int bad = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < up.data.via.map.size && !bad; i++)
            if (up.data.via.map.ptr[i].val.type != MSGPACK_OBJECT_STR) {
                snprintf(err, errlen, "every value must be a string");
                bad = 1;
            }
    msgpack_unpacked_destroy(&up);
    return bad ? -1 : 0;
}

char **
sluice_string_map_pairs(const sluice_bytes *map)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    char **v = xcalloc(1, sizeof *v);
    size_t n = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        v = xrealloc(v, (2 * up.data.via.map.size + 1) * sizeof *v);
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
                continue;
            v[2 * n] = sluice_strndup(kv->key.via.str.ptr, kv->key.via.str.size);
            v[2 * n + 1] = sluice_strndup(kv->val.via.str.ptr, kv->val.via.str.size);
            n++;
        }
    }
    v[2 * n] = NULL;
    msgpack_unpacked_destroy(&up);
    return v;
}

void
sluice_string_map_free(char **pairs)
{
    for (char **p = pairs; p && *p; p++)
        free(*p);
    free(pairs);
}

/* Fuzz the JSON parser: whatever it accepts must be well-formed
 * MessagePack, byte for byte what msgpack-c packs for the same value, that
 * renders back to JSON it accepts again. An object read without some
 * members is accepted alike, holds none of them at its top level, and
 * packs canonically too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/format.h"
#include "sluice/json.h"

static const char *const drop[] = {"a", NULL, "path", ""};

static int
is_dropped(const msgpack_object *k)
{
    if (k->type != MSGPACK_OBJECT_STR)
        return 0;
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (drop[i] && strlen(drop[i]) == k->via.str.size &&
            memcmp(drop[i], k->via.str.ptr, k->via.str.size) == 0)
            return 1;
    return 0;
}

static void
check_without(const char *s, size_t n)
{
    msgpack_sbuffer a, b, map;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_sbuffer_init(&map);
    sluice_json_members all, some;
    int ra = sluice_json_object(s, n, &a, &all, NULL, 0);
    int rb = sluice_json_object_without(s, n, drop, 4, &b, &some, NULL, 0);
    if (ra != rb)
        abort();
    if (rb == 0) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &map, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, some.count);
        size_t head = map.size;
        msgpack_sbuffer_write(&map, some.data, some.len);
        if (b.size != map.size || memcmp(b.data, map.data, head) != 0 || some.count > all.count)
            abort();
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, map.data, map.size, &off) != MSGPACK_UNPACK_SUCCESS ||
            off != map.size)
            abort();
        for (uint32_t i = 0; i < up.data.via.map.size; i++)
            if (is_dropped(&up.data.via.map.ptr[i].key))
                abort();
        msgpack_unpacked_destroy(&up);
    }
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    msgpack_sbuffer_destroy(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    char err[128];
    if (sluice_json_to_msgpack(copy, size, &pk, err, sizeof err) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, sb.data, sb.size, &off) != MSGPACK_UNPACK_SUCCESS ||
            off != sb.size)
            abort();
        msgpack_sbuffer again;
        msgpack_sbuffer_init(&again);
        msgpack_packer apk;
        msgpack_packer_init(&apk, &again, msgpack_sbuffer_write);
        msgpack_pack_object(&apk, up.data);
        if (again.size != sb.size || memcmp(again.data, sb.data, sb.size) != 0)
            abort();
        msgpack_sbuffer_destroy(&again);
        sluice_buf out = SLUICE_BUF_INIT;
        sluice_json_value(&out, &up.data);
        msgpack_sbuffer_clear(&sb);
        if (sluice_json_to_msgpack(out.data, out.len, &pk, err, sizeof err) != 0)
            abort();
        sluice_buf_free(&out);
        msgpack_unpacked_destroy(&up);
    }
    check_without(copy, size);
    free(copy);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

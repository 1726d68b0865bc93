/* Fuzz the JSON parser: whatever it accepts must be well-formed
 * MessagePack, byte for byte what msgpack-c packs for the same value, that
 * renders back to JSON it accepts again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/format.h"
#include "sluice/json.h"

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
    free(copy);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

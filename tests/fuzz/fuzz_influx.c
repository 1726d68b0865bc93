/* Fuzz the InfluxDB line protocol parser (exec's format: influx). What it
 * accepts must be a well-formed metric body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/shared/line_protocol.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    sluice_time_t t;
    char err[256];
    if (lp_pack(&pk, copy, size, 1, &t, err, sizeof err) == 0) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, sb.data, sb.size, &off) != MSGPACK_UNPACK_SUCCESS ||
            up.data.type != MSGPACK_OBJECT_MAP || up.data.via.map.size != 4)
            abort();
        msgpack_unpacked_destroy(&up);
    }
    free(copy);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

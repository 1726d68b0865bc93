/* Fuzz the syslog parser (RFC 5424, RFC 3164 and auto-detection) and the
 * packing of structured data it accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_syslog/syslog_parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char *copy = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    memcpy(copy, data, size);
    for (int f = SYSLOG_AUTO; f <= SYSLOG_RAW; f++) {
        syslog_msg m;
        syslog_parse(copy, size, (syslog_format)f, INT64_C(1764144000000000000), &m);
        if (m.sd.n)
            syslog_pack_sd(&pk, m.sd);
        syslog_parse_rfc3339(copy, size);
    }
    free(copy);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

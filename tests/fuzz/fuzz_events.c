/* Fuzz everything that reads encoded events: the serialized chunk check,
 * the MessagePack structure check, and the JSON, logfmt and syslog
 * formatters over whatever passes that check (as in sluice, where bytes from
 * outside are checked once and then trusted). */
#include <stdint.h>
#include <stdlib.h>

#include "chunk.h"
#include "msgpack_check.h"
#include "sluice/format.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chunk_header h;
    chunk_decode(data, size, &h);
    uint32_t salvaged;
    chunk_salvage(data, size, &salvaged);
    /* Differential: what the checker accepts, msgpack-c parses to the same
     * length. */
    size_t k = mp_object_size(data, size);
    if (k) {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, (const char *)data, size, &off) != MSGPACK_UNPACK_SUCCESS ||
            off != k)
            abort();
        msgpack_unpacked_destroy(&up);
    }
    uint32_t count;
    if (mp_check_events((const char *)data, size, &count) < 0)
        return 0;
    for (int f = SLUICE_FORMAT_JSON; f <= SLUICE_FORMAT_MSGPACK; f++) {
        sluice_format_opts o = {(sluice_format)f, "time", "fuzz"};
        sluice_buf out = SLUICE_BUF_INIT;
        sluice_format_events(&out, &o, (const char *)data, size, NULL);
        sluice_buf_free(&out);
    }
    return 0;
}

/* Fuzz the strptime-style time parser: the input is "format\ntext". A
 * success must land inside the representable range, and parsing the same
 * bytes twice must give the same answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/timefmt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t flen = (size_t)(nl - data);
    char *fmt = malloc(flen + 1);
    memcpy(fmt, data, flen);
    fmt[flen] = '\0';
    size_t tlen = size - flen - 1;
    char *text = malloc(tlen ? tlen : 1);
    memcpy(text, nl + 1, tlen);
    const sluice_time_t now = INT64_C(1795000000) * SLUICE_NSEC_PER_SEC;
    long zones[] = {0, 19800, -36000, SLUICE_TZ_LOCAL};
    for (size_t i = 0; i < sizeof zones / sizeof *zones; i++) {
        sluice_time_t a = 0, b = 0;
        char err[128];
        int ra = sluice_time_parse(fmt, text, tlen, zones[i], now, &a, err, sizeof err);
        int rb = sluice_time_parse(fmt, text, tlen, zones[i], now, &b, NULL, 0);
        if (ra != rb || (ra == 0 && a != b))
            abort();
        if (ra == 0 && (a < INT64_C(-9223372036) * SLUICE_NSEC_PER_SEC))
            abort();
    }
    free(fmt);
    free(text);
    return 0;
}

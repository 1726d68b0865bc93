/* libFuzzer target: PromQL expressions, parsed and freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promql.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = '\0';
    char err[256];
    size_t pos;
    pq_node *n = pq_parse(src, err, sizeof err, &pos);
    if (n)
        pq_lookback_ms(n);
    else if (pos > size)
        abort();
    pq_free(n);
    free(src);
    return 0;
}

/* Fuzz the reading of Elasticsearch bulk answers (bytes from the network):
 * whatever the body, parsing and reading every item must not crash, and a
 * body said to be all ok must name "errors":false. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/out_elasticsearch/es_bulk.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    if (es_bulk_all_ok(body, size) && !memmem(body, size, "false", 5))
        abort();
    es_bulk b;
    char why[512];
    long n = es_bulk_parse(&b, body, size, why, sizeof why);
    for (long i = 0; i < n; i++)
        es_bulk_item(&b, (size_t)i, why, sizeof why);
    es_bulk_free(&b);
    return 0;
}

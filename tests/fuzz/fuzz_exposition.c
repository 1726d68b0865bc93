/* libFuzzer target: Prometheus's exposition formats (exposition.c), read
 * as the text format and as OpenMetrics, every sample's strings touched. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../plugins/in_prometheus_scrape/exposition.h"

static void
touch(void *arg, const exp_sample *s)
{
    size_t *n = arg;
    *n += strlen(s->name) + strlen(s->family);
    for (size_t i = 0; i < s->n_labels; i++)
        *n += strlen(s->labels[i].name) + strlen(s->labels[i].value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    size_t n = 0;
    exp_parse((const char *)data, size, 0, touch, &n, err, sizeof err);
    exp_parse((const char *)data, size, 1, touch, &n, err, sizeof err);
    return 0;
}

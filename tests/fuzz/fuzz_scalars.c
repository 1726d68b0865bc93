/* Fuzz the option scalar parsers: durations, sizes, integers, numbers,
 * booleans, and the typo suggester. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "option.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t i;
    double d;
    int b;
    option_parse_duration(s, &i);
    option_parse_size(s, &i);
    option_parse_int(s, &i);
    option_parse_double(s, &d);
    option_parse_bool(s, &b);
    const char *names[] = {"flush_interval", "grace", "chunk_size", "log_level"};
    option_suggest(s, names, 4);
    free(s);
    return 0;
}

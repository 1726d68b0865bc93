/* Fuzz the configuration reader: YAML -> node tree (aliases, nesting,
 * ${VAR} references) -> the service schema and a map-typed option. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "option.h"

typedef struct any_map {
    sluice_bytes map;
    sluice_strlist list;
} any_map;

static const sluice_option map_schema[] = {
    {.name = "record", .type = SLUICE_OPT_MAP, .offset = offsetof(any_map, map)},
    {.name = "path", .type = SLUICE_OPT_STR_LIST, .offset = offsetof(any_map, list)},
    SLUICE_OPTIONS_END,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfg_errors errs = {0};
    cfg_node *root = cfg_parse_string("fuzz", (const char *)data, size, &errs);
    if (root) {
        service_config svc = {0};
        option_fill(service_options, &svc, cfg_map_get(root, "service"), "service", NULL, &errs);
        option_free(service_options, &svc);
        any_map m = {0};
        option_fill(map_schema, &m, root, "x", option_keys_checked, &errs);
        option_free(map_schema, &m);
        cfg_tree_free(root);
    }
    for (size_t i = 0; i < errs.n; i++)
        free(cfg_error_str(&errs.v[i]));
    cfg_errors_free(&errs);
    return 0;
}

/* libFuzzer target: Prometheus rule files (YAML, PromQL and templates),
 * loaded, one group evaluated over an empty store, and freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rules.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    yt_node *root = yt_load_string("fuzz", (const char *)data, size, err, sizeof err);
    pq_ruleset rs = {0};
    sluice_buf errs = SLUICE_BUF_INIT;
    pq_rules_load_tree(&rs, root, "fuzz", &errs);
    pq_store st = {0};
    for (size_t g = 0; g < rs.n && g < 4; g++)
        pq_group_eval(&rs.groups[g], &st, 60000, NULL, err, sizeof err);
    for (size_t g = 0; g < rs.n; g++)
        for (size_t r = 0; r < rs.groups[g].n_rules; r++)
            for (size_t a = 0; a < rs.groups[g].rules[r].annotations.n; a++)
                free(pq_template_render(rs.groups[g].rules[r].annotations.kv[2 * a + 1], NULL, 1,
                                        NULL));
    pq_store_free(&st);
    pq_rules_free(&rs);
    sluice_buf_free(&errs);
    yt_free(root);
    return 0;
}

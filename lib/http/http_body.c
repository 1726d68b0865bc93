/* Rendering chunks into batched request bodies (see http_body.h). */
#include <stdlib.h>
#include <string.h>

#include "http_body.h"

/* Regroup the pieces by shard, keeping their order within each (a
 * counting sort), so that each shard's pieces are one run of the text. */
static void
group_by_shard(body *bd, const unsigned *shard_of, unsigned shards)
{
    bd->shard_start = calloc(shards + 1, sizeof *bd->shard_start);
    size_t *next = calloc(shards, sizeof *next);
    size_t *offs = malloc((bd->n + 1) * sizeof *offs);
    size_t *index = malloc((bd->n + 1) * sizeof *index);
    size_t *order = malloc((bd->n + 1) * sizeof *order);
    if (!bd->shard_start || !next || !offs || !index || !order)
        abort();
    for (size_t j = 0; j < bd->n; j++)
        bd->shard_start[shard_of[j] + 1]++;
    for (unsigned s = 0; s < shards; s++) {
        bd->shard_start[s + 1] += bd->shard_start[s];
        next[s] = bd->shard_start[s];
    }
    for (size_t j = 0; j < bd->n; j++)
        order[next[shard_of[j]]++] = j;
    sluice_buf text = SLUICE_BUF_INIT;
    sluice_buf_reserve(&text, bd->text.len);
    for (size_t k = 0; k < bd->n; k++) {
        size_t j = order[k];
        offs[k] = text.len;
        index[k] = bd->index[j];
        sluice_buf_append(&text, bd->text.data + bd->offs[j], bd->offs[j + 1] - bd->offs[j]);
    }
    offs[bd->n] = text.len;
    sluice_buf_free(&bd->text);
    free(bd->offs);
    free(bd->index);
    bd->text = text;
    bd->offs = offs;
    bd->index = index;
    free(next);
    free(order);
}

void
body_build(body *bd, const sluice_http_batch_config *cfg, sluice_event_kind kind, const char *data,
           size_t len, sluice_flush *fl)
{
    memset(bd, 0, sizeof *bd);
    size_t cap = 1024;
    unsigned shards = cfg->sequential && cfg->shard && cfg->shards > 1 ? cfg->shards : 1;
    unsigned *shard_of = shards > 1 ? malloc(cap * sizeof *shard_of) : NULL;
    bd->offs = malloc(cap * sizeof *bd->offs);
    bd->index = malloc(cap * sizeof *bd->index);
    if (!bd->offs || !bd->index)
        abort();
    sluice_buf_reserve(&bd->text, len + len / 2);
    sluice_event_iter it;
    sluice_event ev;
    sluice_event_iter_init(&it, data, len);
    for (size_t i = 0; sluice_event_next(&it, &ev) == 1; i++) {
        if (bd->n + 2 > cap) {
            cap *= 2;
            bd->offs = realloc(bd->offs, cap * sizeof *bd->offs);
            bd->index = realloc(bd->index, cap * sizeof *bd->index);
            if (shards > 1)
                shard_of = realloc(shard_of, cap * sizeof *shard_of);
            if (!bd->offs || !bd->index || (shards > 1 && !shard_of))
                abort();
        }
        size_t at = bd->text.len;
        char why[256] = "cannot be rendered";
        if (cfg->ops->render(cfg->ctx, kind, &ev, &bd->text, why, sizeof why) < 0) {
            bd->text.len = at;
            if (fl)
                sluice_flush_event_failed(fl, i, why);
            continue;
        }
        bd->offs[bd->n] = at;
        if (shards > 1)
            shard_of[bd->n] = cfg->shard(cfg->ctx, &ev) % shards;
        bd->index[bd->n++] = i;
    }
    sluice_event_iter_destroy(&it);
    bd->offs[bd->n] = bd->text.len;
    if (shards > 1)
        group_by_shard(bd, shard_of, shards);
    free(shard_of);
}

sluice_bytes
body_range(const body *bd, const sluice_http_batch_config *cfg, size_t first, size_t last,
           sluice_buf *scratch)
{
    const char *start = bd->text.data + bd->offs[first];
    size_t len = bd->offs[last] - bd->offs[first];
    sluice_buf arr = SLUICE_BUF_INIT;
    if (cfg->json_array) {
        /* The lines, newlines turned into commas, in brackets. */
        sluice_buf_reserve(&arr, len + 2);
        sluice_buf_putc(&arr, '[');
        sluice_buf_append(&arr, start, len);
        for (size_t i = first + 1; i <= last; i++)
            arr.data[1 + bd->offs[i] - bd->offs[first] - 1] = i == last ? ']' : ',';
        if (last == first)
            sluice_buf_putc(&arr, ']');
        start = arr.data;
        len = arr.len;
    }
    if (cfg->encode) {
        cfg->encode(cfg->ctx, start, len, scratch);
        sluice_buf_free(&arr);
        return (sluice_bytes){scratch->data, scratch->len};
    }
    if (cfg->http && cfg->http->compress == SLUICE_HTTP_COMPRESS_GZIP) {
        sluice_gzip(scratch, start, len);
        sluice_buf_free(&arr);
        return (sluice_bytes){scratch->data, scratch->len};
    }
    if (arr.data) {
        *scratch = arr;
        return (sluice_bytes){scratch->data, scratch->len};
    }
    return (sluice_bytes){start, len};
}

void
body_free(body *bd)
{
    sluice_buf_free(&bd->text);
    free(bd->offs);
    free(bd->index);
    free(bd->shard_start);
}

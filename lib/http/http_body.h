/* Request bodies of batched HTTP outputs: a chunk rendered once, piece by
 * piece, so that any range of pieces can be sent (or sent again) as a body
 * of its own. Part of the sluice-http library. */
#ifndef SLUICE_HTTP_BODY_H
#define SLUICE_HTTP_BODY_H

#include "sluice/http_batch.h"

typedef struct body {
    sluice_buf text;
    size_t *offs;  /* piece j is text[offs[j], offs[j+1]) */
    size_t *index; /* piece j is event index[j] of the chunk */
    size_t n;
    /* With cfg->shards: the pieces are grouped by shard, in their order
     * within each; shard s is pieces [shard_start[s], shard_start[s+1]). */
    size_t *shard_start;
} body;

/* Render the events in [data, data+len) with cfg->ops->render. An event it
 * refuses gets no piece and, when `fl` is not NULL, is marked failed. With
 * cfg->shards, the pieces are then grouped by cfg->shard. */
void body_build(body *bd, const sluice_http_batch_config *cfg, sluice_event_kind kind, const char *data,
                size_t len, sluice_flush *fl);
/* The payload of pieces [first, last), as a JSON array and gzipped if cfg
 * says so: the rendered bytes themselves when they can go as they are,
 * else built in `scratch`. */
sluice_bytes body_range(const body *bd, const sluice_http_batch_config *cfg, size_t first, size_t last,
                        sluice_buf *scratch);
void body_free(body *bd);

#endif

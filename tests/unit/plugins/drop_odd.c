/* Test filter "drop_odd": drops log events whose `seq` is odd and emits one
 * metric event per batch counting what it dropped, so tests see a filter
 * that removes events and one that creates events of another kind. */
#include <sluice/sluice.h>

static int
drop_odd_filter(void *ctx, const sluice_events *in, sluice_emitter *out)
{
    sluice_event_iter it;
    sluice_event ev;
    uint64_t dropped = 0;
    sluice_event_iter_init(&it, in->data, in->len);
    while (sluice_event_next(&it, &ev) == 1) {
        const msgpack_object *seq = sluice_record_get(&ev.body, "seq");
        if (seq && seq->type == MSGPACK_OBJECT_POSITIVE_INTEGER && (seq->via.u64 & 1)) {
            dropped++;
            continue;
        }
        sluice_emit_raw(out, SLUICE_EVENT_LOG, ev.raw, ev.raw_len);
    }
    sluice_event_iter_destroy(&it);
    msgpack_packer *pk = sluice_emit_begin(out, SLUICE_EVENT_METRIC, sluice_time_now());
    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    sluice_pack_cstr(pk, "drop_odd_dropped");
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, "counter");
    sluice_pack_cstr(pk, "tags");
    msgpack_pack_map(pk, 0);
    sluice_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, 1);
    sluice_pack_cstr(pk, "value");
    msgpack_pack_uint64(pk, dropped);
    sluice_emit_end(out);
    return SLUICE_FILTER_MODIFIED;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_FILTER),
    .name = "drop_odd",
    .description = "Test filter dropping odd seq values.",
    .accepts = SLUICE_ACCEPTS_LOGS,
    .filter = drop_odd_filter,
};

/* Test input "acker": emits `count` events (seq 0..count-1) at start, with a
 * token after every `every` events (the token is the number of events it
 * covers), and records the acknowledgements it gets, read by the tests
 * through acker_acks() and acker_ordered(). */
#include <sluice/sluice.h>

typedef struct acker_config {
    int64_t count;
    int64_t every;
} acker_config;

static const sluice_option acker_options[] = {
    {.name = "count", .type = SLUICE_OPT_INT, .def = "1000", .offset = offsetof(acker_config, count)},
    {.name = "every", .type = SLUICE_OPT_INT, .def = "100", .offset = offsetof(acker_config, every)},
    SLUICE_OPTIONS_END,
};

static sluice_instance *instance;
static const acker_config *config;
static uint64_t acks, last_token;
static int ordered = 1;

SLUICE_PLUGIN_EXPORT uint64_t
acker_acks(void)
{
    return acks;
}

SLUICE_PLUGIN_EXPORT uint64_t
acker_last_token(void)
{
    return last_token;
}

SLUICE_PLUGIN_EXPORT int
acker_ordered(void)
{
    return ordered;
}

static int
acker_init(sluice_instance *ins, const void *cfg, void **ctx)
{
    instance = ins;
    config = cfg;
    acks = last_token = 0;
    ordered = 1;
    *ctx = NULL;
    return SLUICE_OK;
}

static int
acker_start(void *ctx)
{
    sluice_emitter *em = sluice_input_emitter(instance);
    for (int64_t i = 0; i < config->count; i++) {
        msgpack_packer *pk = sluice_emit_begin(em, SLUICE_EVENT_LOG, sluice_time_now());
        msgpack_pack_map(pk, 1);
        sluice_pack_cstr(pk, "seq");
        msgpack_pack_int64(pk, i);
        sluice_emit_end(em);
        if ((i + 1) % config->every == 0 || i + 1 == config->count)
            sluice_emit_token(em, (uint64_t)i + 1);
    }
    sluice_input_done(instance);
    return SLUICE_OK;
}

static void
acker_ack(void *ctx, uint64_t token)
{
    if (token <= last_token)
        ordered = 0;
    last_token = token;
    acks++;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .name = "acker",
    .description = "Test input recording acknowledgements.",
    .options = acker_options,
    .config_size = sizeof(acker_config),
    .init = acker_init,
    .start = acker_start,
    .ack = acker_ack,
};

/* in_dummy: emits a fixed record, with a `seq` field counting from 0, at a
 * given rate or as fast as the pipeline takes it, optionally `count` times.
 * For examples, tests and benchmarks. */
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

typedef struct dummy_config {
    sluice_bytes record;
    int64_t rate;
    int64_t count;
} dummy_config;

static const sluice_option dummy_options[] = {
    {.name = "record", .type = SLUICE_OPT_MAP, .def = "{message: dummy}",
     .offset = offsetof(dummy_config, record),
     .help = "The record to emit; a `seq` field is added (0, 1, 2, ...)."},
    {.name = "rate", .type = SLUICE_OPT_INT, .def = "1", .flags = SLUICE_OPT_RANGE, .min = 0,
     .max = 100000000, .offset = offsetof(dummy_config, rate),
     .help = "Events per second; 0 emits as fast as the pipeline accepts them."},
    {.name = "count", .type = SLUICE_OPT_INT, .def = "0", .flags = SLUICE_OPT_RANGE, .min = 0,
     .max = INT64_MAX, .offset = offsetof(dummy_config, count),
     .help = "Stop after this many events; 0 never stops."},
    SLUICE_OPTIONS_END,
};

/* Events per loop iteration when unthrottled: large enough to amortise the
 * loop, small enough to keep the loop responsive. */
#define DUMMY_BATCH 4096

typedef struct dummy_ctx {
    sluice_instance *ins;
    const dummy_config *cfg;
    sluice_emitter *em;
    char *entries;     /* the record's key/value pairs, packed, "seq" removed */
    size_t entries_len;
    uint32_t n_entries;
    uint64_t seq;
    uv_idle_t idle;    /* rate 0 */
    sluice_collector *tick; /* rate > 0 */
    uint64_t epoch_ms; /* rate > 0: when seq was epoch_seq */
    uint64_t epoch_seq;
    int running;
} dummy_ctx;

static void on_tick(sluice_instance *ins, void *arg);

static int
dummy_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const dummy_config *cfg = config;
    dummy_ctx *c = sluice_calloc(1, sizeof *c);
    c->ins = ins;
    c->cfg = cfg;

    /* Re-pack the record's pairs without any "seq", once. */
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, cfg->record.data, cfg->record.len, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        sluice_option_error(ins, "record", "expected a map");
        msgpack_unpacked_destroy(&up);
        free(c);
        return SLUICE_ERROR;
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (uint32_t i = 0; i < up.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 3 &&
            memcmp(kv->key.via.str.ptr, "seq", 3) == 0)
            continue;
        msgpack_pack_object(&pk, kv->key);
        msgpack_pack_object(&pk, kv->val);
        c->n_entries++;
    }
    msgpack_unpacked_destroy(&up);
    c->entries = sb.data;
    c->entries_len = sb.size;
    *ctxp = c;
    if (cfg->rate > 0) {
        sluice_time_t period = SLUICE_NSEC_PER_SEC / cfg->rate;
        c->tick = sluice_collector_add(ins, period > SLUICE_NSEC_PER_MSEC ? period
                                                                          : SLUICE_NSEC_PER_MSEC,
                                       on_tick, c);
    }
    return SLUICE_OK;
}

static int
finished(const dummy_ctx *c)
{
    return c->cfg->count && c->seq >= (uint64_t)c->cfg->count;
}

static void dummy_halt(dummy_ctx *c);

/* Emit up to `n` events, all stamped with the same time. */
static void
emit(dummy_ctx *c, uint64_t n)
{
    if (c->cfg->count && n > (uint64_t)c->cfg->count - c->seq)
        n = (uint64_t)c->cfg->count - c->seq;
    sluice_time_t now = sluice_time_now();
    /* Stop as soon as the pipeline pauses us, even mid-batch. */
    for (uint64_t i = 0; i < n && c->running; i++) {
        msgpack_packer *pk = sluice_emit_begin(c->em, SLUICE_EVENT_LOG, now);
        msgpack_pack_map(pk, c->n_entries + 1);
        pk->callback(pk->data, c->entries, c->entries_len);
        msgpack_pack_str_with_body(pk, "seq", 3);
        msgpack_pack_uint64(pk, c->seq++);
        sluice_emit_end(c->em);
    }
    if (finished(c)) {
        sluice_info(c->ins, "emitted %llu events; done", (unsigned long long)c->seq);
        dummy_halt(c);
        sluice_input_done(c->ins);
    }
}

static void
on_idle(uv_idle_t *h)
{
    emit(h->data, DUMMY_BATCH);
}

/* rate > 0: what is due since the run began (the core pauses this
 * collector with the input). */
static void
on_tick(sluice_instance *ins, void *arg)
{
    dummy_ctx *c = arg;
    if (!c->running)
        return;
    uint64_t elapsed = uv_now(sluice_instance_loop(ins)) - c->epoch_ms;
    uint64_t due = c->epoch_seq + elapsed * (uint64_t)c->cfg->rate / 1000;
    if (due > c->seq)
        emit(c, due - c->seq);
}

static void
dummy_run(dummy_ctx *c)
{
    if (c->running || finished(c))
        return;
    c->running = 1;
    if (c->cfg->rate == 0) {
        uv_idle_start(&c->idle, on_idle);
    } else {
        c->epoch_ms = uv_now(sluice_instance_loop(c->ins));
        c->epoch_seq = c->seq;
    }
}

static void
dummy_halt(dummy_ctx *c)
{
    c->running = 0;
    uv_idle_stop(&c->idle);
    if (finished(c) && c->tick)
        sluice_collector_stop(c->tick);
}

static int
dummy_start(void *ctx)
{
    dummy_ctx *c = ctx;
    uv_loop_t *loop = sluice_instance_loop(c->ins);
    c->em = sluice_input_emitter(c->ins);
    uv_idle_init(loop, &c->idle);
    c->idle.data = c;
    dummy_run(c);
    return SLUICE_OK;
}

static void
dummy_pause(void *ctx)
{
    dummy_halt(ctx);
}

static void
dummy_resume(void *ctx)
{
    dummy_run(ctx);
}

static void
dummy_stop(void *ctx)
{
    dummy_ctx *c = ctx;
    dummy_halt(c);
    uv_close((uv_handle_t *)&c->idle, NULL);
}

static void
dummy_exit(void *ctx)
{
    dummy_ctx *c = ctx;
    free(c->entries);
    free(c);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_LOGS,
    .name = "dummy",
    .description = "Emit a fixed record with a sequence number, at a rate or as fast as possible.",
    .options = dummy_options,
    .config_size = sizeof(dummy_config),
    .init = dummy_init,
    .start = dummy_start,
    .pause = dummy_pause,
    .resume = dummy_resume,
    .stop = dummy_stop,
    .exit = dummy_exit,
};

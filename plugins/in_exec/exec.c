/* in_exec: runs a command every `interval` (or once) and turns its output
 * into events: one per line, one per JSON object line, or InfluxDB line
 * protocol into metric events. A run that outlives `timeout` has its whole
 * process group killed; a run never starts while the previous one is still
 * going (the skipped run is counted). A non-zero exit is logged with the
 * start of stderr, and exit code and stderr can be added as fields. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_protocol.h"

extern char **environ;

enum { FMT_LINES, FMT_JSON, FMT_INFLUX };
static const char *const format_names[] = {"lines", "json", "influx", NULL};

typedef struct exec_config {
    sluice_strlist command;
    int64_t interval, timeout;
    int format;
    sluice_bytes env;
    char *cwd;
    int oneshot;
    char *key, *exit_code_key, *stderr_key;
    int64_t max_output;
} exec_config;

static int
env_pair_ok(const msgpack_object *key, const msgpack_object *val)
{
    return key->type == MSGPACK_OBJECT_STR &&
           (val->type == MSGPACK_OBJECT_STR || val->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
}

/* env: names are strings, values strings or whole numbers. */
static int
check_env(const void *value, char *err, size_t errlen)
{
    const sluice_bytes *map = value;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int bad = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, &off) == MSGPACK_UNPACK_SUCCESS)
        for (uint32_t i = 0; i < up.data.via.map.size && !bad; i++)
            bad = !env_pair_ok(&up.data.via.map.ptr[i].key, &up.data.via.map.ptr[i].val);
    msgpack_unpacked_destroy(&up);
    if (bad)
        snprintf(err, errlen, "names and values must be strings");
    return bad ? -1 : 0;
}

static const sluice_option exec_options[] = {
    {.name = "command", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(exec_config, command),
     .help = "A string run by /bin/sh -c, or a list: the program and its arguments."},
    {.name = "interval", .type = SLUICE_OPT_DURATION, .def = "10s", .flags = SLUICE_OPT_RANGE,
     .min = 10 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(exec_config, interval), .help = "Time between the starts of runs."},
    {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "30s", .flags = SLUICE_OPT_RANGE,
     .min = 10 * SLUICE_NSEC_PER_MSEC, .max = 86400 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(exec_config, timeout),
     .help = "A run still going after this is killed with its process group (counted)."},
    {.name = "format", .type = SLUICE_OPT_ENUM, .def = "lines", .values = format_names,
     .offset = offsetof(exec_config, format),
     .help = "lines: an event per line; json: an event per JSON object line; influx: InfluxDB "
             "line protocol, a metric event per line."},
    {.name = "env", .type = SLUICE_OPT_MAP, .def = "{}", .offset = offsetof(exec_config, env),
     .check = check_env, .help = "Variables added to the command's environment."},
    {.name = "cwd", .type = SLUICE_OPT_STR, .offset = offsetof(exec_config, cwd),
     .help = "Working directory of the command."},
    {.name = "oneshot", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(exec_config, oneshot), .help = "Run once at start-up only."},
    {.name = "key", .type = SLUICE_OPT_STR, .def = "message", .offset = offsetof(exec_config, key),
     .help = "lines: the field holding the line."},
    {.name = "exit_code_key", .type = SLUICE_OPT_STR,
     .offset = offsetof(exec_config, exit_code_key),
     .help = "If set, a field with the run's exit code (-1 if killed) in every log event."},
    {.name = "stderr_key", .type = SLUICE_OPT_STR, .offset = offsetof(exec_config, stderr_key),
     .help = "If set, a field with the run's stderr (at most 4 KiB) in every log event."},
    {.name = "max_output", .type = SLUICE_OPT_SIZE, .def = "16MiB", .flags = SLUICE_OPT_RANGE,
     .min = 1024, .max = 1 << 30, .offset = offsetof(exec_config, max_output),
     .help = "Bytes of stdout kept from one run; the rest is dropped and counted."},
    SLUICE_OPTIONS_END,
};

#define STDERR_KEEP 4096

typedef struct exec_ctx {
    sluice_instance *ins;
    const exec_config *cfg;
    sluice_emitter *em;
    uv_loop_t *loop;
    char **argv, **envp;
    uv_timer_t deadline;
    /* The current run. */
    int running, exited, pipes_open, timed_out;
    uv_process_t proc;
    uv_pipe_t out, err;
    sluice_buf stdout_buf, stderr_buf;
    msgpack_sbuffer scratch; /* format: json */
    int64_t exit_status;
    int term_signal;
    int stopping;
    uint64_t runs, skipped, timeouts, failures, truncated, parse_errors;
} exec_ctx;

/* ==== Events ==== */

static void
pack_extras(exec_ctx *x, msgpack_packer *pk)
{
    if (x->cfg->exit_code_key) {
        sluice_pack_cstr(pk, x->cfg->exit_code_key);
        msgpack_pack_int64(pk, x->exit_status);
    }
    if (x->cfg->stderr_key) {
        sluice_pack_cstr(pk, x->cfg->stderr_key);
        msgpack_pack_str_with_body(pk, x->stderr_buf.data, x->stderr_buf.len);
    }
}

static unsigned
n_extras(const exec_ctx *x)
{
    return (x->cfg->exit_code_key != NULL) + (x->cfg->stderr_key != NULL);
}

static void
emit_line(exec_ctx *x, const char *line, size_t len, int parse_error, sluice_time_t now)
{
    msgpack_packer *pk = sluice_emit_begin(x->em, SLUICE_EVENT_LOG, now);
    msgpack_pack_map(pk, 1 + n_extras(x) + (parse_error != 0));
    sluice_pack_cstr(pk, x->cfg->key);
    msgpack_pack_str_with_body(pk, line, len);
    if (parse_error) {
        sluice_pack_cstr(pk, "parse_error");
        msgpack_pack_true(pk);
    }
    pack_extras(x, pk);
    sluice_emit_end(x->em);
}

/* A JSON object line: its members, plus the extras (which replace members
 * of their names). */
static void
emit_json(exec_ctx *x, const char *line, size_t len, sluice_time_t now)
{
    char err[128];
    sluice_json_members obj;
    const char *const ours[] = {x->cfg->exit_code_key, x->cfg->stderr_key};
    unsigned extras = n_extras(x);
    if (sluice_json_object_without(line, len, ours, extras ? 2 : 0, &x->scratch, &obj, err,
                                   sizeof err) < 0) {
        if (x->parse_errors++ % 1000 == 0)
            sluice_warn(x->ins, "output line is not a JSON object (%s); kept with parse_error",
                        err);
        emit_line(x, line, len, 1, now);
        return;
    }
    msgpack_packer *pk = sluice_emit_begin(x->em, SLUICE_EVENT_LOG, now);
    msgpack_pack_map(pk, obj.count + extras);
    pk->callback(pk->data, obj.data, obj.len);
    pack_extras(x, pk);
    sluice_emit_end(x->em);
}

static void
emit_output(exec_ctx *x)
{
    sluice_time_t now = sluice_time_now();
    const char *p = x->stdout_buf.data, *end = p + x->stdout_buf.len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t len = (size_t)(e - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (len) {
            if (x->cfg->format == FMT_LINES) {
                emit_line(x, p, len, 0, now);
            } else if (x->cfg->format == FMT_JSON) {
                emit_json(x, p, len, now);
            } else if (p[0] != '#') {
                char err[256];
                if (lp_emit(x->em, p, len, now, err, sizeof err) < 0) {
                    if (x->parse_errors++ % 1000 == 0)
                        sluice_warn(x->ins, "line protocol: %s; line kept with parse_error",
                                    err);
                    emit_line(x, p, len, 1, now);
                }
            }
        }
        p = e + 1;
    }
}

/* ==== Runs ==== */

static void start_run(exec_ctx *x);

static void
finish_run(exec_ctx *x)
{
    if (!x->running || !x->exited || x->pipes_open)
        return;
    uv_timer_stop(&x->deadline);
    if (x->exit_status != 0) {
        x->failures++;
        sluice_buf_putc(&x->stderr_buf, '\0');
        x->stderr_buf.len--;
        if (x->timed_out)
            sluice_warn(x->ins, "command killed after the %lld ms timeout",
                        (long long)(x->cfg->timeout / SLUICE_NSEC_PER_MSEC));
        else
            sluice_warn(x->ins, "command exited with %s %lld; stderr: %s",
                        x->term_signal ? "signal" : "status",
                        (long long)(x->term_signal ? x->term_signal : x->exit_status),
                        x->stderr_buf.len ? x->stderr_buf.data : "(empty)");
    }
    if (!x->stopping)
        emit_output(x);
    x->running = 0;
    sluice_instance_hold(x->ins, -1);
    sluice_buf_reset(&x->stdout_buf);
    sluice_buf_reset(&x->stderr_buf);
    if (x->cfg->oneshot)
        sluice_input_done(x->ins);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int signal)
{
    exec_ctx *x = p->data;
    x->exited = 1;
    x->exit_status = signal ? -1 : status;
    x->term_signal = signal;
    uv_close((uv_handle_t *)p, NULL);
    finish_run(x);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char scratch[65536];
    buf->base = scratch;
    buf->len = sizeof scratch;
}

static void
pipe_closed(uv_handle_t *h)
{
    exec_ctx *x = h->data;
    x->pipes_open--;
    finish_run(x);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    exec_ctx *x = s->data;
    if (n < 0) {
        uv_close((uv_handle_t *)s, pipe_closed);
        return;
    }
    int is_out = s == (uv_stream_t *)&x->out;
    sluice_buf *b = is_out ? &x->stdout_buf : &x->stderr_buf;
    size_t limit = is_out ? (size_t)x->cfg->max_output : STDERR_KEEP;
    size_t room = b->len < limit ? limit - b->len : 0;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    sluice_buf_append(b, buf->base, keep);
    if (is_out && keep < (size_t)n && x->truncated++ % 100 == 0)
        sluice_warn(x->ins, "output beyond max_output dropped");
}

static void
on_deadline(uv_timer_t *t)
{
    exec_ctx *x = t->data;
    if (!x->running || x->exited)
        return;
    x->timed_out = 1;
    x->timeouts++;
    /* The child leads its own process group: kill the whole group. */
    kill(-x->proc.pid, SIGKILL);
}

static void
start_run(exec_ctx *x)
{
    if (x->running) {
        if (x->skipped++ % 100 == 0)
            sluice_warn(x->ins, "previous run still going; run skipped (%llu so far)",
                        (unsigned long long)x->skipped);
        return;
    }
    uv_pipe_init(x->loop, &x->out, 0);
    uv_pipe_init(x->loop, &x->err, 0);
    x->out.data = x->err.data = x;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->err},
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_cb,
        .file = x->argv[0],
        .args = x->argv,
        .env = x->envp,
        .cwd = x->cfg->cwd,
        .flags = UV_PROCESS_DETACHED, /* setsid: its own process group */
        .stdio_count = 3,
        .stdio = stdio,
    };
    x->proc.data = x;
    x->exited = x->timed_out = 0;
    x->exit_status = 0;
    x->term_signal = 0;
    int r = uv_spawn(x->loop, &x->proc, &o);
    x->runs++;
    if (r != 0) {
        x->failures++;
        sluice_error(x->ins, "cannot run %s: %s", x->argv[0], uv_strerror(r));
        uv_close((uv_handle_t *)&x->proc, NULL);
        uv_close((uv_handle_t *)&x->out, NULL);
        uv_close((uv_handle_t *)&x->err, NULL);
        if (x->cfg->oneshot)
            sluice_input_done(x->ins);
        return;
    }
    x->running = 1;
    sluice_instance_hold(x->ins, 1);
    x->pipes_open = 2;
    uv_read_start((uv_stream_t *)&x->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&x->err, on_alloc, on_read);
    uv_timer_start(&x->deadline, on_deadline, (uint64_t)(x->cfg->timeout / SLUICE_NSEC_PER_MSEC),
                   0);
}

/* The collector: every interval, or once with oneshot. */
static void
collect(sluice_instance *ins, void *arg)
{
    (void)ins;
    start_run(arg);
}

/* ==== Life cycle ==== */

static int
exec_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const exec_config *cfg = config;
    const sluice_added_field fields[] = {{NULL, "parse_error"},
                                         {"key", cfg->key},
                                         {"exit_code_key", cfg->exit_code_key},
                                         {"stderr_key", cfg->stderr_key}};
    if (sluice_check_added_fields(ins, fields, sizeof fields / sizeof *fields) != SLUICE_OK)
        return SLUICE_ERROR;
    exec_ctx *x = sluice_calloc(1, sizeof *x);
    x->ins = ins;
    x->cfg = cfg;
    if (cfg->command.n == 1) {
        x->argv = sluice_calloc(4, sizeof *x->argv);
        x->argv[0] = sluice_strdup("/bin/sh");
        x->argv[1] = sluice_strdup("-c");
        x->argv[2] = sluice_strdup(cfg->command.v[0]);
    } else {
        x->argv = sluice_calloc(cfg->command.n + 1, sizeof *x->argv);
        for (size_t i = 0; i < cfg->command.n; i++)
            x->argv[i] = sluice_strdup(cfg->command.v[i]);
    }
    /* environ, then the configured variables (which win). */
    size_t n = 0;
    while (environ[n])
        n++;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0, extra = 0;
    if (msgpack_unpack_next(&up, cfg->env.data, cfg->env.len, &off) == MSGPACK_UNPACK_SUCCESS)
        extra = up.data.via.map.size;
    x->envp = sluice_calloc(n + extra + 1, sizeof *x->envp);
    size_t k = 0;
    for (size_t i = 0; i < extra; i++) {
        const msgpack_object *key = &up.data.via.map.ptr[i].key,
                             *val = &up.data.via.map.ptr[i].val;
        if (!env_pair_ok(key, val))
            continue; /* only in defaults: check_env refused it in the config */
        char num[32];
        const char *v = num;
        int vlen;
        if (val->type == MSGPACK_OBJECT_STR) {
            v = val->via.str.ptr;
            vlen = (int)val->via.str.size;
        } else {
            vlen = snprintf(num, sizeof num, "%llu", (unsigned long long)val->via.u64);
        }
        x->envp[k++] = sluice_asprintf("%.*s=%.*s", (int)key->via.str.size, key->via.str.ptr,
                                       vlen, v);
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        int overridden = 0;
        for (size_t j = 0; eq && j < k; j++)
            overridden |= strncmp(x->envp[j], environ[i], (size_t)(eq - environ[i]) + 1) == 0;
        if (!overridden)
            x->envp[k++] = sluice_strdup(environ[i]);
    }
    msgpack_unpacked_destroy(&up);
    *ctxp = x;
    /* Runs start at once, then every interval (never again with oneshot). */
    sluice_collector_wake(sluice_collector_add(ins, cfg->oneshot ? 0 : cfg->interval, collect, x));
    return SLUICE_OK;
}

static int
exec_start(void *ctx)
{
    exec_ctx *x = ctx;
    x->em = sluice_input_emitter(x->ins);
    x->loop = sluice_instance_loop(x->ins);
    uv_timer_init(x->loop, &x->deadline);
    x->deadline.data = x;
    return SLUICE_OK;
}

static void
exec_stop(void *ctx)
{
    exec_ctx *x = ctx;
    x->stopping = 1;
    if (x->running && !x->exited)
        kill(-x->proc.pid, SIGKILL);
    uv_close((uv_handle_t *)&x->deadline, NULL);
}

static void
exec_exit(void *ctx)
{
    exec_ctx *x = ctx;
    if (x->runs)
        sluice_info(x->ins, "%llu runs: %llu failed, %llu timed out, %llu skipped (still "
                            "running), %llu unparsable lines",
                    (unsigned long long)x->runs, (unsigned long long)x->failures,
                    (unsigned long long)x->timeouts, (unsigned long long)x->skipped,
                    (unsigned long long)x->parse_errors);
    for (size_t i = 0; x->argv[i]; i++)
        free(x->argv[i]);
    free(x->argv);
    for (size_t i = 0; x->envp[i]; i++)
        free(x->envp[i]);
    free(x->envp);
    sluice_buf_free(&x->stdout_buf);
    sluice_buf_free(&x->stderr_buf);
    msgpack_sbuffer_destroy(&x->scratch);
    free(x);
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_ALL,
    .name = "exec",
    .description = "Run a command on an interval; its output as events or metrics.",
    .options = exec_options,
    .config_size = sizeof(exec_config),
    .init = exec_init,
    .start = exec_start,
    .stop = exec_stop,
    .exit = exec_exit,
};

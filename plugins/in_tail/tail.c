/* in_tail: follows log files matching globs, one event per line (or per
 * multiline record), and commits each file's offset only when the lines
 * before it are acknowledged (delivered, dead-lettered or in an fsynced
 * filesystem buffer), so kill -9 at any moment loses no line and a restart
 * re-sends only lines not yet acknowledged.
 *
 * Files are found by rescanning the globs every refresh_interval, and read
 * when inotify reports a change (watch: inotify) or at every rescan
 * (watch: poll). A rotated or deleted file is read to its end and kept for
 * rotate_wait; a truncated one is read again from the start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail.h"
#include "tail_glob.h"

static const char *const watch_modes[] = {"inotify", "poll", NULL};
static const char *const long_line_modes[] = {"split", "skip", NULL};
static const char *const parser_names[] = {"none", "json", NULL};

static const sluice_option multiline_options[] = {
    {.name = "preset", .type = SLUICE_OPT_ENUM, .def = "none", .values = ml_preset_names,
     .offset = offsetof(tail_config, ml_preset),
     .help = "Stack traces: java, python or go; none to use start/continue."},
    {.name = "start", .type = SLUICE_OPT_STR, .offset = offsetof(tail_config, ml_start),
     .help = "PCRE2 regex of a record's first line."},
    {.name = "continue", .type = SLUICE_OPT_STR, .offset = offsetof(tail_config, ml_continue),
     .help = "PCRE2 regex of the lines that continue a record; default: any line that "
             "does not match start."},
    {.name = "timeout", .type = SLUICE_OPT_DURATION, .def = "1s", .flags = SLUICE_OPT_RANGE,
     .min = SLUICE_NSEC_PER_MSEC, .max = 3600 * SLUICE_NSEC_PER_SEC,
     .offset = offsetof(tail_config, ml_timeout),
     .help = "Emit a record when no line has continued it for this long."},
    {.name = "max_lines", .type = SLUICE_OPT_INT, .def = "1000", .flags = SLUICE_OPT_RANGE,
     .min = 1, .max = 1000000, .offset = offsetof(tail_config, ml_max_lines),
     .help = "Lines in one record at most."},
    {.name = "max_bytes", .type = SLUICE_OPT_SIZE, .def = "1MiB", .flags = SLUICE_OPT_RANGE,
     .min = 1024, .max = 64 << 20, .offset = offsetof(tail_config, ml_max_bytes),
     .help = "Bytes in one record at most."},
    SLUICE_OPTIONS_END,
};

static const sluice_option tail_options[] = {
    {.name = "path", .type = SLUICE_OPT_STR_LIST, .flags = SLUICE_OPT_REQUIRED,
     .offset = offsetof(tail_config, path),
     .help = "Files to follow: globs, where ** matches any number of directories."},
    {.name = "exclude_path", .type = SLUICE_OPT_STR_LIST,
     .offset = offsetof(tail_config, exclude_path), .help = "Globs of files to leave out."},
    {.name = "watch", .type = SLUICE_OPT_ENUM, .def = "inotify", .values = watch_modes,
     .offset = offsetof(tail_config, watch),
     .help = "inotify: read as soon as a file changes; poll: read at every refresh_interval."},
    {.name = "refresh_interval", .type = SLUICE_OPT_DURATION, .def = "1s",
     .flags = SLUICE_OPT_RANGE, .min = 10 * SLUICE_NSEC_PER_MSEC,
     .max = 3600 * SLUICE_NSEC_PER_SEC, .offset = offsetof(tail_config, refresh_interval),
     .help = "How often the globs are scanned for new files and files checked for rotation."},
    {.name = "read_from_head", .type = SLUICE_OPT_BOOL, .def = "false",
     .offset = offsetof(tail_config, read_from_head),
     .help = "Read files that exist at the first start from their beginning, not their end. "
             "Files appearing later are always read from the beginning."},
    {.name = "ignore_older", .type = SLUICE_OPT_DURATION, .def = "0",
     .offset = offsetof(tail_config, ignore_older),
     .help = "Leave out files not modified for this long; 0 follows every file."},
    {.name = "rotate_wait", .type = SLUICE_OPT_DURATION, .def = "5s",
     .offset = offsetof(tail_config, rotate_wait),
     .help = "After a file is rotated or removed, keep reading it this long."},
    {.name = "max_line_size", .type = SLUICE_OPT_SIZE, .def = "1MiB", .flags = SLUICE_OPT_RANGE,
     .min = 64, .max = 256 << 20, .offset = offsetof(tail_config, max_line_size),
     .help = "Longest line kept whole."},
    {.name = "long_lines", .type = SLUICE_OPT_ENUM, .def = "split", .values = long_line_modes,
     .offset = offsetof(tail_config, long_lines),
     .help = "A longer line is split into max_line_size pieces, or skipped; both are counted."},
    {.name = "read_size", .type = SLUICE_OPT_SIZE, .def = "256KiB", .flags = SLUICE_OPT_RANGE,
     .min = 4096, .max = 64 << 20, .offset = offsetof(tail_config, read_size),
     .help = "Bytes read from a file at a time (one buffer shared by every file)."},
    {.name = "key", .type = SLUICE_OPT_STR, .def = "message", .offset = offsetof(tail_config, key),
     .help = "Field holding the line."},
    {.name = "path_key", .type = SLUICE_OPT_STR, .offset = offsetof(tail_config, path_key),
     .help = "If set, a field with the file's path."},
    {.name = "offset_key", .type = SLUICE_OPT_STR, .offset = offsetof(tail_config, offset_key),
     .help = "If set, a field with the offset just past the line."},
    {.name = "parser", .type = SLUICE_OPT_ENUM, .def = "none", .values = parser_names,
     .offset = offsetof(tail_config, parser),
     .help = "json: each line (or multiline record) is a JSON object whose members become "
             "the event's fields; a line that is not is kept in `key` with parse_error: true "
             "and counted."},
    {.name = "multiline", .type = SLUICE_OPT_SECTION, .sub = multiline_options,
     .help = "Join lines into records (stack traces)."},
    SLUICE_OPTIONS_END,
};


/* ==== Acknowledgements ==== */

static void
on_save_soon(uv_idle_t *h)
{
    (void)h; /* being active is its job: the loop's next poll does not block */
}


void
tail_queue_ack(tail_ctx *t, tail_file *f, uint64_t offset, uint64_t check)
{
    if (t->acks_len == t->acks_cap) {
        size_t cap = t->acks_cap ? t->acks_cap * 2 : 64;
        pending_ack *v = sluice_malloc(cap * sizeof *v);
        for (size_t i = 0; i < t->acks_len; i++)
            v[i] = t->acks[(t->acks_head + i) % t->acks_cap];
        free(t->acks);
        t->acks = v;
        t->acks_cap = cap;
        t->acks_head = 0;
    }
    uint64_t token = ++t->next_token;
    t->acks[(t->acks_head + t->acks_len++) % t->acks_cap] =
        (pending_ack){token, f, offset, check, f->epoch};
    f->pending++;
    sluice_emit_token(t->em, token);
}

void
tail_move_acks(tail_ctx *t, tail_file *from, uint32_t epoch, tail_file *to)
{
    for (size_t i = 0; i < t->acks_len; i++) {
        pending_ack *a = &t->acks[(t->acks_head + i) % t->acks_cap];
        if (a->file == from && a->epoch == epoch) {
            a->file = to;
            a->epoch = to->epoch;
            from->pending--;
            to->pending++;
        }
    }
}

void
tail_forget_if_done(tail_ctx *t, tail_file *f)
{
    if (!f->closed || f->pending)
        return;
    /* Fully read and acknowledged. Its offset stays in the table while a
     * glob still matches the file, so it is not read again. */
    for (tail_file **pp = &t->files; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    t->n_files--;
    tail_file_free(f);
}

/* A token is safe: commit its offset. One emitted before the file's last
 * truncation belongs to what the file held before: it moves that retired
 * stream's offset (for a copy found later), not the file's. */
static void
commit(tail_ctx *t, const pending_ack *a)
{
    tail_file *f = a->file;
    f->pending--;
    if (a->epoch != f->epoch) {
        tail_db_entry *r = tail_db_find_retired(&t->db, f->dev, f->ino, a->epoch);
        if (r && a->offset > r->offset) {
            r->offset = a->offset;
            r->check = a->check;
            t->db_dirty = 1;
        }
        return;
    }
    f->committed = a->offset;
    if (f->fp_len < TAIL_FP_MAX && !f->closed && !f->compressed)
        tail_fingerprint(f->fd, &f->fp_hash, &f->fp_len);
    tail_db_set(&t->db, f->dev, f->ino, f->fp_hash, f->fp_len, f->committed, a->check, f->path);
    t->db_dirty = 1;
    tail_file_mark_done(f);
    if (!t->stopping)
        uv_idle_start(&t->save_soon, on_save_soon);
}

static void
save_now(tail_ctx *t)
{
    uv_idle_stop(&t->save_soon);
    t->db_dirty = 0;
    t->saved_at = uv_now(t->loop);
    if (tail_db_save(&t->db) < 0)
        sluice_error(t->ins, "cannot save offsets to %s: %s", t->db.path, strerror(errno));
}

static void
on_save_later(uv_timer_t *h)
{
    tail_ctx *t = h->data;
    if (t->db_dirty && !t->stopping)
        save_now(t);
}

static void
tail_ack(void *ctx, uint64_t token)
{
    tail_ctx *t = ctx;
    while (t->acks_len && t->acks[t->acks_head].token <= token) {
        pending_ack a = t->acks[t->acks_head];
        t->acks_head = (t->acks_head + 1) % t->acks_cap;
        t->acks_len--;
        /* Files are forgotten in on_refresh, never here: acks arrive in
         * the middle of reads that walk the list of files. */
        commit(t, &a);
    }
}

void
tail_rescan_soon(tail_ctx *t)
{
    if (!t->stopping)
        sluice_collector_wake(t->refresh);
}

/* Save the offsets right after a loop iteration in which some were
 * committed, not when the loop next wakes up (a kill -9 meanwhile would send
 * what was acknowledged again), but at most every TAIL_SAVE_EVERY_MS: a
 * save is a file written and renamed, and at full speed chunks are
 * acknowledged hundreds of times a second. */
static void
on_save(uv_check_t *h)
{
    tail_ctx *t = h->data;
    uv_idle_stop(&t->save_soon);
    if (!t->db_dirty)
        return;
    uint64_t since = uv_now(t->loop) - t->saved_at;
    if (since >= TAIL_SAVE_EVERY_MS)
        save_now(t);
    else if (!uv_is_active((uv_handle_t *)&t->save_later))
        uv_timer_start(&t->save_later, on_save_later, TAIL_SAVE_EVERY_MS - since, 0);
}

/* ==== Reading ==== */

static void on_read(uv_idle_t *h);

void
tail_mark_readable(tail_file *f)
{
    tail_ctx *t = f->t;
    f->readable = 1;
    if (!t->paused && !t->stopping)
        uv_idle_start(&t->reader, on_read);
}

/* Read every readable file once; files with more to read stay readable. */
static void
on_read(uv_idle_t *h)
{
    tail_ctx *t = h->data;
    int more = 0;
    for (tail_file *f = t->files; f && !t->paused; f = f->next) {
        if (!f->readable)
            continue;
        if (tail_file_read(f) == (size_t)t->cfg->read_size)
            more = 1;
        else
            f->readable = 0;
    }
    if (!more || t->paused)
        uv_idle_stop(h);
}

/* ==== Discovery (tail_scan.c) ==== */

/* A file appeared in a watched directory: rescan now rather than at the
 * next refresh, so a file rotated away quickly is still caught. */
static void
on_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    tail_ctx *t = h->data;
    if (!t->stopping)
        tail_rescan(t);
}

/* Watch the directory of every pattern whose wildcards are all in its last
 * component; ** patterns rely on the rescans. */
static void
watch_dirs(tail_ctx *t)
{
    const tail_config *cfg = t->cfg;
    t->dir_watches = sluice_calloc(cfg->path.n ? cfg->path.n : 1, sizeof *t->dir_watches);
    for (size_t i = 0; i < cfg->path.n; i++) {
        const char *pat = cfg->path.v[i];
        const char *slash = strrchr(pat, '/');
        const char *wild = strpbrk(pat, "*?[");
        if (!slash || strstr(pat, "**") || (wild && wild < slash))
            continue;
        char *dir = sluice_strndup(pat, slash > pat ? (size_t)(slash - pat) : 1);
        uv_fs_event_t *w = &t->dir_watches[t->n_dir_watches];
        uv_fs_event_init(t->loop, w);
        w->data = t;
        if (uv_fs_event_start(w, on_dir_event, dir, 0) == 0)
            t->n_dir_watches++;
        else
            uv_close((uv_handle_t *)w, NULL);
        free(dir);
    }
}

/* Every refresh_interval (a collector: the core pauses it with the input). */
static void
on_refresh(sluice_instance *ins, void *arg)
{
    tail_ctx *t = arg;
    (void)ins;
    for (tail_file *f = t->files, *next; f; f = next) {
        next = f->next;
        tail_file_check(f);
        if (!f->closed)
            tail_mark_readable(f); /* poll mode, and missed inotify events */
        tail_forget_if_done(t, f);
    }
    tail_rescan(t);
}

static void
on_ml_timer(sluice_instance *ins, void *arg)
{
    tail_ctx *t = arg;
    uint64_t now = uv_now(sluice_instance_loop(ins));
    for (tail_file *f = t->files; f; f = f->next)
        tail_file_ml_expire(f, now);
}

/* ==== Life cycle ==== */

static int
tail_init(sluice_instance *ins, const void *config, void **ctxp)
{
    const tail_config *cfg = config;
    const sluice_added_field fields[] = {
        {NULL, "parse_error"}, {"key", cfg->key}, {"path_key", cfg->path_key},
        {"offset_key", cfg->offset_key}};
    if (sluice_check_added_fields(ins, fields, sizeof fields / sizeof *fields) != SLUICE_OK)
        return SLUICE_ERROR;
    tail_ctx *t = sluice_calloc(1, sizeof *t);
    t->ins = ins;
    t->cfg = cfg;
    t->multiline = cfg->ml_preset > 0 || cfg->ml_start || cfg->ml_continue;
    if (t->multiline) {
        char err[512];
        if (ml_compile(&t->ml, cfg->ml_preset, cfg->ml_start, cfg->ml_continue, err,
                       sizeof err) < 0) {
            sluice_option_error(ins, "multiline", "%s", err);
            free(t);
            return SLUICE_ERROR;
        }
    }
    *ctxp = t;
    t->refresh = sluice_collector_add(ins, cfg->refresh_interval, on_refresh, t);
    if (t->multiline)
        sluice_collector_add(ins, cfg->ml_timeout / 4 + SLUICE_NSEC_PER_MSEC, on_ml_timer, t);
    /* Offsets live under service.storage.path: say now if it is unusable. */
    t->state_dir = sluice_storage_dir(ins, "tail");
    return t->state_dir ? SLUICE_OK : SLUICE_ERROR;
}

static int
tail_start(void *ctx)
{
    tail_ctx *t = ctx;
    t->em = sluice_input_emitter(t->ins);
    t->loop = sluice_instance_loop(t->ins);
    char *db = NULL;
    if (asprintf(&db, "%s/%s.offsets", t->state_dir, sluice_instance_id(t->ins)) < 0)
        return SLUICE_ERROR;
    t->first_start = access(db, F_OK) != 0;
    int bad = tail_db_load(&t->db, db) < 0;
    if (bad)
        sluice_error(t->ins, "cannot read offsets from %s: %s", db, strerror(errno));
    free(db);
    if (bad)
        return SLUICE_ERROR;

    t->started = 1;
    uv_idle_init(t->loop, &t->reader);
    t->reader.data = t;
    uv_check_init(t->loop, &t->saver);
    t->saver.data = t;
    uv_check_start(&t->saver, on_save);
    uv_idle_init(t->loop, &t->save_soon);
    uv_timer_init(t->loop, &t->save_later);
    t->save_later.data = t;

    if (t->cfg->watch == WATCH_INOTIFY)
        watch_dirs(t);
    tail_rescan(t);
    /* The table's existence marks the first start as past: a file that
     * appears before a kill -9 is read from its head after the restart. */
    if (t->first_start)
        save_now(t);
    sluice_info(t->ins, "following %zu files: %zu resumed at offsets saved by an earlier run, "
                        "%zu from their end (existing files at the first start, "
                        "read_from_head: false), %zu from their start",
                t->n_files, t->started_resumed, t->started_at_end, t->started_at_head);
    return SLUICE_OK;
}

static void
tail_pause(void *ctx)
{
    tail_ctx *t = ctx;
    t->paused = 1;
    uv_idle_stop(&t->reader);
}

static void
tail_resume(void *ctx)
{
    tail_ctx *t = ctx;
    t->paused = 0;
    for (tail_file *f = t->files; f; f = f->next)
        if (f->readable)
            uv_idle_start(&t->reader, on_read);
}

static void
tail_stop(void *ctx)
{
    tail_ctx *t = ctx;
    t->stopping = 1;
    if (!t->started)
        return; /* start failed before opening anything */
    uv_close((uv_handle_t *)&t->reader, NULL);
    uv_close((uv_handle_t *)&t->saver, NULL);
    uv_close((uv_handle_t *)&t->save_soon, NULL);
    uv_close((uv_handle_t *)&t->save_later, NULL);
    for (size_t i = 0; i < t->n_dir_watches; i++)
        uv_close((uv_handle_t *)&t->dir_watches[i], NULL);
    for (tail_file *f = t->files; f; f = f->next)
        tail_file_close(f);
}

static void
tail_exit(void *ctx)
{
    tail_ctx *t = ctx;
    if (t->db.path && tail_db_save(&t->db) < 0)
        sluice_error(t->ins, "cannot save offsets to %s", t->db.path);
    if (t->lines || t->long_split || t->long_skipped)
        sluice_info(t->ins, "read %llu lines; %llu long lines split, %llu skipped; %llu "
                            "rotations, %llu truncations; %llu not JSON",
                    (unsigned long long)t->lines, (unsigned long long)t->long_split,
                    (unsigned long long)t->long_skipped, (unsigned long long)t->rotations,
                    (unsigned long long)t->truncations, (unsigned long long)t->parse_errors);
    while (t->files) {
        tail_file *f = t->files;
        t->files = f->next;
        tail_file_free(f);
    }
    tail_db_free(&t->db);
    ml_free(&t->ml);
    msgpack_sbuffer_destroy(&t->scratch);
    free(t->dir_watches);
    free(t->state_dir);
    free(t->acks);
    free(t->rbuf);
    free(t);
}

/* ==== Metrics ==== */

enum { M_FILES, M_LAG, M_ROTATIONS, M_TRUNCATIONS, M_SPLIT, M_SKIPPED };

static const sluice_metric_def tail_metrics[] = {
    [M_FILES] = {"files", "Files being followed.", 0},
    [M_LAG] = {"lag_bytes", "Bytes written to followed files and not read yet (plain files).",
               0},
    [M_ROTATIONS] = {"rotations_total", "Rotations followed.", 1},
    [M_TRUNCATIONS] = {"truncations_total", "Truncations (copytruncate) followed.", 1},
    [M_SPLIT] = {"long_lines_split_total", "Lines longer than max_line_size, split.", 1},
    [M_SKIPPED] = {"long_lines_skipped_total", "Lines longer than max_line_size, skipped.", 1},
    {NULL, NULL, 0},
};

static double
tail_metric(void *ctx, size_t i)
{
    tail_ctx *t = ctx;
    double n = 0;
    struct stat st;
    switch (i) {
    case M_FILES:
    case M_LAG:
        for (tail_file *f = t->files; f; f = f->next) {
            if (f->closed)
                continue;
            if (i == M_FILES)
                n++;
            else if (!f->gz && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size > f->read_off)
                n += (double)((uint64_t)st.st_size - f->read_off);
        }
        return n;
    case M_ROTATIONS: return (double)t->rotations;
    case M_TRUNCATIONS: return (double)t->truncations;
    case M_SPLIT: return (double)t->long_split;
    case M_SKIPPED: return (double)t->long_skipped;
    }
    return 0;
}

SLUICE_PLUGIN_EXPORT const struct sluice_plugin sluice_plugin = {
    SLUICE_PLUGIN_HEADER(SLUICE_PLUGIN_INPUT),
    .emits = SLUICE_ACCEPTS_LOGS,
    .name = "tail",
    .description = "Follow log files: globs, rotation, crash-safe offsets, multiline.",
    .options = tail_options,
    .config_size = sizeof(tail_config),
    .init = tail_init,
    .start = tail_start,
    .pause = tail_pause,
    .resume = tail_resume,
    .stop = tail_stop,
    .exit = tail_exit,
    .ack = tail_ack,
    .metrics = tail_metrics,
    .metric_value = tail_metric,
};

/* Following one file: reading, splitting lines, long lines, multiline
 * records, rotation, truncation and deletion. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail.h"

static void
on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    tail_file *f = h->data;
    if (events & UV_RENAME)
        tail_file_check(f);
    if (!f->closed)
        tail_mark_readable(f);
}

tail_file *
tail_file_open(tail_ctx *t, const char *path, int fd, gzFile gz, uint64_t dev, uint64_t ino,
               uint64_t offset, uint64_t committed, uint64_t check)
{
    tail_file *f = sluice_calloc(1, sizeof *f);
    f->t = t;
    f->path = sluice_strdup(path);
    f->fd = fd;
    f->gz = gz;
    f->dev = dev;
    f->ino = ino;
    f->read_off = f->token_off = offset;
    f->committed = committed;
    if (gz) {
        /* A compressed rotation: read once, to its end, never followed. Its
         * entry keeps the fingerprint of its compressed bytes, so that an
         * inode reused by another file is told apart. */
        f->compressed = 1;
        tail_fingerprint(fd, &f->fp_hash, &f->fp_len);
        tail_gz_check(gz, offset, &f->check, NULL);
        gzseek(gz, (z_off_t)offset, SEEK_SET);
        f->rotated = 1;
        f->rotated_at = f->progress_at = uv_now(t->loop);
    } else {
        lseek(fd, (off_t)offset, SEEK_SET);
        tail_fingerprint(fd, &f->fp_hash, &f->fp_len);
        f->check = tail_check(fd, offset);
    }
    if (t->cfg->watch == WATCH_INOTIFY && !gz) {
        uv_fs_event_init(t->loop, &f->watch);
        f->watch.data = f;
        f->watching = uv_fs_event_start(&f->watch, on_fs_event, path, 0) == 0;
        if (!f->watching)
            uv_close((uv_handle_t *)&f->watch, NULL);
    }
    f->next = t->files;
    t->files = f;
    t->n_files++;
    tail_db_entry *e = tail_db_set(&t->db, dev, ino, f->fp_hash, f->fp_len, committed,
                                   committed == offset ? f->check : check, path);
    tail_db_seen(e, t->gen, uv_now(t->loop));
    if (gz)
        e->flags |= DB_COMPRESSED;
    t->db_dirty = 1;
    return f;
}

/* ==== Events ==== */

static void
emit(tail_file *f, const char *data, size_t len, uint64_t end_offset, sluice_time_t now)
{
    tail_ctx *t = f->t;
    const tail_config *cfg = t->cfg;
    uint32_t extras = (cfg->path_key != NULL) + (cfg->offset_key != NULL);
    sluice_json_members obj;
    char err[128];
    int json = cfg->parser == PARSER_JSON;
    /* The path and offset replace members of their names. */
    const char *const ours[] = {cfg->path_key, cfg->offset_key};
    if (json && sluice_json_object_without(data, len, ours, extras ? 2 : 0, &t->scratch, &obj, err,
                                           sizeof err) < 0) {
        if (t->parse_errors++ % 10000 == 0)
            sluice_warn(t->ins, "%s: a line at offset %llu is not a JSON object (%s); kept with "
                                "parse_error (%llu so far)",
                        f->path, (unsigned long long)(end_offset - len), err,
                        (unsigned long long)t->parse_errors);
        json = 0;
        extras++;
    }
    msgpack_packer *pk = sluice_emit_begin(t->em, SLUICE_EVENT_LOG, now);
    if (json) {
        msgpack_pack_map(pk, obj.count + extras);
        pk->callback(pk->data, obj.data, obj.len);
    } else {
        msgpack_pack_map(pk, 1 + extras);
        sluice_pack_cstr(pk, cfg->key);
        msgpack_pack_str_with_body(pk, data, len);
        if (cfg->parser == PARSER_JSON) {
            sluice_pack_cstr(pk, "parse_error");
            msgpack_pack_true(pk);
        }
    }
    if (cfg->path_key) {
        sluice_pack_cstr(pk, cfg->path_key);
        sluice_pack_cstr(pk, f->path);
    }
    if (cfg->offset_key) {
        sluice_pack_cstr(pk, cfg->offset_key);
        msgpack_pack_uint64(pk, end_offset);
    }
    sluice_emit_end(t->em);
    t->lines++;
}

static void
ml_flush(tail_file *f, uint64_t end_offset, sluice_time_t now)
{
    if (!f->ml_lines)
        return;
    emit(f, f->ml.data, f->ml.len, end_offset, now);
    sluice_buf_reset(&f->ml);
    f->ml_lines = 0;
    f->ml_state = 0;
}

/* One complete line, [start, end) of the file. */
static void
line(tail_file *f, const char *data, size_t len, uint64_t start, uint64_t end, sluice_time_t now)
{
    tail_ctx *t = f->t;
    if (len && data[len - 1] == '\r')
        len--;
    if (!t->multiline) {
        emit(f, data, len, end, now);
        return;
    }
    const tail_config *cfg = t->cfg;
    if (f->ml_lines) {
        int next = ml_next(&t->ml, f->ml_state, data, len);
        if (next >= 0 && f->ml_lines < (size_t)cfg->ml_max_lines &&
            f->ml.len + 1 + len <= (size_t)cfg->ml_max_bytes) {
            sluice_buf_putc(&f->ml, '\n');
            sluice_buf_append(&f->ml, data, len);
            f->ml_lines++;
            f->ml_state = next;
            f->ml_touched = uv_now(t->loop);
            return;
        }
        ml_flush(f, start, now);
    }
    int next = ml_next(&t->ml, 0, data, len);
    if (next < 0) {
        emit(f, data, len, end, now);
        return;
    }
    sluice_buf_append(&f->ml, data, len);
    f->ml_lines = 1;
    f->ml_state = next;
    f->ml_start = start;
    f->ml_touched = uv_now(t->loop);
}

/* Apply max_line_size to [data, data+len): the whole line when `complete`,
 * else the start of one still growing. Emits what it can and returns how
 * many bytes it used (all of a complete line). */
static size_t
long_line(tail_file *f, const char *data, size_t len, uint64_t start, uint64_t end,
          sluice_time_t now, int complete)
{
    tail_ctx *t = f->t;
    size_t max = (size_t)t->cfg->max_line_size;
    if (len <= max) {
        line(f, data, len, start, end, now);
        return len;
    }
    if (t->cfg->long_lines == LONG_SKIP) {
        t->long_skipped++;
        sluice_warn(t->ins, "%s: skipping a line longer than max_line_size (%zu bytes) at "
                            "offset %llu",
                    f->path, max, (unsigned long long)start);
        f->skipping = !complete;
        return len;
    }
    if (!f->splitting)
        t->long_split++;
    f->splitting = !complete;
    size_t used = 0;
    while (len - used > max) {
        line(f, data + used, max, start + used, start + used + max, now);
        used += max;
    }
    if (complete) {
        line(f, data + used, len - used, start + used, end, now);
        used = len;
    }
    return used;
}

/* A compressed rotation read to its end, its lines all acknowledged: it
 * is done for good (not decompressed again at the next start). */
void
tail_file_mark_done(tail_file *f)
{
    if (!f->compressed || !f->gz_ended || f->pending)
        return;
    tail_db_entry *e = tail_db_find(&f->t->db, f->dev, f->ino);
    if (e && !(e->flags & DB_DONE)) {
        e->flags |= DB_DONE;
        f->t->db_dirty = 1;
    }
}

/* The offset up to which everything is emitted: not past a multiline
 * record still being built, nor a partial line. */
static uint64_t
safe_offset(const tail_file *f)
{
    if (f->ml_lines)
        return f->ml_start;
    return f->read_off - f->partial_len;
}

/* Queue a token for what is emitted so far. Its check is taken from the
 * bytes just read (`buf` holds the file from offset `base`, `len` bytes)
 * when they reach back far enough: the file may change under us. */
static void
maybe_token(tail_file *f, const char *buf, uint64_t base, size_t len)
{
    uint64_t off = safe_offset(f);
    if (off == f->token_off)
        return;
    /* A short file's fingerprint grows with it, until it is full. */
    if (f->fp_len < TAIL_FP_MAX && !f->gz && f->read_off > f->fp_len)
        tail_fingerprint(f->fd, &f->fp_hash, &f->fp_len);
    f->token_off = off;
    uint64_t from = off > TAIL_CHECK_LEN ? off - TAIL_CHECK_LEN : 0;
    if (buf && from >= base && off <= base + len)
        f->check = tail_hash(buf + (from - base), (size_t)(off - from));
    else if (f->gz)
        f->check = 0; /* only its start matters: its stream never grows */
    else
        f->check = tail_check(f->fd, off);
    tail_queue_ack(f->t, f, off, f->check);
}

void
tail_file_ml_expire(tail_file *f, uint64_t now_ms)
{
    if (f->ml_lines && now_ms - f->ml_touched >= (uint64_t)(f->t->cfg->ml_timeout / 1000000)) {
        ml_flush(f, f->read_off - f->partial_len, sluice_time_now());
        maybe_token(f, NULL, 0, 0);
    }
}

/* ==== Reading ==== */

static void restart_at_zero(tail_file *f, const char *why);

/* Truncated in place (copytruncate), perhaps already refilled past our
 * offset: the size is smaller than what we read, the first bytes are no
 * longer the ones we fingerprinted, or the bytes before our offset are no
 * longer the ones we read there. */
void
tail_file_check_truncation(tail_file *f)
{
    if (f->closed || f->rotated || f->gz)
        return;
    struct stat st;
    if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->read_off) {
        restart_at_zero(f, "was truncated (copytruncate?)");
        return;
    }
    if (f->fp_len) {
        ssize_t n;
        uint64_t h = tail_hash_prefix(f->fd, f->fp_len, &n);
        if (n != (ssize_t)f->fp_len || h != f->fp_hash) {
            restart_at_zero(f, "was truncated and rewritten");
            return;
        }
    }
    if (f->token_off && tail_check(f->fd, f->token_off) != f->check)
        restart_at_zero(f, "was truncated and rewritten");
}

/* A file found empty gets its first bytes: if they are compressed, or a
 * copy being made of a file sluice reads, stop following it (the next
 * rescan judges it again). Returns 1 when it may be read. */
static int
still_unproven(tail_file *f)
{
    struct stat st;
    int too_short;
    const char *format = tail_compression_of(f->fd, &too_short);
    if (too_short || fstat(f->fd, &st) != 0)
        return 0;
    tail_db_entry *from;
    if (format ||
        tail_copy_kind(f->t, f->path, f->fd, (uint64_t)st.st_size, f, &from) != COPY_NONE) {
        /* Compressed, or a copy: the next rescan decides where to read it
         * from, if at all. */
        sluice_debug(f->t->ins, "%s is a copy being made; looking again", f->path);
        tail_db_remove(&f->t->db, f->dev, f->ino);
        tail_file_close(f);
        tail_rescan_soon(f->t);
        return 0;
    }
    f->unproven = 0;
    return 1;
}

/* Read up to `want` bytes at the file's position (decompressing a
 * compressed rotation). */
static ssize_t
read_some(tail_file *f, char *buf, size_t want)
{
    ssize_t n;
    if (f->gz) {
        n = gzread(f->gz, buf, (unsigned)want);
        if (n > 0) {
            f->progress_at = uv_now(f->t->loop);
            return n;
        }
        int err;
        const char *msg = gzerror(f->gz, &err);
        if (err == Z_BUF_ERROR &&
            uv_now(f->t->loop) - f->progress_at < (uint64_t)(f->t->cfg->rotate_wait / 1000000) + 10000) {
            gzclearerr(f->gz); /* cut short: still being written; try again later */
        } else if (err == Z_BUF_ERROR) {
            sluice_warn(f->t->ins, "%s ends in the middle of its gzip stream and has not grown "
                                   "for %llu s: what follows offset %llu is not read",
                        f->path, (unsigned long long)(f->t->cfg->rotate_wait / SLUICE_NSEC_PER_SEC + 10),
                        (unsigned long long)f->read_off);
            f->gz_ended = 1;
        } else if (err != Z_OK) {
            sluice_error(f->t->ins, "%s: cannot decompress: %s; its remaining lines are not read",
                         f->path, msg);
            f->gz_ended = 1;
        } else {
            f->gz_ended = gzeof(f->gz);
        }
        return 0;
    }
    do
        n = read(f->fd, buf, want);
    while (n < 0 && errno == EINTR);
    return n;
}

size_t
tail_file_read(tail_file *f)
{
    tail_ctx *t = f->t;
    const tail_config *cfg = t->cfg;
    if (f->closed)
        return 0;
    if (f->unproven && !still_unproven(f))
        return 0;
    tail_file_check_truncation(f);
    size_t want = (size_t)cfg->read_size;
    if (t->rcap < f->partial_len + want) {
        t->rcap = f->partial_len + want;
        t->rbuf = sluice_realloc(t->rbuf, t->rcap);
    }
    if (f->partial_len)
        memcpy(t->rbuf, f->partial, f->partial_len);
    ssize_t n = read_some(f, t->rbuf + f->partial_len, want);
    if (n <= 0)
        return 0;
    sluice_time_t now = sluice_time_now();
    uint64_t base = f->read_off - f->partial_len; /* file offset of rbuf[0] */
    f->read_off += (uint64_t)n;
    char *p = t->rbuf, *end = t->rbuf + f->partial_len + (size_t)n;
    char *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        uint64_t start = base + (uint64_t)(p - t->rbuf), stop = base + (uint64_t)(nl + 1 - t->rbuf);
        if (f->skipping)
            f->skipping = 0; /* the end of a skipped long line */
        else
            long_line(f, p, (size_t)(nl - p), start, stop, now, 1);
        f->splitting = 0;
        p = nl + 1;
    }
    size_t rest = (size_t)(end - p);
    if (f->skipping) {
        rest = 0; /* still inside a skipped long line */
    } else if (rest > (size_t)cfg->max_line_size) {
        uint64_t start = base + (uint64_t)(p - t->rbuf);
        size_t used = long_line(f, p, rest, start, start + rest, now, 0);
        p += used;
        rest -= used;
    }
    if (rest > f->partial_cap) {
        f->partial_cap = rest;
        f->partial = sluice_realloc(f->partial, rest);
    }
    if (rest)
        memmove(f->partial, p, rest);
    f->partial_len = rest;
    maybe_token(f, t->rbuf, base, (size_t)(end - t->rbuf));
    return (size_t)n;
}

/* ==== Rotation ==== */

/* The file's content is gone: what was read of it becomes the retired
 * stream (its copy, if one turns up, goes on from there), and the file
 * is read again from the start as a new epoch. */
static void
restart_at_zero(tail_file *f, const char *why)
{
    tail_ctx *t = f->t;
    sluice_info(t->ins, "%s %s; reading it again from the start", f->path, why);
    t->truncations++;
    f->retired[f->epoch % TAIL_RETIRED_MAX] =
        (retired_stream){1, f->epoch, f->fp_hash, f->fp_len, f->token_off, f->check};
    tail_db_retire(&t->db, f->dev, f->ino, f->epoch);
    f->epoch++;
    lseek(f->fd, 0, SEEK_SET);
    f->read_off = f->token_off = f->committed = 0;
    f->check = 0;
    f->partial_len = 0;
    f->skipping = 0;
    sluice_buf_reset(&f->ml);
    f->ml_lines = 0;
    tail_fingerprint(f->fd, &f->fp_hash, &f->fp_len);
    tail_db_seen(tail_db_set(&t->db, f->dev, f->ino, f->fp_hash, f->fp_len, 0, 0, f->path),
                 t->gen, uv_now(t->loop));
    t->db_dirty = 1;
    tail_rescan_soon(t); /* a copy of what it held may be in the globs */
}

void
tail_file_check(tail_file *f)
{
    tail_ctx *t = f->t;
    if (f->closed)
        return;
    struct stat now_st, path_st;
    if (!f->gz && fstat(f->fd, &now_st) == 0 && (uint64_t)now_st.st_size < f->read_off)
        restart_at_zero(f, "was truncated (copytruncate?)");
    if (!f->rotated) {
        int gone = stat(f->path, &path_st) != 0;
        if (gone || (uint64_t)path_st.st_ino != f->ino || (uint64_t)path_st.st_dev != f->dev) {
            f->rotated = 1;
            f->rotated_at = uv_now(t->loop);
            t->rotations++;
            sluice_debug(t->ins, "%s was %s; reading the old file to its end", f->path,
                         gone ? "removed" : "rotated");
        }
    }
    if (!f->rotated)
        return;
    /* Drained and past rotate_wait: the final unterminated line and any
     * pending record are complete now. */
    if (f->gz ? !f->gz_ended
              : fstat(f->fd, &now_st) == 0 && (uint64_t)now_st.st_size > f->read_off)
        return;
    if (uv_now(t->loop) - f->rotated_at < (uint64_t)(t->cfg->rotate_wait / 1000000))
        return;
    sluice_time_t ts = sluice_time_now();
    if (f->partial_len && !f->skipping) {
        uint64_t start = f->read_off - f->partial_len;
        f->partial_len = 0;
        line(f, f->partial, f->read_off - start, start, f->read_off, ts);
    }
    f->partial_len = 0;
    ml_flush(f, f->read_off, ts);
    maybe_token(f, NULL, 0, 0);
    tail_file_close(f);
}

static void
free_now(tail_file *f)
{
    free(f->path);
    free(f->partial);
    sluice_buf_free(&f->ml);
    free(f);
}

static void
on_watch_closed(uv_handle_t *h)
{
    tail_file *f = h->data;
    f->watch_closing = 0;
    if (f->free_when_closed)
        free_now(f);
}

void
tail_file_close(tail_file *f)
{
    if (f->closed)
        return;
    f->closed = 1;
    if (f->watching) {
        f->watch_closing = 1;
        uv_close((uv_handle_t *)&f->watch, on_watch_closed);
    }
    f->watching = 0;
    if (f->gz) {
        gzclose(f->gz); /* and its fd */
        f->gz = NULL;
        tail_file_mark_done(f);
    } else {
        close(f->fd);
    }
    f->fd = -1;
}

void
tail_file_free(tail_file *f)
{
    /* The inotify handle lives inside f: wait for its close to finish. */
    if (f->watch_closing)
        f->free_when_closed = 1;
    else
        free_now(f);
}

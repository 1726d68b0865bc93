/* Finding files and deciding where to read each from.
 *
 * A rescan globs the patterns, then looks at what it found in three
 * rounds, so that what is known settles before what is new is judged:
 *   1. files whose inode the offsets table knows: resumed at the
 *      acknowledged offset if their first bytes and the bytes before that
 *      offset are still the ones read (else the old content is retired and
 *      the file is read from its start);
 *   2. new plain files: a copy of a stream already read (copytruncate's
 *      rotated copy) goes on where that stream stopped, and one being
 *      copied from a file still followed waits; anything else is read from
 *      its start (or its end, at the very first start without
 *      read_from_head);
 *   3. compressed files: read, decompressed, only when they hold the rest
 *      of a stream whose file is gone (rotated and compressed while sluice
 *      was down); otherwise skipped with one log line.
 * Then, at the first scan after a start, files rotated away from the
 * patterns with lines not yet acknowledged are found next to their old
 * path, and offsets of files no pattern matches any more are forgotten. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail.h"
#include "tail_glob.h"

enum { START_HEAD, START_END, START_SAVED, START_COPY, START_COMPRESSED };

typedef struct found_file {
    char *path;
    struct stat st;
    int round; /* 1, 2 or 3 */
} found_file;

typedef struct found_list {
    found_file *v;
    size_t n, cap;
} found_list;

/* ==== Saying where a file is read from ==== */

/* At the first scan, at info level for the first few files (an offset
 * resumed from an earlier run surprises users who set read_from_head),
 * then counted in the start-up summary; later, at debug level. */
static void
log_start(tail_ctx *t, const char *path, uint64_t off, uint64_t size, int how)
{
    static const char *const hows[] = {
        "from its start", "from its end (read_from_head: false)",
        "at the offset an earlier run acknowledged", "as a copy of a stream already read",
        "decompressed, as the rest of a stream whose file is gone"};
    size_t *count = how == START_SAVED || how == START_COPY ? &t->started_resumed
                    : how == START_END                     ? &t->started_at_end
                                                           : &t->started_at_head;
    int first = !t->first_scan_done;
    if (first)
        (*count)++;
    if (first && t->n_files <= 20 && how != START_COPY && how != START_COMPRESSED)
        sluice_info(t->ins, "reading %s %s: offset %llu of %llu", path, hows[how],
                    (unsigned long long)off, (unsigned long long)size);
    else
        sluice_debug(t->ins, "reading %s %s: offset %llu of %llu", path, hows[how],
                     (unsigned long long)off, (unsigned long long)size);
}

static tail_file *
find_open(tail_ctx *t, uint64_t dev, uint64_t ino)
{
    for (tail_file *f = t->files; f; f = f->next)
        if (!f->closed && f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

static int
too_old(const tail_ctx *t, const struct stat *st)
{
    return t->cfg->ignore_older &&
           (sluice_time_t)st->st_mtime * SLUICE_NSEC_PER_SEC < sluice_time_now() - t->cfg->ignore_older;
}

/* Open a found file, and take its size (and identity) anew from the open
 * file: it may have changed since the scan looked (a copy being filled, a
 * compressed file being written), and every decision below must see the
 * file as it is now. */
static int
open_file(tail_ctx *t, found_file *ff)
{
    int fd = open(ff->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        sluice_warn(t->ins, "cannot open %s: %s", ff->path, strerror(errno));
    else if (fstat(fd, &ff->st) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void open_new(tail_ctx *t, found_file *ff);
static void open_compressed(tail_ctx *t, found_file *ff, const char *format);

/* ==== Round 1: inodes the table knows ==== */

/* Whether `fd` still holds the stream of `e`: the same first bytes (or more
 * of them, grown past a short fingerprint) and the same bytes before the
 * acknowledged offset. */
static int
same_stream(int fd, const struct stat *st, const tail_db_entry *e)
{
    uint64_t h;
    uint32_t len;
    tail_fingerprint(fd, &h, &len);
    if (len < e->fp_len || (uint64_t)st->st_size < e->offset)
        return 0;
    if (e->fp_len && len > e->fp_len) {
        ssize_t n;
        h = tail_hash_prefix(fd, e->fp_len, &n);
    }
    if (e->fp_len && h != e->fp_hash)
        return 0;
    return e->offset == 0 || e->check == 0 || tail_check(fd, e->offset) == e->check;
}

/* Resume a file the scan matched to a database entry `e` (same device
 * and inode). Decides whether it is the same stream: a compressed file
 * is compared by its fingerprint, a plain one by same_stream; a new file
 * in a reused inode is judged anew (open_new, open_compressed) or read
 * from its head, its old lines kept for a copy to resume. Owns the fd it
 * opens until tail_file_open takes it. Calls only tail's own modules. */
static void
open_known(tail_ctx *t, found_file *ff, tail_db_entry *e)
{
    tail_db_touch(&t->db, e->dev, e->ino, t->gen, uv_now(t->loop));
    if (find_open(t, e->dev, e->ino))
        return;
    /* Read to its end before and not grown since: nothing to do. */
    if (e->offset == (uint64_t)ff->st.st_size && t->first_scan_done && !(e->flags & DB_COMPRESSED))
        return;
    if (too_old(t, &ff->st))
        return;
    int fd = open_file(t, ff);
    if (fd < 0)
        return;
    if ((uint64_t)ff->st.st_ino != e->ino || (uint64_t)ff->st.st_dev != e->dev) {
        close(fd); /* replaced since the scan: the next one sees what it is */
        return;
    }
    int too_short;
    const char *format = tail_compression_of(fd, &too_short);
    if (e->flags & DB_COMPRESSED) {
        /* The same compressed file (the fingerprint of its compressed
         * bytes, taken while it was perhaps still being written, so
         * compared as a prefix), or a new file in the inode it left: then
         * it is judged anew. */
        uint64_t h;
        uint32_t len;
        ssize_t got;
        tail_fingerprint(fd, &h, &len);
        int same = format && len >= e->fp_len &&
                   (len == e->fp_len ? h : tail_hash_prefix(fd, e->fp_len, &got)) == e->fp_hash;
        if (same && len > e->fp_len) {
            e->fp_hash = h;
            e->fp_len = len;
            t->db_dirty = 1;
        }
        if (!same) {
            tail_db_drop(&t->db, e); /* its lines are all in that file, gone */
            close(fd);
            if (format)
                open_compressed(t, ff, format);
            else
                open_new(t, ff);
            return;
        }
        if (e->flags & DB_DONE) {
            close(fd);
            return;
        }
    } else if (format) {
        /* A compressed file in a reused inode. The stream the inode held
         * may have a compressed copy of its own to be judged: it keeps
         * where it stopped. */
        tail_db_retire(&t->db, e->dev, e->ino, TAIL_EPOCH_NONE);
        close(fd);
        open_compressed(t, ff, format);
        return;
    }
    uint64_t dev = e->dev, ino = e->ino, off = e->offset, check = e->check;
    int how = START_SAVED;
    gzFile gz = NULL;
    if (e->flags & DB_COMPRESSED) {
        gz = gzdopen(fd, "rb");
        if (!gz) {
            close(fd);
            return;
        }
    } else if (!same_stream(fd, &ff->st, e)) {
        /* A new file in an old inode, or truncated and refilled while
         * sluice was down: what it held may have a copy to resume. */
        tail_db_retire(&t->db, dev, ino, TAIL_EPOCH_NONE);
        off = check = 0;
        how = START_HEAD;
    }
    tail_file *f = tail_file_open(t, ff->path, fd, gz, dev, ino, off, off, check);
    /* A new file in a reused inode may be a compressed rotation that gzip
     * has not written yet: judged again when its first bytes arrive. */
    f->unproven = how == START_HEAD && too_short;
    log_start(t, ff->path, off, (uint64_t)ff->st.st_size, how);
    tail_mark_readable(f);
}

/* ==== Round 2: new plain files ==== */

/* The length of `name` without the suffixes rotation adds: a number or a
 * date after '.', '-' or '_' (app.log.1, app.log-20261201) and a
 * compression extension (app.log.2.gz). */
static size_t
stem_length(const char *name)
{
    static const char *const ext[] = {".gz", ".xz", ".zst", ".bz2", ".lz4", ".z"};
    size_t n = strlen(name);
    for (;;) {
        size_t k = 0, d = n;
        for (; k < sizeof ext / sizeof *ext; k++) {
            size_t e = strlen(ext[k]);
            if (n > e && strcmp(name + n - e, ext[k]) == 0) {
                n -= e;
                break;
            }
        }
        if (k < sizeof ext / sizeof *ext)
            continue;
        while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
            d--;
        if (d == n || d < 2 || !strchr(".-_", name[d - 1]))
            return n;
        n = d - 1;
    }
}

/* Whether the file at `copy` is named as a rotation of the one at
 * `orig`: both have the same name once the suffixes of rotation are taken
 * off the original's (app.log.1 and app.log.2.gz are both app.log's), the
 * copy perhaps with a suffix after '.', '-' or '_', in any directory
 * (logrotate's olddir). Only such a file is taken for a copy: two
 * different files may well hold the same lines. */
static int
named_as_rotation(const char *copy, const char *orig)
{
    const char *c = strrchr(copy, '/'), *o = strrchr(orig, '/');
    c = c ? c + 1 : copy;
    o = o ? o + 1 : orig;
    size_t n = stem_length(o);
    return strncmp(c, o, n) == 0 && (c[n] == '\0' || c[n] == '.' || c[n] == '-' || c[n] == '_');
}

/* An open file that `fd` (of `size` bytes, first bytes h/len) is a copy of,
 * or, shorter than a fingerprint, may be becoming one. */
static tail_file *
copy_of_open(tail_ctx *t, const char *path, int fd, uint64_t size, uint64_t h, uint32_t len,
             const tail_file *self)
{
    for (tail_file *g = t->files; g; g = g->next) {
        if (g == self || g->closed || g->gz || !named_as_rotation(path, g->path))
            continue;
        /* Its own fingerprint grows only as it is read: it may be behind
         * what the file holds, which the copy has. */
        if (g->fp_len < TAIL_FP_MAX)
            tail_fingerprint(g->fd, &g->fp_hash, &g->fp_len);
        if (g->fp_len < len)
            continue;
        ssize_t n;
        if ((g->fp_len == len ? g->fp_hash : tail_hash_prefix(g->fd, len, &n)) != h)
            continue;
        if (len < TAIL_FP_MAX) /* still being written, or a copy of a short file */
            return g;
        uint64_t x = size < g->token_off ? size : g->token_off;
        if (x == 0)
            continue;
        if (tail_check(fd, x) == tail_check(g->fd, x))
            return g;
        /* Truncated since tail_copy_kind looked (copytruncate is copy,
         * then truncate): the copy is judged again once that is noticed. */
        struct stat st;
        if (fstat(g->fd, &st) == 0 && (uint64_t)st.st_size < x)
            return g;
    }
    return NULL;
}

tail_copy
tail_copy_kind(tail_ctx *t, const char *path, int fd, uint64_t size, const tail_file *self,
               tail_db_entry **from)
{
    uint64_t h;
    uint32_t len;
    tail_fingerprint(fd, &h, &len);
    if (len == 0)
        return COPY_NONE;
    /* A truncation not noticed yet would hide that this is its copy. */
    for (tail_file *g = t->files; g; g = g->next)
        if (g != self)
            tail_file_check_truncation(g);
    /* A copy of what a file still followed held before copytruncate
     * truncated it: the same first bytes, and the same bytes before the
     * offset up to which the pipeline has that stream; shorter than that,
     * still being written (or older than what was read): wait. */
    for (tail_file *g = t->files; len == TAIL_FP_MAX && g; g = g->next) {
        if (g->closed || !named_as_rotation(path, g->path))
            continue;
        for (int k = 0; k < TAIL_RETIRED_MAX; k++) {
            const retired_stream *r = &g->retired[k];
            if (!r->have || r->fp_len != TAIL_FP_MAX || r->fp_hash != h)
                continue;
            if (size < r->emitted)
                return COPY_WAIT;
            tail_db_entry *e = tail_db_find_retired(&t->db, g->dev, g->ino, r->epoch);
            if (e && tail_check(fd, r->emitted) == r->check) {
                *from = e;
                return COPY_RETIRED;
            }
        }
    }
    /* After a restart: the same, against the offset acknowledged. */
    for (size_t i = 0; len == TAIL_FP_MAX && i < t->db.n; i++) {
        tail_db_entry *e = &t->db.v[i];
        if (!(e->flags & DB_RETIRED) || e->fp_len != TAIL_FP_MAX || e->fp_hash != h ||
            e->offset == 0 || !named_as_rotation(path, e->path))
            continue;
        if (size < e->offset)
            return COPY_WAIT;
        if (tail_check(fd, e->offset) == e->check) {
            *from = e;
            return COPY_RETIRED;
        }
    }
    return copy_of_open(t, path, fd, size, h, len, self) ? COPY_WAIT : COPY_NONE;
}

/* Open the copy `fd` of the retired stream `r`, from where it stopped:
 * the offset the pipeline has everything before, when its file is still
 * followed (and then that file's pending acknowledgements move to the
 * copy), or the acknowledged offset. */
/* The retired stream of a followed file that the retired entry `r` is, if
 * that file is still followed. */
static retired_stream *
live_retired(tail_ctx *t, const tail_db_entry *r, tail_file **g)
{
    *g = r->epoch == TAIL_EPOCH_NONE ? NULL : find_open(t, r->dev, r->ino);
    retired_stream *rs = *g ? &(*g)->retired[r->epoch % TAIL_RETIRED_MAX] : NULL;
    return rs && rs->have && rs->epoch == r->epoch ? rs : NULL;
}

/* Open the copy `fd` of the retired stream `r`, from where it stopped:
 * the offset the pipeline has everything before, when its file is still
 * followed (and then that file's pending acknowledgements of it move to
 * the copy), or the acknowledged offset. */
static void
open_copy(tail_ctx *t, const found_file *ff, int fd, tail_db_entry *r)
{
    uint64_t committed = r->offset, check = r->check, off = committed;
    tail_file *g;
    retired_stream *rs = live_retired(t, r, &g);
    uint32_t epoch = r->epoch;
    if (rs && rs->emitted <= (uint64_t)ff->st.st_size && tail_check(fd, rs->emitted) == rs->check)
        off = rs->emitted;
    char *was = sluice_strdup(r->path);
    tail_db_drop(&t->db, r); /* the copy carries the stream now */
    tail_file *f = tail_file_open(t, ff->path, fd, NULL, (uint64_t)ff->st.st_dev,
                                  (uint64_t)ff->st.st_ino, off, committed, check);
    if (rs) {
        tail_move_acks(t, g, epoch, f);
        rs->have = 0;
    }
    t->copies++;
    sluice_info(t->ins, "%s is a copy of what %s held before it was truncated (copytruncate): "
                        "reading it from offset %llu, where that stream stopped",
                ff->path, was, (unsigned long long)off);
    free(was);
    log_start(t, ff->path, off, (uint64_t)ff->st.st_size, START_COPY);
    tail_mark_readable(f);
}

static void
open_new(tail_ctx *t, found_file *ff)
{
    if (too_old(t, &ff->st))
        return;
    int fd = open_file(t, ff);
    if (fd < 0)
        return;
    int too_short;
    const char *format = tail_compression_of(fd, &too_short);
    if (format) { /* it got its first bytes since the scan */
        close(fd);
        open_compressed(t, ff, format);
        return;
    }
    uint64_t size = (uint64_t)ff->st.st_size;
    tail_db_entry *r = NULL;
    switch (tail_copy_kind(t, ff->path, fd, size, NULL, &r)) {
    case COPY_RETIRED:
        open_copy(t, ff, fd, r);
        return;
    case COPY_WAIT:
        /* Being copied from a file still followed (its lines come from that
         * file; once the original is truncated, the copy is resumed where
         * it stopped), or from one truncated already, not finished yet. */
        sluice_debug(t->ins, "%s looks like a copy being made; waiting", ff->path);
        close(fd);
        return;
    case COPY_NONE:
        break;
    }
    /* Only at the very first start do existing files begin at their end;
     * a file that appeared while sluice was down is read from its head. */
    int at_end = !t->first_scan_done && t->first_start && !t->cfg->read_from_head;
    uint64_t off = at_end ? size : 0;
    tail_file *f = tail_file_open(t, ff->path, fd, NULL, (uint64_t)ff->st.st_dev,
                                  (uint64_t)ff->st.st_ino, off, off, 0);
    f->unproven = too_short; /* judged again when its first bytes arrive */
    log_start(t, ff->path, off, size, at_end ? START_END : START_HEAD);
    tail_mark_readable(f);
}

/* ==== Round 3: compressed files ==== */

typedef enum gz_verdict { GZ_SKIP, GZ_WAIT, GZ_READ } gz_verdict;

/* Any file being read (or with acknowledgements pending) of that inode. */
static tail_file *
held(tail_ctx *t, uint64_t dev, uint64_t ino)
{
    for (tail_file *f = t->files; f; f = f->next)
        if (f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

/* Whether a compressed rotation holds lines never read, and from where:
 *   - its first bytes are those of a stream still read (the file is here
 *     or still open): a compressed copy of it: skip;
 *   - those of what a followed file held before copytruncate truncated it:
 *     read from where the pipeline has that stream, taking over its
 *     pending acknowledgements (*g set);
 *   - those of a stream whose file is gone (rotated and compressed while
 *     sluice was down): read from where it was acknowledged;
 *   - nothing known: written and rotated while sluice was down, so read
 *     from its start, except for archives already there at the very first
 *     start, which are skipped.
 * One still being compressed, too short to tell, waits. */
static gz_verdict
judge_compressed(tail_ctx *t, const char *path, gzFile gz, uint64_t *off, uint64_t *check,
                 char **was, tail_file **g, uint32_t *epoch)
{
    uint64_t h, c;
    uint32_t len;
    if (tail_gz_fingerprint(gz, &h, &len) || len == 0)
        return GZ_WAIT;
    /* A truncation not noticed yet would hide that this is its copy. */
    for (tail_file *f = t->files; f; f = f->next)
        tail_file_check_truncation(f);
    *g = NULL;
    for (size_t i = 0; i < t->db.n; i++) {
        tail_db_entry *e = &t->db.v[i];
        if ((e->flags & DB_COMPRESSED) || !e->fp_len || e->fp_hash != h ||
            (e->fp_len != len && e->fp_len != TAIL_FP_MAX) || !named_as_rotation(path, e->path))
            continue;
        uint64_t from = e->offset, from_check = e->check;
        if (e->flags & DB_RETIRED) {
            retired_stream *rs = live_retired(t, e, g);
            if (rs) {
                from = rs->emitted;
                from_check = rs->check;
                *epoch = rs->epoch;
            } else {
                *g = NULL;
            }
        } else if (held(t, e->dev, e->ino) || e->gen == t->gen) {
            return GZ_SKIP; /* the stream it copies is still read */
        }
        int more = 1;
        if (from) {
            if (tail_gz_check(gz, from, &c, &more))
                return GZ_WAIT; /* not all written yet */
            if (c != from_check) {
                *g = NULL;
                continue;
            }
        }
        if (!more && !*g) {
            tail_db_drop(&t->db, e); /* read to its end: the copy is done */
            return GZ_SKIP;
        }
        *off = from;
        *check = from_check;
        *was = sluice_strdup(e->path);
        if (!*g)
            tail_db_drop(&t->db, e); /* the compressed file carries the stream now */
        return GZ_READ;
    }
    if (!t->first_scan_done && t->first_start)
        return GZ_SKIP;
    *off = *check = 0;
    *was = NULL;
    return GZ_READ;
}

/* A compressed file found by the scan: read it, decompressed, only when
 * it holds lines sluice never read (judge_compressed: the rotation of a
 * file read up to an offset, or written and rotated while sluice was
 * down), taking over the acknowledgements of the stream it continues.
 * Otherwise it is remembered as done, so that it is not judged again.
 * Owns the fd (or gzFile) it opens until tail_file_open takes it. */
static void
open_compressed(tail_ctx *t, found_file *ff, const char *format)
{
    uint64_t dev = (uint64_t)ff->st.st_dev, ino = (uint64_t)ff->st.st_ino;
    int fd = open_file(t, ff);
    if (fd < 0)
        return;
    gzFile gz = strcmp(format, "gzip") == 0 ? gzdopen(fd, "rb") : NULL;
    uint64_t off = 0, check = 0;
    char *was = NULL;
    tail_file *g = NULL;
    uint32_t epoch = 0;
    gz_verdict v =
        gz ? judge_compressed(t, ff->path, gz, &off, &check, &was, &g, &epoch) : GZ_SKIP;
    if (v != GZ_READ) {
        uint64_t h;
        uint32_t len;
        tail_fingerprint(fd, &h, &len);
        if (gz)
            gzclose(gz);
        else
            close(fd);
        if (v == GZ_WAIT)
            return;
        t->compressed_skipped++;
        sluice_info(t->ins, "not reading %s: it is %s-compressed and holds no lines sluice left "
                            "unread (add it to exclude_path to silence this)",
                    ff->path, format);
        tail_db_entry *e = tail_db_set(&t->db, dev, ino, h, len, 0, 0, ff->path);
        e->flags |= DB_COMPRESSED | DB_DONE;
        tail_db_seen(e, t->gen, uv_now(t->loop));
        t->db_dirty = 1;
        return;
    }
    /* The committed offset of a retired stream taken over stays where it
     * was acknowledged; what the pipeline holds past it is acknowledged
     * through the acks moved below. */
    uint64_t committed = off;
    if (g) {
        tail_db_entry *r = tail_db_find_retired(&t->db, g->dev, g->ino, epoch);
        committed = r ? r->offset : 0;
        check = r ? r->check : 0;
        if (r)
            tail_db_drop(&t->db, r);
    }
    tail_file *f = tail_file_open(t, ff->path, fd, gz, dev, ino, off, committed, check);
    if (g) {
        tail_move_acks(t, g, epoch, f);
        g->retired[epoch % TAIL_RETIRED_MAX].have = 0;
    }
    t->compressed_read++;
    if (was)
        sluice_info(t->ins, "%s is a compressed rotation of %s, whose lines from offset %llu were "
                            "never read: reading them decompressed",
                    ff->path, was, (unsigned long long)off);
    else
        sluice_info(t->ins, "%s is a compressed rotation of lines never read (written and "
                            "rotated while sluice was down): reading it decompressed",
                    ff->path);
    free(was);
    log_start(t, ff->path, off, (uint64_t)ff->st.st_size, START_COMPRESSED);
    tail_mark_readable(f);
}

/* ==== The rescan ==== */

static void
collect(void *arg, const char *path)
{
    found_list *l = arg;
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    for (size_t i = 0; i < l->n; i++) /* matched by two patterns */
        if (l->v[i].st.st_ino == st.st_ino && l->v[i].st.st_dev == st.st_dev)
            return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = sluice_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (found_file){sluice_strdup(path), st, 0};
}

/* After a crash, a file whose lines were not all acknowledged may have been
 * rotated away from the globs: look for its inode next to its old path and
 * finish it. */
static void
recover_rotated(tail_ctx *t)
{
    for (size_t i = 0; i < t->db.n; i++) {
        tail_db_entry *e = &t->db.v[i];
        if (e->gen == t->gen || (e->flags & (DB_RETIRED | DB_COMPRESSED)) ||
            find_open(t, e->dev, e->ino))
            continue;
        char *copy = sluice_strdup(e->path);
        DIR *d = opendir(dirname(copy));
        int resumed = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) && !resumed) {
            if ((uint64_t)de->d_ino != e->ino)
                continue;
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", copy, de->d_name);
            struct stat st;
            int fd = stat(full, &st) == 0 && (uint64_t)st.st_dev == e->dev
                         ? open(full, O_RDONLY | O_CLOEXEC)
                         : -1;
            if (fd < 0)
                continue;
            if (!same_stream(fd, &st, e)) {
                close(fd);
                continue; /* not the same file */
            }
            char *was = sluice_strdup(e->path);
            tail_file *f = tail_file_open(t, full, fd, NULL, e->dev, e->ino, e->offset,
                                          e->offset, e->check);
            f->rotated = 1;
            f->rotated_at = uv_now(t->loop);
            sluice_info(t->ins, "resuming %s (was %s) at offset %llu: its lines were not all "
                                "acknowledged",
                        full, was, (unsigned long long)f->read_off);
            free(was);
            tail_mark_readable(f);
            resumed = 1;
            e = NULL; /* the table may have moved */
        }
        if (d)
            closedir(d);
        free(copy);
    }
}

/* Forget the offsets of files that no glob has matched for a while and
 * that are not being read. Not at once: a compressed rotation still being
 * written waits for the stream whose file was just compressed away. */
static void
prune(tail_ctx *t)
{
    uint64_t now = uv_now(t->loop), keep = (uint64_t)(t->cfg->refresh_interval / 1000000) * 2;
    if (keep < 10000)
        keep = 10000;
    for (size_t i = 0; i < t->db.n;) {
        tail_db_entry *e = &t->db.v[i];
        if (e->gen != t->gen && now - e->seen_ms > keep) {
            int held = 0;
            for (tail_file *f = t->files; f; f = f->next)
                held |= f->dev == e->dev && f->ino == e->ino;
            if (!held) {
                tail_db_drop(&t->db, e);
                t->db_dirty = 1;
                continue;
            }
        }
        i++;
    }
}

void
tail_rescan(tail_ctx *t)
{
    const tail_config *cfg = t->cfg;
    t->gen++;
    found_list l = {0};
    for (size_t i = 0; i < cfg->path.n; i++)
        tail_glob(cfg->path.v[i], cfg->exclude_path.v, cfg->exclude_path.n, collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        found_file *ff = &l.v[i];
        tail_db_entry *e = tail_db_find(&t->db, (uint64_t)ff->st.st_dev, (uint64_t)ff->st.st_ino);
        if (e || find_open(t, (uint64_t)ff->st.st_dev, (uint64_t)ff->st.st_ino)) {
            ff->round = 1;
            tail_db_touch(&t->db, (uint64_t)ff->st.st_dev, (uint64_t)ff->st.st_ino, t->gen,
                          uv_now(t->loop));
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        found_file *ff = &l.v[i];
        if (ff->round)
            continue;
        int fd = open(ff->path, O_RDONLY | O_CLOEXEC);
        ff->round = fd >= 0 && tail_compression(fd) ? 3 : 2;
        if (fd >= 0)
            close(fd);
    }
    for (int round = 1; round <= 3; round++)
        for (size_t i = 0; i < l.n; i++) {
            found_file *ff = &l.v[i];
            if (ff->round != round)
                continue;
            uint64_t dev = (uint64_t)ff->st.st_dev, ino = (uint64_t)ff->st.st_ino;
            tail_db_entry *e = tail_db_find(&t->db, dev, ino);
            if (round == 1 && e)
                open_known(t, ff, e);
            else if (round == 2 && !find_open(t, dev, ino))
                open_new(t, ff);
            else if (round == 3 && !held(t, dev, ino) && !tail_db_find(&t->db, dev, ino)) {
                int fd = open(ff->path, O_RDONLY | O_CLOEXEC);
                const char *format = fd >= 0 ? tail_compression(fd) : NULL;
                if (fd >= 0)
                    close(fd);
                if (format)
                    open_compressed(t, ff, format);
            }
        }
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].path);
    free(l.v);
    if (!t->first_scan_done) {
        t->first_scan_done = 1;
        recover_rotated(t);
    }
    prune(t);
}

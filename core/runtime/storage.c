/* Chunk files of the filesystem buffer (see storage.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline.h"
#include "sluice/fs.h"
#include "storage.h"
#include "xalloc.h"

static uint64_t file_counter;

int
storage_init(out_buffer *b, const char *root)
{
    b->dir = xasprintf("%s/%s/%s", root, sluice_instance_pipeline(b->ins),
                       sluice_instance_id(b->ins));
    char *corrupt = xasprintf("%s/corrupt", b->dir);
    int r = sluice_mkdirs(corrupt, 0750);
    if (r < 0)
        sluice_error(b->ins, "cannot create the buffer directory %s: %s", corrupt,
                     strerror(errno));
    free(corrupt);
    return r;
}

static char *
new_path(const out_buffer *b, sluice_time_t created)
{
    return xasprintf("%s/%020lld-%d-%llu.chunk", b->dir, (long long)created, (int)getpid(),
                     (unsigned long long)++file_counter);
}

/* A file that cannot be written is let go: the chunk then lives in memory
 * only for that output, which is logged once per failure. What it already
 * holds stays on disk (inputs may have committed past it) and is recovered
 * at the next start. */
static void
file_failed(chunk_file *f, const char *what)
{
    int err = errno;
    sluice_error(f->buf->ins, "%s %s: %s; this chunk is buffered in memory only%s", what,
                 f->path, strerror(err),
                 f->written ? " (what the file holds is kept for the next start)" : "");
    f->buf->storage_errors++;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (!f->written)
        unlink(f->path);
    free(f->path);
    f->path = NULL;
}

void
storage_chunk_open(chunk *c, out_buffer *const *bufs)
{
    c->files = xcalloc(c->n_takers, sizeof *c->files);
    c->all_on_disk = c->n_takers > 0;
    for (size_t i = 0; i < c->n_takers; i++) {
        chunk_file *f = &c->files[i];
        f->fd = -1;
        if (!bufs[i]) {
            c->all_on_disk = 0;
            continue;
        }
        f->buf = bufs[i];
        f->path = new_path(f->buf, c->created);
        f->fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        unsigned char head[CHUNK_HEADER_SIZE];
        chunk_encode_header(c, 1, head);
        if (f->fd < 0 || sluice_write_all(f->fd, head, sizeof head) < 0) {
            file_failed(f, "cannot create chunk file");
            continue;
        }
        buffer_disk(f->buf, CHUNK_HEADER_SIZE);
    }
}

void
storage_chunk_sync(chunk *c)
{
    for (size_t i = 0; c->files && i < c->n_takers; i++) {
        chunk_file *f = &c->files[i];
        if (f->fd < 0 || c->buf.size == f->written)
            continue;
        size_t n = c->buf.size - f->written;
        if (sluice_write_all(f->fd, c->buf.data + f->written, n) < 0) {
            buffer_disk(f->buf, -(int64_t)(CHUNK_HEADER_SIZE + f->written));
            file_failed(f, "cannot write chunk file");
            continue;
        }
        f->written += n;
        buffer_disk(f->buf, (int64_t)n);
        f->dirty = 1;
        if (f->buf->settings->fsync == FSYNC_ALWAYS) {
            fdatasync(f->fd);
            f->dirty = 0;
        }
    }
    /* Every taker has these bytes in its file (fdatasync'ed with fsync:
     * always; with interval or never, safe from a crash of sluice but not
     * of the machine): inputs may commit past them. */
    int safe = c->all_on_disk && c->mark;
    for (size_t i = 0; safe && i < c->n_takers; i++)
        safe = c->files[i].fd >= 0 && c->files[i].written == c->buf.size;
    if (safe)
        ack_mark_written(c->mark, c->buf.size);
}

void
storage_chunk_fsync(chunk *c)
{
    for (size_t i = 0; c->files && i < c->n_takers; i++)
        if (c->files[i].fd >= 0 && c->files[i].dirty) {
            fdatasync(c->files[i].fd);
            c->files[i].dirty = 0;
        }
}

void
storage_chunk_close(chunk *c)
{
    storage_chunk_sync(c);
    unsigned char head[CHUNK_HEADER_SIZE];
    chunk_encode_header(c, 0, head);
    for (size_t i = 0; c->files && i < c->n_takers; i++) {
        chunk_file *f = &c->files[i];
        if (f->fd < 0)
            continue;
        if (pwrite(f->fd, head, sizeof head, 0) != (ssize_t)sizeof head) {
            buffer_disk(f->buf, -(int64_t)(CHUNK_HEADER_SIZE + f->written));
            file_failed(f, "cannot close chunk file");
            continue;
        }
        if (f->buf->settings->fsync != FSYNC_NEVER)
            fdatasync(f->fd);
        close(f->fd);
        f->fd = -1;
    }
}

void
storage_chunk_discard(chunk *c)
{
    for (size_t i = 0; c->files && i < c->n_takers; i++) {
        chunk_file *f = &c->files[i];
        if (f->fd >= 0)
            close(f->fd);
        if (f->path) {
            unlink(f->path);
            buffer_disk(f->buf, -(int64_t)(CHUNK_HEADER_SIZE + f->written));
            free(f->path);
        }
    }
    free(c->files);
    c->files = NULL;
}

char *
storage_write(out_buffer *b, const chunk *c, uint64_t *bytes)
{
    char *path = new_path(b, c->created);
    unsigned char head[CHUNK_HEADER_SIZE];
    chunk_encode_header(c, 0, head);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0 || sluice_write_all(fd, head, sizeof head) < 0 ||
        sluice_write_all(fd, c->buf.data, c->buf.size) < 0 ||
        (b->settings->fsync != FSYNC_NEVER && fdatasync(fd) < 0)) {
        sluice_error(b->ins, "cannot write chunk file %s: %s", path, strerror(errno));
        b->storage_errors++;
        if (fd >= 0)
            close(fd);
        unlink(path);
        free(path);
        return NULL;
    }
    close(fd);
    *bytes = CHUNK_HEADER_SIZE + c->buf.size;
    buffer_disk(b, (int64_t)*bytes);
    return path;
}

void
storage_remove(out_buffer *b, const char *path, uint64_t bytes)
{
    if (unlink(path) != 0 && errno != ENOENT)
        sluice_warn(b->ins, "cannot delete delivered chunk file %s: %s", path, strerror(errno));
    buffer_disk(b, -(int64_t)bytes);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    unsigned char *buf = xmalloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

static void
set_aside(out_buffer *b, const char *path, const char *why)
{
    const char *base = strrchr(path, '/');
    char *dest = xasprintf("%s/corrupt%s", b->dir, base ? base : "/chunk");
    if (rename(path, dest) == 0)
        sluice_error(b->ins, "chunk file %s is corrupt (%s); moved to %s", path, why, dest);
    else
        sluice_error(b->ins, "chunk file %s is corrupt (%s) and cannot be moved aside: %s", path,
                     why, strerror(errno));
    b->corrupt_chunks++;
    free(dest);
}

chunk *
storage_read(out_buffer *b, const char *path)
{
    size_t len = 0;
    unsigned char *data = slurp(path, &len);
    if (!data) {
        sluice_error(b->ins, "cannot read chunk file %s: %s", path, strerror(errno));
        b->storage_errors++;
        return NULL;
    }
    chunk_header h;
    chunk_status st = chunk_decode(data, len, &h);
    const unsigned char *payload = data + CHUNK_HEADER_SIZE;
    size_t plen = len > CHUNK_HEADER_SIZE ? len - CHUNK_HEADER_SIZE : 0;
    uint32_t count = h.count;
    if (st == CHUNK_OPEN || (st == CHUNK_TRUNCATED && len >= CHUNK_HEADER_SIZE)) {
        /* Never closed, or cut short: keep every complete event. */
        size_t keep = chunk_salvage(payload, plen, &count);
        if (keep < plen) {
            b->torn_records++;
            sluice_warn(b->ins, "chunk file %s: kept %u events, cut a torn tail of %zu bytes",
                        path, count, plen - keep);
        }
        plen = keep;
    } else if (st == CHUNK_VALID) {
        plen = h.payload_len;
    } else {
        set_aside(b, path, chunk_status_str(st));
        free(data);
        return NULL;
    }
    if (count == 0) {
        unlink(path);
        free(data);
        return NULL;
    }
    chunk *c = chunk_new(b->ins->pipeline, h.kind, plen ? plen : 1);
    memcpy(c->buf.data, payload, plen);
    c->buf.size = plen;
    c->count = count;
    c->created = h.created;
    free(data);
    return c;
}

uint32_t
storage_count_events(const char *path)
{
    size_t len = 0;
    unsigned char *data = slurp(path, &len);
    if (!data)
        return 0;
    uint32_t count = 0;
    if (len > CHUNK_HEADER_SIZE)
        chunk_salvage(data + CHUNK_HEADER_SIZE, len - CHUNK_HEADER_SIZE, &count);
    free(data);
    return count;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

stored_chunk *
storage_recover(out_buffer *b, size_t *count)
{
    *count = 0;
    DIR *d = opendir(b->dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 6 && strcmp(de->d_name + len - 6, ".chunk") == 0) {
            names = xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = xstrdup(de->d_name);
        }
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, compare_names);
    stored_chunk *v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", b->dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0) {
            buffer_disk(b, (int64_t)st.st_size);
            v[(*count)++] = (stored_chunk){path, (uint64_t)st.st_size};
        } else {
            free(path);
        }
        free(names[i]);
    }
    free(names);
    if (*count)
        sluice_info(b->ins, "found %zu chunk files from an earlier run in %s", *count, b->dir);
    return v;
}

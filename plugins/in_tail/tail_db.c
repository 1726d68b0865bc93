/* The tail offsets table (see tail_db.h). After a header line, one line
 * per entry:
 *   dev ino fingerprint-hash fingerprint-length offset check flags path */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/alloc.h>
#include "tail_db.h"

#define DB_HEADER "# sluice tail offsets 2\n"

static tail_db_entry *
find(tail_db *db, uint64_t dev, uint64_t ino, unsigned retired)
{
    for (size_t i = 0; i < db->n; i++)
        if (db->v[i].dev == dev && db->v[i].ino == ino &&
            (db->v[i].flags & DB_RETIRED) == retired)
            return &db->v[i];
    return NULL;
}

tail_db_entry *
tail_db_find(tail_db *db, uint64_t dev, uint64_t ino)
{
    return find(db, dev, ino, 0);
}

tail_db_entry *
tail_db_find_retired(tail_db *db, uint64_t dev, uint64_t ino, uint32_t epoch)
{
    for (size_t i = 0; i < db->n; i++) {
        tail_db_entry *e = &db->v[i];
        if (e->dev == dev && e->ino == ino && (e->flags & DB_RETIRED) && e->epoch == epoch)
            return e;
    }
    return NULL;
}

void
tail_db_seen(tail_db_entry *e, uint64_t gen, uint64_t now_ms)
{
    e->gen = gen;
    e->seen_ms = now_ms;
}

void
tail_db_touch(tail_db *db, uint64_t dev, uint64_t ino, uint64_t gen, uint64_t now_ms)
{
    for (size_t i = 0; i < db->n; i++)
        if (db->v[i].dev == dev && db->v[i].ino == ino)
            tail_db_seen(&db->v[i], gen, now_ms);
}

static tail_db_entry *
add(tail_db *db, uint64_t dev, uint64_t ino, unsigned flags)
{
    if (db->n == db->cap) {
        db->cap = db->cap ? db->cap * 2 : 16;
        db->v = sluice_realloc(db->v, db->cap * sizeof *db->v);
    }
    tail_db_entry *e = &db->v[db->n++];
    memset(e, 0, sizeof *e);
    e->dev = dev;
    e->ino = ino;
    e->flags = flags;
    return e;
}

static void
set_path(tail_db_entry *e, const char *path)
{
    if (!e->path || strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = sluice_strdup(path);
    }
}

tail_db_entry *
tail_db_set(tail_db *db, uint64_t dev, uint64_t ino, uint64_t fp_hash, uint32_t fp_len,
            uint64_t offset, uint64_t check, const char *path)
{
    tail_db_entry *e = tail_db_find(db, dev, ino);
    if (!e)
        e = add(db, dev, ino, 0);
    e->fp_hash = fp_hash;
    e->fp_len = fp_len;
    e->offset = offset;
    e->check = check;
    set_path(e, path);
    return e;
}

void
tail_db_drop(tail_db *db, tail_db_entry *e)
{
    free(e->path);
    *e = db->v[--db->n];
}

void
tail_db_retire(tail_db *db, uint64_t dev, uint64_t ino, uint32_t epoch)
{
    size_t n = 0;
    tail_db_entry *oldest = NULL;
    for (size_t i = 0; i < db->n; i++) {
        tail_db_entry *e = &db->v[i];
        if (e->dev != dev || e->ino != ino || !(e->flags & DB_RETIRED))
            continue;
        n++;
        /* Loaded entries (TAIL_EPOCH_NONE) are older than this run's. */
        uint32_t age = e->epoch == TAIL_EPOCH_NONE ? 0 : e->epoch + 1;
        if (!oldest || age < (oldest->epoch == TAIL_EPOCH_NONE ? 0 : oldest->epoch + 1))
            oldest = e;
    }
    if (n >= TAIL_RETIRED_MAX)
        tail_db_drop(db, oldest);
    tail_db_entry *e = tail_db_find(db, dev, ino);
    if (e) {
        e->flags = DB_RETIRED;
        e->epoch = epoch;
    }
}

void
tail_db_remove(tail_db *db, uint64_t dev, uint64_t ino)
{
    tail_db_entry *e;
    while ((e = find(db, dev, ino, 0)) || (e = find(db, dev, ino, DB_RETIRED)))
        tail_db_drop(db, e);
}

int
tail_db_load(tail_db *db, const char *path)
{
    memset(db, 0, sizeof *db);
    db->path = sluice_strdup(path);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[8192];
    int v2 = fgets(line, sizeof line, f) && strcmp(line, DB_HEADER) == 0;
    if (!v2)
        rewind(f);
    while (fgets(line, sizeof line, f)) {
        tail_db_entry e = {0};
        int pos = 0, got;
        if (v2)
            got = sscanf(line,
                         "%" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNu32 " %" SCNu64 " %" SCNx64
                         " %u %n",
                         &e.dev, &e.ino, &e.fp_hash, &e.fp_len, &e.offset, &e.check, &e.flags,
                         &pos) == 7;
        else
            got = sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNu32 " %" SCNu64 " %n",
                         &e.dev, &e.ino, &e.fp_hash, &e.fp_len, &e.offset, &pos) == 5;
        if (!got || (!(e.flags & DB_RETIRED) && find(db, e.dev, e.ino, 0)))
            continue; /* a damaged line loses one file's offset, not the table */
        e.epoch = TAIL_EPOCH_NONE;
        char *p = line + pos;
        p[strcspn(p, "\n")] = '\0';
        tail_db_entry *n = add(db, e.dev, e.ino, e.flags);
        char *keep_path = sluice_strdup(p);
        *n = e;
        n->path = keep_path;
    }
    fclose(f);
    return 0;
}

int
tail_db_save(const tail_db *db)
{
    size_t len = strlen(db->path);
    char *tmp = sluice_malloc(len + 5);
    memcpy(tmp, db->path, len);
    memcpy(tmp + len, ".new", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    fputs(DB_HEADER, f);
    for (size_t i = 0; i < db->n; i++) {
        const tail_db_entry *e = &db->v[i];
        if (strchr(e->path, '\n'))
            continue;
        fprintf(f, "%" PRIu64 " %" PRIu64 " %016" PRIx64 " %" PRIu32 " %" PRIu64 " %016" PRIx64
                   " %u %s\n",
                e->dev, e->ino, e->fp_hash, e->fp_len, e->offset, e->check, e->flags, e->path);
    }
    int bad = fflush(f) != 0 || ferror(f);
    bad |= fclose(f) != 0;
    bad = bad || rename(tmp, db->path) != 0;
    if (bad)
        unlink(tmp);
    free(tmp);
    return bad ? -1 : 0;
}

void
tail_db_free(tail_db *db)
{
    for (size_t i = 0; i < db->n; i++)
        free(db->v[i].path);
    free(db->v);
    free(db->path);
    memset(db, 0, sizeof *db);
}

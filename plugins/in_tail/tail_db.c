/* The tail offsets table (see tail_db.h). One line per file:
 *   dev ino fingerprint-hash fingerprint-length offset path */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tail_db.h"

int
tail_db_load(tail_db *db, const char *path)
{
    memset(db, 0, sizeof *db);
    db->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        tail_db_entry e = {0};
        int pos = 0;
        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNx64 " %" SCNu32 " %" SCNu64 " %n", &e.dev,
                   &e.ino, &e.fp_hash, &e.fp_len, &e.offset, &pos) != 5)
            continue; /* a damaged line loses one file's offset, not the table */
        char *p = line + pos;
        p[strcspn(p, "\n")] = '\0';
        tail_db_set(db, e.dev, e.ino, e.fp_hash, e.fp_len, e.offset, p);
    }
    fclose(f);
    return 0;
}

tail_db_entry *
tail_db_find(tail_db *db, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < db->n; i++)
        if (db->v[i].dev == dev && db->v[i].ino == ino)
            return &db->v[i];
    return NULL;
}

void
tail_db_set(tail_db *db, uint64_t dev, uint64_t ino, uint64_t fp_hash, uint32_t fp_len,
            uint64_t offset, const char *path)
{
    tail_db_entry *e = tail_db_find(db, dev, ino);
    if (!e) {
        if (db->n == db->cap) {
            db->cap = db->cap ? db->cap * 2 : 16;
            db->v = realloc(db->v, db->cap * sizeof *db->v);
        }
        e = &db->v[db->n++];
        memset(e, 0, sizeof *e);
        e->dev = dev;
        e->ino = ino;
    }
    e->fp_hash = fp_hash;
    e->fp_len = fp_len;
    e->offset = offset;
    if (!e->path || strcmp(e->path, path) != 0) {
        free(e->path);
        e->path = strdup(path);
    }
}

void
tail_db_remove(tail_db *db, uint64_t dev, uint64_t ino)
{
    tail_db_entry *e = tail_db_find(db, dev, ino);
    if (!e)
        return;
    free(e->path);
    *e = db->v[--db->n];
}

int
tail_db_save(const tail_db *db)
{
    size_t len = strlen(db->path);
    char *tmp = malloc(len + 5);
    memcpy(tmp, db->path, len);
    memcpy(tmp + len, ".new", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    for (size_t i = 0; i < db->n; i++) {
        const tail_db_entry *e = &db->v[i];
        if (strchr(e->path, '\n'))
            continue;
        fprintf(f, "%" PRIu64 " %" PRIu64 " %016" PRIx64 " %" PRIu32 " %" PRIu64 " %s\n", e->dev,
                e->ino, e->fp_hash, e->fp_len, e->offset, e->path);
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

/* Tail offsets: for every file, identified by device, inode and a
 * fingerprint of its first bytes, the offset up to which its lines are
 * acknowledged. Saved whole, write-new-then-rename, so a crash leaves the
 * old or the new table, never half of one. */
#ifndef TAIL_DB_H
#define TAIL_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct tail_db_entry {
    uint64_t dev, ino;
    uint64_t fp_hash;
    uint32_t fp_len;
    uint64_t offset;
    char *path;
    uint64_t gen; /* the rescan that last matched or opened it */
} tail_db_entry;

typedef struct tail_db {
    char *path;
    tail_db_entry *v;
    size_t n, cap;
} tail_db;

/* Load `path` (a missing file is an empty table). Returns 0 or -1. */
int tail_db_load(tail_db *db, const char *path);
tail_db_entry *tail_db_find(tail_db *db, uint64_t dev, uint64_t ino);
void tail_db_set(tail_db *db, uint64_t dev, uint64_t ino, uint64_t fp_hash, uint32_t fp_len,
                 uint64_t offset, const char *path);
void tail_db_remove(tail_db *db, uint64_t dev, uint64_t ino);
int tail_db_save(const tail_db *db);
void tail_db_free(tail_db *db);

#endif

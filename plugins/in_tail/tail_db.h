/* Tail offsets: for every file, identified by device, inode and a
 * fingerprint of its first bytes, the offset up to which its lines are
 * acknowledged, with a hash of the bytes just before that offset (so that
 * a copy of the file, or the file refilled after a truncation, can be told
 * apart). An inode may also have one retired entry: what it held before it
 * was truncated (copytruncate), kept so that the copy can be resumed where
 * its lines stopped being acknowledged. Saved whole, write-new-then-rename,
 * so a crash leaves the old or the new table, never half of one. An inode
 * keeps its last TAIL_RETIRED_MAX retired entries: under load a file may be
 * truncated twice before its first copy is found. */
#ifndef TAIL_DB_H
#define TAIL_DB_H

#include <stddef.h>
#include <stdint.h>

#define TAIL_RETIRED_MAX 4
#define TAIL_EPOCH_NONE UINT32_MAX /* a retired entry loaded from disk */

enum {
    DB_RETIRED = 1,    /* what the inode held before a truncation */
    DB_COMPRESSED = 2, /* a compressed file, offsets in uncompressed bytes */
    DB_DONE = 4,       /* compressed and read to its end: nothing more */
};

typedef struct tail_db_entry {
    uint64_t dev, ino;
    uint64_t fp_hash;
    uint32_t fp_len;
    uint64_t offset;
    uint64_t check; /* tail_check of the bytes before offset */
    unsigned flags;
    char *path;
    uint64_t gen;   /* the rescan that last matched or opened it */
    uint64_t seen_ms; /* loop time of that rescan (forgotten a while after) */
    uint32_t epoch; /* retired: the file's epoch that held it (this run only) */
} tail_db_entry;

typedef struct tail_db {
    char *path;
    tail_db_entry *v;
    size_t n, cap;
} tail_db;

/* Load `path` (a missing file is an empty table; the one-line-per-file
 * format of earlier versions is read too). Returns 0 or -1. */
int tail_db_load(tail_db *db, const char *path);
/* The entry for what the inode holds now, or NULL. */
tail_db_entry *tail_db_find(tail_db *db, uint64_t dev, uint64_t ino);
/* Its retired entry of `epoch` (see above), or NULL. */
tail_db_entry *tail_db_find_retired(tail_db *db, uint64_t dev, uint64_t ino, uint32_t epoch);
/* Mark an entry, or every entry of the inode, seen in rescan `gen`. */
void tail_db_seen(tail_db_entry *e, uint64_t gen, uint64_t now_ms);
void tail_db_touch(tail_db *db, uint64_t dev, uint64_t ino, uint64_t gen, uint64_t now_ms);
/* Set the current entry of an inode (flags other than DB_RETIRED kept). */
tail_db_entry *tail_db_set(tail_db *db, uint64_t dev, uint64_t ino, uint64_t fp_hash,
                           uint32_t fp_len, uint64_t offset, uint64_t check, const char *path);
/* The inode's content (of the file's `epoch`) is gone, truncated or
 * replaced: its entry becomes a retired one; the oldest beyond
 * TAIL_RETIRED_MAX is dropped. */
void tail_db_retire(tail_db *db, uint64_t dev, uint64_t ino, uint32_t epoch);
/* Remove one entry (pointers into the table are then invalid). */
void tail_db_drop(tail_db *db, tail_db_entry *e);
/* Remove every entry of the inode. */
void tail_db_remove(tail_db *db, uint64_t dev, uint64_t ino);
int tail_db_save(const tail_db *db);
void tail_db_free(tail_db *db);

#endif

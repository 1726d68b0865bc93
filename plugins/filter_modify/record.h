/* A log record opened up for editing by filter_modify: a map whose entries
 * point into the event as read, except those an edit replaced. Nested maps
 * are opened only when a path goes into them; the rest is copied through
 * as packed when the record is written back. */
#ifndef SLUICE_MODIFY_RECORD_H
#define SLUICE_MODIFY_RECORD_H

#include <msgpack.h>

typedef struct rec_map rec_map;

typedef struct rec_entry {
    msgpack_object key;
    msgpack_object val; /* unless `sub` */
    rec_map *sub;       /* an opened nested map */
    int removed;
} rec_entry;

struct rec_map {
    rec_entry *v;
    size_t n, cap;
};

/* Everything one record needs, reused from event to event. */
typedef struct record {
    rec_map root;
    rec_map **maps; /* opened nested maps, to reuse */
    size_t n_maps, cap_maps, used_maps;
    char **strs;    /* strings the edits made */
    size_t n_strs, cap_strs;
} record;

void record_open(record *r, const msgpack_object *map);
/* The entry at `path` (dots separate levels), or NULL. With `create`,
 * missing maps along the way and the entry itself are made (a non-map in
 * the way is replaced by a map); a new entry's value is nil. */
rec_entry *record_find(record *r, const char *path, int create);
/* A copy of an opened map (and the maps opened inside it), so that edits
 * to one do not show in the other. */
rec_map *record_clone(record *r, const rec_map *m);
/* A string owned by the record until the next record_open. */
msgpack_object record_str(record *r, const char *s, size_t n);
void record_pack(const record *r, msgpack_packer *pk);
void record_free(record *r);

#endif

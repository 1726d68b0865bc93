/* in_tail's shared state: configuration, the files being followed, and the
 * acknowledgement queue that turns delivered events into committed
 * offsets. */
#ifndef TAIL_H
#define TAIL_H

#include <sys/types.h>
#include <zlib.h>

#include <sluice/sluice.h>

#include "tail_db.h"
#include "tail_fingerprint.h"
#include "tail_multiline.h"

/* The offsets table is saved at most this often (ms): each save writes a
 * file and renames it, and acknowledgements may come hundreds a second. */
#define TAIL_SAVE_EVERY_MS 50

enum { WATCH_INOTIFY, WATCH_POLL };
enum { LONG_SPLIT, LONG_SKIP };
enum { PARSER_NONE, PARSER_JSON };

typedef struct tail_config {
    sluice_strlist path, exclude_path;
    int watch;
    int64_t refresh_interval, rotate_wait, ignore_older;
    int read_from_head;
    int64_t max_line_size, read_size;
    int long_lines;
    char *key, *path_key, *offset_key;
    int parser;
    /* multiline */
    int ml_preset;
    char *ml_start, *ml_continue;
    int64_t ml_timeout, ml_max_lines, ml_max_bytes;
} tail_config;

typedef struct tail_file tail_file;

/* An offset that becomes committed when its token is acknowledged. */
typedef struct pending_ack {
    uint64_t token;
    tail_file *file;
    uint64_t offset;
    uint64_t check;  /* tail_check at offset */
    uint32_t epoch;  /* the file's epoch when emitted (see tail_file) */
} pending_ack;

typedef struct tail_ctx {
    sluice_instance *ins;
    const tail_config *cfg;
    sluice_emitter *em;
    uv_loop_t *loop;
    tail_file *files;
    size_t n_files;
    char *rbuf; /* one read buffer for every file */
    size_t rcap;
    ml_spec ml;
    int multiline;
    char *state_dir; /* <storage.path>/tail */
    tail_db db;
    int db_dirty;
    pending_ack *acks; /* a FIFO ring */
    size_t acks_head, acks_len, acks_cap;
    uint64_t next_token;
    uv_fs_event_t *dir_watches; /* the patterns' directories (watch: inotify) */
    size_t n_dir_watches;
    uv_idle_t reader;
    sluice_collector *refresh; /* rescans: every refresh_interval, or woken */
    uv_check_t saver;
    uv_idle_t save_soon;   /* active while offsets wait to be saved: no blocking poll */
    uv_timer_t save_later; /* a save that came too soon after the last one */
    uint64_t saved_at;     /* loop time (ms) of the last save */
    int started, paused, stopping, first_scan_done;
    size_t started_resumed, started_at_end, started_at_head; /* the first scan's files */
    int first_start;   /* no offsets table existed: this is the very first start */
    uint64_t gen;      /* rescans so far */
    uint64_t lines, long_split, long_skipped, truncations, rotations, parse_errors;
    uint64_t copies, compressed_read, compressed_skipped;
    msgpack_sbuffer scratch; /* parser: json */
} tail_ctx;

/* What a file held before it was truncated in place (copytruncate): its
 * copy may turn up under another name, to be read from where this stream
 * stopped. Acknowledgements of the old epoch land in the offsets table's
 * retired entry. */
typedef struct retired_stream {
    int have;
    uint32_t epoch;   /* the file's epoch that held it */
    uint64_t fp_hash;
    uint32_t fp_len;
    uint64_t emitted; /* everything before it is in the pipeline */
    uint64_t check;   /* tail_check at emitted */
} retired_stream;

struct tail_file {
    tail_ctx *t;
    tail_file *next;
    char *path;
    int fd;
    gzFile gz;            /* a compressed rotation being read, or NULL */
    int compressed;       /* it is (or was) one */
    int gz_ended;         /* ...read to its end (or found damaged) */
    uint64_t progress_at; /* ...loop ms when it last gave bytes */
    uint64_t dev, ino;
    uint64_t fp_hash;
    uint32_t fp_len;
    uint64_t read_off;    /* bytes consumed from the file (uncompressed) */
    uint64_t token_off;   /* offset of the last token emitted */
    uint64_t check;       /* tail_check at token_off */
    uint64_t committed;   /* acknowledged offset */
    uint32_t epoch;       /* truncations seen; acks of older epochs are retired */
    retired_stream retired[TAIL_RETIRED_MAX]; /* the last ones, by epoch % max */
    char *partial;        /* an incomplete last line */
    size_t partial_len, partial_cap;
    int skipping;         /* long_lines: skip, until the next newline */
    int splitting;        /* long_lines: split, inside a line being split */
    sluice_buf ml;        /* a multiline record being built */
    size_t ml_lines;
    int ml_state;
    uint64_t ml_start;    /* offset of its first line */
    uint64_t ml_touched;  /* loop ms of its last line */
    int readable, rotated, closed;
    int unproven;         /* new and empty when found: may be a copy being made */
    uint64_t rotated_at;  /* loop ms */
    uv_fs_event_t watch;
    int watching, watch_closing, free_when_closed;
    size_t pending;       /* tokens not yet acknowledged */
};

/* tail_scan.c: what a new file `fd` of `size` bytes is to the streams
 * sluice reads or has read. */
typedef enum tail_copy {
    COPY_NONE,    /* its own stream */
    COPY_WAIT,    /* a copy being made, or one of a file still followed */
    COPY_RETIRED, /* the copy of a retired stream (*from), past where it stopped */
} tail_copy;
tail_copy tail_copy_kind(tail_ctx *t, const char *path, int fd, uint64_t size,
                         const tail_file *self, tail_db_entry **from);

/* tail_file.c */
/* Follow `path` (open as `fd`, and as `gz` when compressed) from
 * `offset`; its offsets-table entry says `committed` (at most `offset`)
 * with `check`, the tail_check there. */
tail_file *tail_file_open(tail_ctx *t, const char *path, int fd, gzFile gz, uint64_t dev,
                          uint64_t ino, uint64_t offset, uint64_t committed, uint64_t check);
/* Read up to one read_size of the file and emit its lines. Returns bytes
 * read (0 at end of file). */
size_t tail_file_read(tail_file *f);
/* Whether it was truncated in place (copytruncate), even if refilled since:
 * then what it held is retired and it is read again from the start. */
void tail_file_check_truncation(tail_file *f);
/* Rotation, truncation and deletion; closes a rotated file that is drained
 * and past rotate_wait. */
void tail_file_check(tail_file *f);
/* Emit a multiline record older than the timeout. */
void tail_file_ml_expire(tail_file *f, uint64_t now_ms);
void tail_file_close(tail_file *f);
void tail_file_free(tail_file *f);
/* A compressed rotation read to its end with every line acknowledged is
 * marked done in the offsets table. */
void tail_file_mark_done(tail_file *f);

/* tail.c */
void tail_mark_readable(tail_file *f);
void tail_queue_ack(tail_ctx *t, tail_file *f, uint64_t offset, uint64_t check);
/* Hand `from`'s acknowledgements still pending for its retired stream of
 * `epoch` to `to`, which reads that stream now (a copy). */
void tail_move_acks(tail_ctx *t, tail_file *from, uint32_t epoch, tail_file *to);
/* Rescan the globs at the next loop iteration. */
void tail_rescan_soon(tail_ctx *t);
/* Forget a closed file once its lines are all acknowledged. */
void tail_forget_if_done(tail_ctx *t, tail_file *f);

/* tail_scan.c */
/* Scan the globs: open files not followed yet, from where their stream
 * was acknowledged; recognise copies and compressed rotations; after a
 * restart, finish files rotated away; forget files gone. */
void tail_rescan(tail_ctx *t);

#endif

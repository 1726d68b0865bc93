/* Telling files apart by their content: a fingerprint of the first bytes
 * (a rename keeps it; a new file in a reused inode does not), a check of
 * the bytes just before an offset (a copy agrees with its original up to
 * where the copy was made; a file refilled after a truncation does not),
 * and the magic bytes of compressed rotations. */
#ifndef TAIL_FINGERPRINT_H
#define TAIL_FINGERPRINT_H

#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#define TAIL_FP_MAX 256    /* bytes of a full fingerprint */
#define TAIL_CHECK_LEN 256 /* bytes before an offset that a check covers */

/* FNV-1a of `n` bytes: what fingerprints and checks are made of. */
uint64_t tail_hash(const void *data, size_t n);
/* FNV-1a of `len` bytes starting at 0 (at most TAIL_FP_MAX); *got: how
 * many there were. */
uint64_t tail_hash_prefix(int fd, uint32_t len, ssize_t *got);
/* The fingerprint: the hash of the first TAIL_FP_MAX bytes, or of all of
 * a shorter file (*len says how many). */
void tail_fingerprint(int fd, uint64_t *hash, uint32_t *len);
/* The hash of the TAIL_CHECK_LEN bytes before `off` (fewer near the
 * start); 0 when `off` is past the end. */
uint64_t tail_check(int fd, uint64_t off);

/* "gzip", "bzip2", "xz", "zstd" or "lz4" when the file starts with that
 * format's magic bytes, else NULL. */
const char *tail_compression(int fd);
/* The same from one look at the first bytes, and *too_short set when the
 * file is shorter than some format's magic bytes and starts like them
 * (empty included): a compressed file being written, perhaps. */
const char *tail_compression_of(int fd, int *too_short);
/* gzip: the fingerprint and the check of the uncompressed content; `gz`
 * is rewound. Each returns 1 when the file ends in the middle of its gzip
 * stream (still being written), else 0. A check past the end is 0; `more`,
 * when not NULL, is set to whether any content follows `off`. */
int tail_gz_fingerprint(gzFile gz, uint64_t *hash, uint32_t *len);
int tail_gz_check(gzFile gz, uint64_t off, uint64_t *check, int *more);

#endif

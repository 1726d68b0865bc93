/* Fingerprints, checks and compression magic (see tail_fingerprint.h). */
#include <string.h>
#include <unistd.h>

#include "tail_fingerprint.h"

uint64_t
tail_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

uint64_t
tail_hash_prefix(int fd, uint32_t len, ssize_t *got)
{
    unsigned char buf[TAIL_FP_MAX];
    ssize_t n = pread(fd, buf, len < TAIL_FP_MAX ? len : TAIL_FP_MAX, 0);
    *got = n > 0 ? n : 0;
    return tail_hash(buf, (size_t)*got);
}

void
tail_fingerprint(int fd, uint64_t *hash, uint32_t *len)
{
    ssize_t n;
    *hash = tail_hash_prefix(fd, TAIL_FP_MAX, &n);
    *len = (uint32_t)n;
}

uint64_t
tail_check(int fd, uint64_t off)
{
    unsigned char buf[TAIL_CHECK_LEN];
    uint64_t start = off > TAIL_CHECK_LEN ? off - TAIL_CHECK_LEN : 0;
    size_t want = (size_t)(off - start);
    ssize_t n = pread(fd, buf, want, (off_t)start);
    return n == (ssize_t)want ? tail_hash(buf, want) : 0;
}

static const struct {
    const char *name, *magic;
    size_t len;
} magics[] = {
    {"gzip", "\x1f\x8b", 2},
    {"bzip2", "BZh", 3},
    {"xz", "\xfd" "7zXZ\0", 6},
    {"zstd", "\x28\xb5\x2f\xfd", 4},
    {"lz4", "\x04\x22\x4d\x18", 4},
};

const char *
tail_compression_of(int fd, int *too_short)
{
    unsigned char m[6];
    ssize_t n = pread(fd, m, sizeof m, 0); /* one look: the file may be growing */
    *too_short = 0;
    for (size_t i = 0; n >= 0 && i < sizeof magics / sizeof *magics; i++) {
        if ((size_t)n >= magics[i].len && memcmp(m, magics[i].magic, magics[i].len) == 0)
            return magics[i].name;
        if ((size_t)n < magics[i].len && memcmp(m, magics[i].magic, (size_t)n) == 0)
            *too_short = 1;
    }
    return NULL;
}

const char *
tail_compression(int fd)
{
    int too_short;
    return tail_compression_of(fd, &too_short);
}

/* Whether the last read stopped in the middle of the gzip stream; read
 * before gzrewind, which clears it. */
static int
cut_short(gzFile gz)
{
    int err;
    gzerror(gz, &err);
    return err == Z_BUF_ERROR;
}

int
tail_gz_fingerprint(gzFile gz, uint64_t *hash, uint32_t *len)
{
    unsigned char buf[TAIL_FP_MAX];
    gzrewind(gz);
    int n = gzread(gz, buf, sizeof buf);
    *len = n > 0 ? (uint32_t)n : 0;
    *hash = tail_hash(buf, *len);
    int short_ = *len < TAIL_FP_MAX && cut_short(gz);
    gzrewind(gz);
    return short_;
}

int
tail_gz_check(gzFile gz, uint64_t off, uint64_t *check, int *more)
{
    unsigned char buf[TAIL_CHECK_LEN + 1];
    uint64_t start = off > TAIL_CHECK_LEN ? off - TAIL_CHECK_LEN : 0;
    size_t want = (size_t)(off - start);
    gzrewind(gz);
    int n = gzseek(gz, (z_off_t)start, SEEK_SET) == (z_off_t)start
                ? gzread(gz, buf, (unsigned)want + (more != NULL))
                : -1;
    *check = n >= (int)want ? tail_hash(buf, want) : 0;
    if (more)
        *more = n > (int)want;
    int short_ = n < (int)want + (more != NULL) && cut_short(gz);
    gzrewind(gz);
    return short_;
}

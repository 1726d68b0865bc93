/* Basic types and conventions shared by every part of the sluice SDK. */
#ifndef SLUICE_COMMON_H
#define SLUICE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_API __attribute__((visibility("default")))
#define SLUICE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Results of plugin callbacks. Outputs use all three; everything else uses
 * SLUICE_OK and SLUICE_ERROR. */
enum {
    SLUICE_OK = 0,
    SLUICE_RETRY = 1,  /* transient: try the same work again later */
    SLUICE_ERROR = -1, /* permanent: retrying will not help */
};

/* Nanoseconds since the Unix epoch (UTC). The functions of time are in
 * timefmt.h. */
typedef int64_t sluice_time_t;

#define SLUICE_NSEC_PER_SEC INT64_C(1000000000)
#define SLUICE_NSEC_PER_MSEC INT64_C(1000000)

/* A list of strings owned by the core (option values). */
typedef struct sluice_strlist {
    size_t n;
    char **v;
} sluice_strlist;

/* Borrowed bytes. */
typedef struct sluice_bytes {
    const char *data;
    size_t len;
} sluice_bytes;

#endif

/* Parsers for option scalars: integers, numbers, booleans, durations
 * (500ms, 1s, 5m, 1h, 1d; a bare number is seconds) and sizes (512KiB, 2MiB,
 * 1GiB; KB/MB/GB are powers of 1000; K/M/G are powers of 1024; a bare number
 * is bytes). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "option.h"
#include "sluice/plugin.h"

int
option_parse_int(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

int
option_parse_double(const char *s, double *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int
option_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

typedef struct unit {
    const char *name;
    double factor;
} unit;

/* A non-negative decimal number followed by one of `units`. */
static int
parse_with_unit(const char *s, const unit *units, size_t n, double bare, int64_t *out)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!(*p >= '0' && *p <= '9') && *p != '.')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || end == p || !isfinite(v) || v < 0)
        return -1;
    while (*end == ' ')
        end++;
    double factor = 0;
    if (!*end) {
        factor = bare;
    } else {
        for (size_t i = 0; i < n; i++)
            if (strcmp(end, units[i].name) == 0)
                factor = units[i].factor;
    }
    if (factor == 0)
        return -1;
    double r = v * factor;
    if (r >= 9.2e18)
        return -1;
    *out = (int64_t)llround(r);
    return 0;
}

int
option_parse_duration(const char *s, int64_t *ns)
{
    static const unit units[] = {
        {"ns", 1},        {"us", 1e3},      {"ms", 1e6},       {"s", 1e9},
        {"m", 60e9},      {"min", 60e9},    {"h", 3600e9},     {"d", 86400e9},
    };
    return parse_with_unit(s, units, sizeof units / sizeof *units, 1e9, ns);
}

int
option_parse_size(const char *s, int64_t *bytes)
{
    static const unit units[] = {
        {"B", 1},
        {"K", 1024.0},           {"KiB", 1024.0},           {"KB", 1e3},
        {"M", 1048576.0},        {"MiB", 1048576.0},        {"MB", 1e6},
        {"G", 1073741824.0},     {"GiB", 1073741824.0},     {"GB", 1e9},
        {"T", 1099511627776.0},  {"TiB", 1099511627776.0},  {"TB", 1e12},
    };
    return parse_with_unit(s, units, sizeof units / sizeof *units, 1, bytes);
}

/* Levenshtein distance ignoring case (Fluent Bit's `Path` is our `path`),
 * capped at 32 characters per word. */
static size_t
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
                                  tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *
option_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = 99;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(word);
    size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
    if (best_d <= limit)
        return best;
    /* A truncated name ("max_mem") is a likely typo too. */
    for (size_t i = 0; len >= 3 && i < n; i++)
        if (strncasecmp(candidates[i], word, len) == 0)
            return candidates[i];
    return NULL;
}

const char *
sluice_nearest(const char *word, const char *const *candidates, size_t n)
{
    return option_suggest(word, candidates, n);
}

/* UTF-8 validation shared by the formatters. */
#ifndef SLUICE_UTF8_H
#define SLUICE_UTF8_H

#include <stddef.h>
#include "sluice/buf.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. Rejects
 * overlong forms, surrogates and code points past U+10FFFF. */
static inline size_t
utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

/* Copy the non-ASCII sequence at p to `out` when valid, else U+FFFD for its
 * first byte. Returns the bytes consumed. */
static inline size_t
utf8_put(sluice_buf *out, const unsigned char *p, size_t n)
{
    size_t k = utf8_seq(p, n);
    if (k) {
        sluice_buf_append(out, p, k);
        return k;
    }
    sluice_buf_append(out, "\xef\xbf\xbd", 3);
    return 1;
}

#endif

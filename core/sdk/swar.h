/* Word-at-a-time byte tests (SIMD within a register) shared by the hot
 * parsers and formatters: eight bytes are judged at once, and only a word
 * that fails is looked at byte by byte. Each test is exact for the word
 * as a whole. */
#ifndef SLUICE_SWAR_H
#define SLUICE_SWAR_H

#include <stdint.h>
#include <string.h>

#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when a byte of x is below n (n <= 128). */
static inline uint64_t
swar_has_less(uint64_t x, uint64_t n)
{
    return (x - SWAR_ONES * n) & ~x & SWAR_HIGHS;
}

/* Nonzero when a byte of x equals c. */
static inline uint64_t
swar_has_byte(uint64_t x, uint64_t c)
{
    return swar_has_less(x ^ (SWAR_ONES * c), 1);
}

/* Whether the 8 bytes at p may stand in a JSON string as they are: no
 * quote, backslash, control byte or non-ASCII byte. */
static inline int
swar_json_plain8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return ((x & SWAR_HIGHS) | swar_has_less(x, 0x20) | swar_has_byte(x, '"') |
            swar_has_byte(x, '\\')) == 0;
}

#endif

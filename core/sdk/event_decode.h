/* The events sluice writes, [fixext8 time, map], decoded straight from
 * their bytes into a zone: the msgpack_object tree msgpack-c's unpacker
 * would build (the same types, integers signed only when negative, strings
 * pointing into the buffer), in about a third of its time. Anything else
 * (another time encoding, deeper nesting, malformed bytes) is left to
 * msgpack-c, so what sluice_event_next returns never depends on which of
 * the two read it; fuzz_events checks that. */
#ifndef SLUICE_EVENT_DECODE_H
#define SLUICE_EVENT_DECODE_H

#include "sluice/event.h"

/* The n-byte big-endian integer at p (MessagePack's lengths and numbers). */
static inline uint64_t
mp_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* 1 with ev filled (raw_len: the event's bytes) when the event at
 * data[0..len) is one this reads; 0 when msgpack-c must. */
int event_decode_fast(const char *data, size_t len, msgpack_zone *zone, sluice_event *ev);

/* sluice_event_next with msgpack-c only (for the fuzz target's check). */
int event_next_unpacked(sluice_event_iter *it, sluice_event *ev);

#endif

/* A bounded, allocation-free well-formedness check for MessagePack from
 * outside the process (chunk files, network inputs). msgpack-c allocates a
 * container's storage from its declared count before reading it, so a
 * hostile header ("array of 2^32 items" in 5 bytes) must be refused first.
 * Data that passed this check, or that was packed in-process, is trusted. */
#ifndef SLUICE_MSGPACK_CHECK_H
#define SLUICE_MSGPACK_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* msgpack-c's own nesting limit (MSGPACK_EMBED_STACK_SIZE). */
#define MP_MAX_DEPTH 32

/* Size of the one well-formed object at `p`, or 0 when it is truncated,
 * invalid, nested deeper than MP_MAX_DEPTH, or declares more items than
 * bytes remain. */
size_t mp_object_size(const unsigned char *p, size_t n);

/* Check a buffer of events: every object well-formed and an array of two
 * whose second item is a map. Sets *count. Returns 0, or -1 at the first bad
 * event. */
int mp_check_events(const char *data, size_t len, uint32_t *count);

#endif

/* The syslog output's event iterator: sluice_event_next's results, decoded
 * by a direct reader into a zone kept for the worker's life instead of by
 * msgpack-c's unpacker, which cost a third of the output's time. */
#ifndef SYSLOG_EVENTS_H
#define SYSLOG_EVENTS_H

#include <sluice/sluice.h>

typedef struct sl_events {
    const char *data;
    size_t len, off;
    msgpack_zone *zone; /* borrowed; cleared before each event */
    int slow;           /* the rest goes to sluice_event_next */
    sluice_event_iter it;
} sl_events;

/* Iterate over the events of [data, data+len), decoding into `zone`. */
void sl_events_init(sl_events *e, msgpack_zone *zone, const char *data, size_t len);

/* As sluice_event_next: 1 with the next event (its body valid until the
 * next call), 0 at the end, -1 when the rest is not a well-formed event.
 * Events it does not read itself (another time encoding, nesting deeper
 * than a few levels, anything malformed) go to sluice_event_next, from
 * there to the end, so what it returns is always what that would. */
int sl_events_next(sl_events *e, sluice_event *ev);

void sl_events_destroy(sl_events *e);

#endif

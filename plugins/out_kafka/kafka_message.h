/* One event as one Kafka message, by the contract the kafka input reads
 * (docs/outputs.md): the value in the chosen format, the key from a field,
 * and headers carrying the event's time and, for a metric event, its kind. */
#ifndef SLUICE_KAFKA_MESSAGE_H
#define SLUICE_KAFKA_MESSAGE_H

#include <sluice/sluice.h>

enum { KAFKA_FORMAT_JSON, KAFKA_FORMAT_MSGPACK, KAFKA_FORMAT_RAW };

typedef struct kafka_message {
    const char *value;
    size_t value_len;
    const char *key; /* NULL: no key */
    size_t key_len;
    char time[24];   /* the sluice.time header: nanoseconds, decimal */
    size_t time_len;
} kafka_message;

/* Fill `m` for `ev`; text that must be built goes to `scratch` (reset by
 * the caller), which `m` then points into. Returns 0, or -1 with `why`
 * set when the event cannot be sent as asked (no such field for raw). */
int kafka_message_build(kafka_message *m, int format, const char *field, const char *key_field,
                        const sluice_event *ev, sluice_buf *scratch, char *why, size_t whylen);

#endif

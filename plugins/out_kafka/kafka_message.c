/* Events as Kafka messages (see kafka_message.h). */
#include <stdio.h>
#include <string.h>

#include "kafka_message.h"

/* The body's bytes inside the encoded event [time, body]. */
static int
body_bytes(const sluice_event *ev, const char **data, size_t *len)
{
    if (ev->raw_len < 2)
        return -1;
    size_t head = 1; /* fixarray of 2 */
    size_t t = sluice_msgpack_size(ev->raw + head, ev->raw_len - head);
    if (!t)
        return -1;
    *data = ev->raw + head + t;
    *len = ev->raw_len - head - t;
    return 0;
}

int
kafka_message_build(kafka_message *m, int format, const char *field, const char *key_field,
                    const sluice_event *ev, sluice_buf *scratch, char *why, size_t whylen)
{
    /* Offsets into scratch, which may move as it grows. */
    size_t value_off = 0, key_off = 0;
    int value_in_scratch = 0;
    m->key = NULL;
    m->key_len = 0;
    switch (format) {
    case KAFKA_FORMAT_MSGPACK:
        if (body_bytes(ev, &m->value, &m->value_len) < 0) {
            snprintf(why, whylen, "a malformed event");
            return -1;
        }
        break;
    case KAFKA_FORMAT_RAW: {
        const msgpack_object *v = sluice_record_get(&ev->body, field);
        if (!v) {
            snprintf(why, whylen, "format raw sends field '%s', which the event lacks", field);
            return -1;
        }
        if (v->type == MSGPACK_OBJECT_STR || v->type == MSGPACK_OBJECT_BIN) {
            m->value = v->via.str.ptr;
            m->value_len = v->via.str.size;
            break;
        }
        value_off = scratch->len;
        sluice_json_value(scratch, v);
        m->value_len = scratch->len - value_off;
        value_in_scratch = 1;
        break;
    }
    default:
        value_off = scratch->len;
        sluice_json_value(scratch, &ev->body);
        m->value_len = scratch->len - value_off;
        value_in_scratch = 1;
        break;
    }
    int key_in_scratch = 0;
    if (key_field) {
        const msgpack_object *k = sluice_record_get(&ev->body, key_field);
        if (k && (k->type == MSGPACK_OBJECT_STR || k->type == MSGPACK_OBJECT_BIN)) {
            m->key = k->via.str.ptr;
            m->key_len = k->via.str.size;
        } else if (k) {
            key_off = scratch->len;
            sluice_json_value(scratch, k);
            m->key_len = scratch->len - key_off;
            key_in_scratch = 1;
        }
    }
    if (value_in_scratch)
        m->value = scratch->data + value_off;
    if (key_in_scratch)
        m->key = scratch->data + key_off;
    /* The time in decimal, without printf's cost per message. */
    char digits[24];
    size_t n = 0;
    int neg = ev->time < 0;
    uint64_t t = neg ? (uint64_t)0 - (uint64_t)ev->time : (uint64_t)ev->time;
    do
        digits[n++] = (char)('0' + t % 10);
    while ((t /= 10) != 0);
    m->time_len = 0;
    if (neg)
        m->time[m->time_len++] = '-';
    while (n)
        m->time[m->time_len++] = digits[--n];
    return 0;
}

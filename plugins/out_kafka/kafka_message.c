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

/* Decimal digits of v, most significant first; returns their count. */
static size_t
put_decimal(char *out, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

/* The sluice.time header: the time in nanoseconds, in decimal. A worker
 * renders the digits of the seconds once per second, not per message. */
static void
time_decimal(kafka_message *m, sluice_time_t t)
{
    static __thread sluice_time_t cached_sec = -1;
    static __thread char sec_digits[20];
    static __thread size_t sec_len;
    if (t < SLUICE_NSEC_PER_SEC) { /* no seconds digits: the plain way */
        m->time_len = 0;
        if (t < 0)
            m->time[m->time_len++] = '-';
        m->time_len += put_decimal(m->time + m->time_len,
                                   t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t);
        return;
    }
    sluice_time_t sec = t / SLUICE_NSEC_PER_SEC;
    uint32_t ns = (uint32_t)(t % SLUICE_NSEC_PER_SEC);
    if (sec != cached_sec) {
        sec_len = put_decimal(sec_digits, (uint64_t)sec);
        cached_sec = sec;
    }
    memcpy(m->time, sec_digits, sec_len);
    for (int i = 8; i >= 0; i--, ns /= 10)
        m->time[sec_len + (size_t)i] = (char)('0' + ns % 10);
    m->time_len = sec_len + 9;
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
    time_decimal(m, ev->time);
    return 0;
}

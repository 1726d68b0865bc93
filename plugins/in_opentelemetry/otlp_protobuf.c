/* Binary protobuf requests: checked here byte by byte (well-formed, field
 * wire types as the schema says, nesting bounded), so that a bad body is
 * answered with where it went wrong and protobuf-c, which says neither,
 * only ever unpacks good ones; then unpacked into the arena. */
#include <stdio.h>

#include "otlp_internal.h"

static inline int
varint(const uint8_t *p, size_t end, size_t *off, uint64_t *v)
{
    if (*off < end && p[*off] < 0x80) { /* most tags and lengths are one byte */
        *v = p[(*off)++];
        return 0;
    }
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *off < end; shift += 7) {
        uint8_t b = p[(*off)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* The wire type a field's values have, unpacked. */
static int
wire_type(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0;
    }
}

/* The field of `d` numbered `id`, or NULL. The fields are sorted by
 * number, and a field numbered `id` is at most at index id - 1: walk down
 * from there (a step per gap in the numbering, usually none). */
static inline const ProtobufCFieldDescriptor *
field_of(const ProtobufCMessageDescriptor *d, uint64_t id)
{
    if (!d || d->n_fields == 0) return NULL;
    size_t i = id < d->n_fields ? (size_t)id - 1 : d->n_fields - 1;
    while (i > 0 && d->fields[i].id > id)
        i--;
    return d->fields[i].id == id ? &d->fields[i] : NULL;
}

/* With `full` 0, a sub-message too short to nest past the limit (each
 * level takes at least a tag and a length byte) is skipped whole: most of
 * a request's bytes are such small records, and protobuf-c rejects what
 * is malformed inside them. With `full` 1 everything is checked, for the
 * error's where and what. */
static int
check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t off, size_t end, int depth,
      int full, char *err, size_t errlen)
{
    if (depth > OTLP_MAX_MESSAGE_DEPTH) {
        snprintf(err, errlen, "protobuf: at byte %zu: messages nested deeper than %d", off,
                 OTLP_MAX_MESSAGE_DEPTH);
        return -1;
    }
    while (off < end) {
        size_t at = off;
        uint64_t tag, len;
        if (varint(p, end, &off, &tag) < 0) {
            snprintf(err, errlen, "protobuf: at byte %zu: truncated field tag", at);
            return -1;
        }
        uint64_t id = tag >> 3;
        int wt = (int)(tag & 7);
        if (id == 0 || id > UINT32_MAX) {
            snprintf(err, errlen, "protobuf: at byte %zu: bad field number %llu", at,
                     (unsigned long long)id);
            return -1;
        }
        const ProtobufCFieldDescriptor *f = field_of(d, id);
        if (f && wt != wire_type(f->type) &&
            !(wt == 2 && f->label == PROTOBUF_C_LABEL_REPEATED && wire_type(f->type) != 2)) {
            snprintf(err, errlen, "protobuf: at byte %zu: %s.%s: wire type %d, not %d", at, d->name,
                     f->name, wt, wire_type(f->type));
            return -1;
        }
        switch (wt) {
        case 0:
            if (varint(p, end, &off, &len) < 0) goto truncated;
            break;
        case 1:
        case 5:
            if (end - off < (wt == 1 ? 8u : 4u)) goto truncated;
            off += wt == 1 ? 8 : 4;
            break;
        case 2:
            if (varint(p, end, &off, &len) < 0 || len > end - off) goto truncated;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                (full || len / 2 >= (uint64_t)(OTLP_MAX_MESSAGE_DEPTH - depth)) &&
                check(f->descriptor, p, off, off + len, depth + 1, full, err, errlen) < 0)
                return -1;
            off += len;
            break;
        default:
            snprintf(err, errlen, "protobuf: at byte %zu: field %llu: wire type %d not supported",
                     at, (unsigned long long)id, wt);
            return -1;
        }
        continue;
    truncated:
        snprintf(err, errlen, "protobuf: at byte %zu: field %llu truncated", at,
                 (unsigned long long)id);
        return -1;
    }
    return 0;
}

int
otlp_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char *err,
                size_t errlen)
{
    return check(d, p, 0, n, 0, 1, err, errlen);
}

int
otlp_decode(const ProtobufCMessageDescriptor *d, const char *body, size_t len, otlp_encoding enc,
            otlp_arena *a, ProtobufCMessage **msg, char *err, size_t errlen)
{
    if (enc == OTLP_JSON) return otlp_json_decode(d, body, len, a, msg, err, errlen);
    const uint8_t *p = (const uint8_t *)body;
    if (check(d, p, 0, len, 0, 0, err, errlen) < 0) return -1;
    *msg = protobuf_c_message_unpack(d, &a->pc, len, p);
    if (!*msg) {
        if (otlp_wire_check(d, p, len, err, errlen) == 0)
            snprintf(err, errlen, "protobuf: not a valid %s", d->name);
        return -1;
    }
    return 0;
}

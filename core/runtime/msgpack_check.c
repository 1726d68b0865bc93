/* Well-formedness checks for untrusted MessagePack (see msgpack_check.h). */
#include "event_decode.h"
#include "msgpack_check.h"
#include "sluice/event.h"

/* The size of the one MessagePack object at p[0..n), or 0 if it is
 * truncated, malformed, or nests containers deeper than msgpack-c's
 * unpacker accepts (MP_MAX_DEPTH, counted as msgpack-c counts it, so that
 * what passes here never fails there). Reads only the bytes, recursing
 * into arrays and maps; allocates nothing and calls nothing else. */
static size_t
object_size(const unsigned char *p, size_t n, int depth)
{
    if (n == 0 || depth > MP_MAX_DEPTH)
        return 0;
    unsigned char b = p[0];
    uint64_t items = 0, body = 0;
    size_t head = 1;
    int container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
    /* msgpack-c keeps a stack of MP_MAX_DEPTH open containers, and checks
     * it before it looks at the count: empty ones count too. */
    if (container && depth >= MP_MAX_DEPTH)
        return 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 1;
    if (b == 0xa0)
        return 1; /* empty fixstr */
    if (b >= 0x80 && b <= 0x8f) {
        items = 2u * (b & 0x0f);
    } else if (b >= 0x90 && b <= 0x9f) {
        items = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
        body = b & 0x1f;
    } else {
        /* Length of the length field, or of the fixed payload. */
        switch (b) {
        case 0xc4: case 0xd9: head = 2; break;
        case 0xc5: case 0xda: head = 3; break;
        case 0xc6: case 0xdb: head = 5; break;
        case 0xc7: head = 3; break;
        case 0xc8: head = 4; break;
        case 0xc9: head = 6; break;
        case 0xca: body = 4; break;
        case 0xcb: body = 8; break;
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xce: case 0xd2: body = 4; break;
        case 0xcf: case 0xd3: body = 8; break;
        case 0xd4: body = 2; break;
        case 0xd5: body = 3; break;
        case 0xd6: body = 5; break;
        case 0xd7: body = 9; break;
        case 0xd8: body = 17; break;
        case 0xdc: head = 3; break;
        case 0xdd: head = 5; break;
        case 0xde: head = 3; break;
        case 0xdf: head = 5; break;
        default: return 0; /* 0xc1 */
        }
        if (n < head)
            return 0;
        switch (b) {
        case 0xc4: case 0xc5: case 0xc6: case 0xd9: case 0xda: case 0xdb:
            body = mp_be(p + 1, (int)head - 1);
            if (body == 0)
                return head;
            break;
        case 0xc7: case 0xc8: case 0xc9: /* the type byte is part of head */
            body = mp_be(p + 1, (int)head - 2);
            if (body == 0)
                return head;
            break;
        case 0xdc: case 0xdd:
            items = mp_be(p + 1, (int)head - 1);
            break;
        case 0xde: case 0xdf:
            items = 2 * mp_be(p + 1, (int)head - 1);
            break;
        default:
            break;
        }
    }
    if (body)
        return body <= n - head ? head + (size_t)body : 0;
    size_t off = head;
    if (items > n - off)
        return 0;
    for (uint64_t i = 0; i < items; i++) {
        size_t k = object_size(p + off, n - off, depth + 1);
        if (!k)
            return 0;
        off += k;
    }
    return off;
}

size_t
mp_object_size(const unsigned char *p, size_t n)
{
    return object_size(p, n, 0);
}

int
mp_check_events(const char *data, size_t len, uint32_t *count)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t off = 0;
    uint32_t n = 0;
    while (off < len) {
        size_t k = object_size(p + off, len - off, 0);
        /* [time, {...}]: fixarray of 2, then a time of some kind, then a map */
        if (!k || p[off] != 0x92)
            return -1;
        size_t t = object_size(p + off + 1, k - 1, 1);
        unsigned char m = p[off + 1 + t];
        if (!(m >= 0x80 && m <= 0x8f) && m != 0xde && m != 0xdf)
            return -1;
        off += k;
        n++;
    }
    *count = n;
    return 0;
}

size_t
sluice_msgpack_size(const char *data, size_t len)
{
    return object_size((const unsigned char *)data, len, 0);
}

/* Compressed request bodies (gzip, deflate), inflated with zlib under a
 * size limit, so that a small compressed bomb is a 413 and not our memory. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "http_decode.h"

int
sluice_http_decode(const char *encoding, const char *in, size_t len, size_t limit,
                   sluice_buf *out, char *why, size_t whylen)
{
    int window;
    if (strcasecmp(encoding, "gzip") == 0 || strcasecmp(encoding, "x-gzip") == 0)
        window = 16 + MAX_WBITS;
    else if (strcasecmp(encoding, "deflate") == 0)
        window = MAX_WBITS; /* zlib-wrapped, as RFC 9110 says deflate is */
    else {
        snprintf(why, whylen, "Content-Encoding %s is not supported: send gzip, deflate or none",
                 encoding);
        return HTTP_DECODE_UNKNOWN;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, window) != Z_OK) {
        snprintf(why, whylen, "cannot start zlib");
        return HTTP_DECODE_CORRUPT;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    out->len = 0;
    int r = Z_OK;
    while (r != Z_STREAM_END) {
        if (out->len >= limit) {
            inflateEnd(&z);
            snprintf(why, whylen, "body larger than max_body_size once decompressed");
            return HTTP_DECODE_TOO_LARGE;
        }
        size_t room = len * 4 + 4096;
        if (room > limit + 1 - out->len)
            room = limit + 1 - out->len;
        sluice_buf_reserve(out, room);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)room;
        r = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (r == Z_STREAM_END && z.avail_in && window > MAX_WBITS) {
            inflateReset(&z); /* gzip members may follow one another */
            r = Z_OK;
        } else if (r == Z_BUF_ERROR && z.avail_in == 0) {
            inflateEnd(&z);
            snprintf(why, whylen, "the %s body ends in the middle of its stream", encoding);
            return HTTP_DECODE_CORRUPT;
        } else if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
            inflateEnd(&z);
            snprintf(why, whylen, "the body is not valid %s: %s", encoding,
                     z.msg ? z.msg : "corrupt");
            return HTTP_DECODE_CORRUPT;
        }
    }
    inflateEnd(&z);
    if (out->len > limit) {
        snprintf(why, whylen, "body larger than max_body_size once decompressed");
        return HTTP_DECODE_TOO_LARGE;
    }
    return HTTP_DECODE_OK;
}

int
sluice_http_secret_equal(const char *given, const char *expected)
{
    size_t gl = strlen(given), el = strlen(expected);
    unsigned char diff = (unsigned char)(gl != el);
    for (size_t i = 0; i < el; i++)
        diff |= (unsigned char)(expected[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

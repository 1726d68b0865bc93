/* Request bodies sent with a Content-Encoding, decoded for the handler. */
#ifndef SLUICE_HTTP_DECODE_H
#define SLUICE_HTTP_DECODE_H

#include <sluice/buf.h>

enum { HTTP_DECODE_OK = 0, HTTP_DECODE_UNKNOWN, HTTP_DECODE_TOO_LARGE, HTTP_DECODE_CORRUPT };

/* Decode `in` sent with Content-Encoding `encoding` (gzip, x-gzip or
 * deflate) into `out`, at most `limit` bytes. Returns HTTP_DECODE_OK, or
 * another result with `why`. */
int sluice_http_decode(const char *encoding, const char *in, size_t len, size_t limit,
                       sluice_buf *out, char *why, size_t whylen);

/* Compare a secret in time that does not depend on where it differs. */
int sluice_http_secret_equal(const char *given, const char *expected);

#endif

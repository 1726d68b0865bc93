/* Pieces the formatters share that are not part of the SDK. */
#ifndef SLUICE_FORMAT_INTERNAL_H
#define SLUICE_FORMAT_INTERNAL_H

#include "sluice/format.h"

/* "key":value, with a non-string key rendered and quoted. */
void json_pair(sluice_buf *out, const msgpack_object_kv *kv);

#endif

/* libFuzzer target: the http input's bodies (body_parse.c, body_collectd.c).
 * The first byte picks the reader (JSON/NDJSON/form/text, line protocol,
 * collectd); what is staged must read back as exactly `count` events, and
 * a log event holds the metadata field once, whatever its members. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/in_http/body_parse.h"

static int
count_key(const msgpack_object *map, const char *key)
{
    int n = 0;
    size_t len = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        n += k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
             memcmp(k->via.str.ptr, key, len) == 0;
    }
    return n;
}

static void
check_staged(body_stage *st, const char *meta_key)
{
    sluice_event_iter it;
    sluice_event ev;
    size_t n = 0;
    sluice_event_iter_init(&it, st->events.data, st->events.size);
    while (sluice_event_next(&it, &ev) == 1) {
        n++;
        if (meta_key && count_key(&ev.body, meta_key) != 1)
            abort();
    }
    sluice_event_iter_destroy(&it);
    if (n != st->count || it.off != st->events.size)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static body_stage st;
    static int init;
    if (!init) {
        body_stage_init(&st);
        init = 1;
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char err[300];
    body_meta meta = {.n = 1, .key = {"path"}, .value = {"/fuzz"}};
    int r;
    switch (data[0] % 6) {
    case 0: r = body_logs(&st, BODY_AUTO, body, len, 0, &meta, err, sizeof err); break;
    case 1: r = body_logs(&st, BODY_NDJSON, body, len, 0, &meta, err, sizeof err); break;
    case 2: r = body_logs(&st, BODY_FORM, body, len, 0, &meta, err, sizeof err); break;
    case 3: r = body_logs(&st, BODY_TEXT, body, len, 0, &meta, err, sizeof err); break;
    case 4: r = body_line_protocol(&st, body, len, 1000, 0, err, sizeof err); break;
    default: r = body_collectd(&st, body, len, 0, err, sizeof err); break;
    }
    if (r < 0 && st.count != 0)
        abort();
    if (r == 0)
        check_staged(&st, data[0] % 6 < 4 ? "path" : NULL);
    return 0;
}

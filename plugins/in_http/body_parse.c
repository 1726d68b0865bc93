/* Request bodies to staged events (body_parse.h): JSON objects, arrays of
 * objects and NDJSON through the SDK's JSON reader, HTML forms (what
 * Python's logging.handlers.HTTPHandler posts), plain text lines, and the
 * InfluxDB line protocol through the shared reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body_parse.h"
#include "line_protocol.h"

void
body_stage_init(body_stage *st)
{
    msgpack_sbuffer_init(&st->events);
    msgpack_sbuffer_init(&st->scratch);
    st->count = 0;
}

void
body_stage_destroy(body_stage *st)
{
    msgpack_sbuffer_destroy(&st->events);
    msgpack_sbuffer_destroy(&st->scratch);
}

int
body_staged(body_stage *st)
{
    st->count++;
    if (st->limit && st->events.size > st->limit) {
        st->too_large = 1;
        return -1;
    }
    return 0;
}

void
body_stage_clear(body_stage *st)
{
    msgpack_sbuffer_clear(&st->events);
    st->count = 0;
    st->too_large = 0;
}

body_format
body_format_of(const char *ct)
{
    if (!strcmp(ct, "application/x-ndjson") || !strcmp(ct, "application/jsonl") ||
        !strcmp(ct, "application/x-jsonlines") || !strcmp(ct, "application/json-lines") ||
        !strcmp(ct, "application/ndjson"))
        return BODY_NDJSON;
    if (!strcmp(ct, "application/x-www-form-urlencoded"))
        return BODY_FORM;
    if (!strcmp(ct, "text/plain"))
        return BODY_TEXT;
    return BODY_AUTO;
}

static void
pack_meta(msgpack_packer *pk, const body_meta *meta)
{
    for (size_t i = 0; i < meta->n; i++) {
        sluice_pack_cstr(pk, meta->key[i]);
        sluice_pack_cstr(pk, meta->value[i]);
    }
}

/* A map of the `count` members at `members` and the metadata, which
 * replaces a member of its name. */
static void
pack_with_meta(msgpack_packer *pk, const char *members, size_t len, uint32_t count,
               const body_meta *meta)
{
    sluice_pack_map_without(pk, members, len, count, meta->key, meta->n, (uint32_t)meta->n);
    pack_meta(pk, meta);
}

/* One event whose body is the map at `map` (packed) plus the metadata. */
static int
stage_map(body_stage *st, const char *map, size_t len, sluice_time_t now, const body_meta *meta)
{
    uint32_t count;
    size_t head;
    if (!sluice_map_header(map, len, &count, &head))
        return -1;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &st->events, msgpack_sbuffer_write);
    sluice_event_pack_head(&pk, now);
    pack_with_meta(&pk, map + head, len - head, count, meta);
    body_staged(st);
    return 0;
}

/* The map header for `count` items into `out`; its length. */
static size_t
map_header(uint32_t count, unsigned char out[5])
{
    if (count <= 15) {
        out[0] = (unsigned char)(0x80 | count);
        return 1;
    }
    if (count <= 0xffff) {
        out[0] = 0xde;
        out[1] = (unsigned char)(count >> 8);
        out[2] = (unsigned char)count;
        return 3;
    }
    out[0] = 0xdf;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (unsigned char)(count >> (24 - 8 * i));
    return 5;
}

/* Parse one JSON object straight into st->events as an event (no copy
 * through the scratch buffer unless a member has a metadata field's name),
 * with the metadata after its members.
 * Returns 0; -1 with `what` and *at when it is not JSON; -2 when it is
 * JSON but not an object. Nothing stays staged on failure. */
static int
stage_object(body_stage *st, const char *s, size_t n, sluice_time_t now, const body_meta *meta,
             char *what, size_t whatlen, size_t *at)
{
    msgpack_sbuffer *ev = &st->events;
    size_t mark = ev->size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, ev, msgpack_sbuffer_write);
    sluice_event_pack_head(&pk, now);
    size_t map_at = ev->size;
    if (sluice_json_to_msgpack_at(s, n, &pk, what, whatlen, at) < 0) {
        ev->size = mark;
        return -1;
    }
    uint32_t count;
    size_t head;
    if (!sluice_map_header(ev->data + map_at, ev->size - map_at, &count, &head)) {
        ev->size = mark;
        return -2;
    }
    const char *members = ev->data + map_at + head;
    size_t members_len = ev->size - map_at - head;
    if (meta->n &&
        sluice_members_without(NULL, members, members_len, count, meta->key, meta->n) < count) {
        /* A member has a metadata field's name: rebuilt without it. */
        msgpack_sbuffer_clear(&st->scratch);
        msgpack_sbuffer_write(&st->scratch, members, members_len);
        ev->size = map_at;
        pack_with_meta(&pk, st->scratch.data, members_len, count, meta);
    } else if (meta->n) {
        unsigned char h[5];
        size_t hl = map_header(count + (uint32_t)meta->n, h);
        if (hl != head) { /* the header grows: move the members up */
            msgpack_sbuffer_write(ev, "\0\0\0\0", hl - head);
            memmove(ev->data + map_at + hl, ev->data + map_at + head,
                    ev->size - (hl - head) - map_at - head);
        }
        memcpy(ev->data + map_at, h, hl);
        pack_meta(&pk, meta);
    }
    body_staged(st);
    return 0;
}

/* Line and column (from 1) of byte `at` of `s`. */
static void
position(const char *s, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    size_t start = 0;
    for (size_t i = 0; i < at; i++)
        if (s[i] == '\n') {
            (*line)++;
            start = i + 1;
        }
    *col = at - start + 1;
}

static int
parse_json(body_stage *st, const char *s, size_t n, char *what, size_t whatlen, size_t *at)
{
    msgpack_sbuffer_clear(&st->scratch);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &st->scratch, msgpack_sbuffer_write);
    return sluice_json_to_msgpack_at(s, n, &pk, what, whatlen, at);
}

int
body_parse_json(body_stage *st, const char *body, size_t len, char *err, size_t errlen)
{
    char what[128];
    size_t at, line, col;
    if (parse_json(st, body, len, what, sizeof what, &at) == 0)
        return 0;
    position(body, at, &line, &col);
    snprintf(err, errlen, "line %zu, column %zu: %s", line, col, what);
    return -1;
}

static int
ndjson(body_stage *st, const char *body, size_t len, sluice_time_t now, const body_meta *meta,
       char *err, size_t errlen)
{
    size_t line = 0;
    for (const char *p = body, *end = body + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        size_t n = (size_t)(e - p);
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
            i++;
        if (i < n) {
            char what[128];
            size_t at;
            int r = stage_object(st, p, n, now, meta, what, sizeof what, &at);
            if (r == -1) {
                snprintf(err, errlen, "line %zu, column %zu: %s", line, at + 1, what);
                return -1;
            }
            if (r == -2) {
                snprintf(err, errlen, "line %zu, column %zu: not a JSON object", line, i + 1);
                return -1;
            }
            if (st->too_large)
                return 0;
        }
        p = e + 1;
    }
    return 0;
}

/* A JSON object, or an array of objects: each is an event. */
static int
json_document(body_stage *st, sluice_time_t now, const body_meta *meta, char *err, size_t errlen)
{
    const char *d = st->scratch.data;
    size_t n = st->scratch.size;
    if (stage_map(st, d, n, now, meta) == 0)
        return 0;
    /* An array: fixarray, array 16 or array 32. */
    unsigned char c = (unsigned char)d[0];
    uint32_t items;
    size_t head;
    if (c >= 0x90 && c <= 0x9f) {
        items = c & 0x0f;
        head = 1;
    } else if (c == 0xdc) {
        items = (uint32_t)((unsigned char)d[1] << 8 | (unsigned char)d[2]);
        head = 3;
    } else if (c == 0xdd) {
        items = (uint32_t)(unsigned char)d[1] << 24 | (uint32_t)(unsigned char)d[2] << 16 |
                (uint32_t)(unsigned char)d[3] << 8 | (unsigned char)d[4];
        head = 5;
    } else {
        snprintf(err, errlen, "the body is JSON but neither an object nor an array of objects");
        return -1;
    }
    size_t off = head;
    for (uint32_t i = 0; i < items; i++) {
        size_t sz = sluice_msgpack_size(d + off, n - off);
        if (sz == 0 || stage_map(st, d + off, sz, now, meta) < 0) {
            snprintf(err, errlen, "element %u of the array is not a JSON object", i);
            return -1;
        }
        off += sz;
        if (st->too_large)
            break;
    }
    return 0;
}

static int
hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode [s, s+n) of a form into `out`; '+' is a space. */
static size_t
form_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            c = (char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
            i += 2;
        }
        out[o++] = c;
    }
    return o;
}

static int
form(body_stage *st, const char *body, size_t len, sluice_time_t now, const body_meta *meta)
{
    msgpack_sbuffer_clear(&st->scratch);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &st->scratch, msgpack_sbuffer_write);
    char *tmp = malloc(len + 1);
    if (!tmp)
        return -1;
    uint32_t count = 0;
    for (const char *p = body, *end = body + len; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (e > p) {
            const char *ke = eq ? eq : e;
            size_t kl = form_decode(p, (size_t)(ke - p), tmp);
            sluice_pack_str(&pk, tmp, kl);
            size_t vl = eq ? form_decode(eq + 1, (size_t)(e - eq - 1), tmp) : 0;
            sluice_pack_str(&pk, tmp, vl);
            count++;
        }
        p = e + 1;
    }
    free(tmp);
    /* A map header in front of the packed pairs. */
    msgpack_sbuffer map;
    msgpack_sbuffer_init(&map);
    msgpack_packer mp;
    msgpack_packer_init(&mp, &map, msgpack_sbuffer_write);
    msgpack_pack_map(&mp, count);
    msgpack_sbuffer_write(&map, st->scratch.data, st->scratch.size);
    int r = stage_map(st, map.data, map.size, now, meta);
    msgpack_sbuffer_destroy(&map);
    return r;
}

static void
text(body_stage *st, const char *body, size_t len, sluice_time_t now, const body_meta *meta)
{
    for (const char *p = body, *end = body + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n) {
            msgpack_packer pk;
            msgpack_packer_init(&pk, &st->events, msgpack_sbuffer_write);
            sluice_event_pack_head(&pk, now);
            msgpack_pack_map(&pk, 1 + (uint32_t)meta->n);
            sluice_pack_cstr(&pk, "message");
            sluice_pack_str(&pk, p, n);
            pack_meta(&pk, meta);
            if (body_staged(st) < 0)
                return;
        }
        p = e + 1;
    }
}

/* A body's outcome: its error, or the stage's limit passed. */
int
body_staged_result(body_stage *st, int r, char *err, size_t errlen)
{
    if (r == 0 && st->too_large) {
        snprintf(err, errlen, "the request makes more than %zu bytes of events: send it in smaller "
                 "parts", st->limit);
        r = -1;
    }
    if (r < 0) {
        int too_large = st->too_large;
        body_stage_clear(st);
        st->too_large = too_large;
    }
    return r;
}

int
body_logs(body_stage *st, body_format f, const char *body, size_t len, sluice_time_t now,
          const body_meta *meta, char *err, size_t errlen)
{
    body_stage_clear(st);
    int r = 0;
    /* curl -d sends any body as a form: one that starts as JSON is JSON. */
    if (f == BODY_FORM) {
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
            i++;
        if (i < len && (body[i] == '{' || body[i] == '['))
            f = BODY_AUTO;
    }
    switch (f) {
    case BODY_NDJSON: r = ndjson(st, body, len, now, meta, err, errlen); break;
    case BODY_FORM:
        r = form(st, body, len, now, meta);
        if (r < 0)
            snprintf(err, errlen, "cannot read the form");
        break;
    case BODY_TEXT: text(st, body, len, now, meta); break;
    case BODY_AUTO: {
        char what[128];
        size_t at;
        if (parse_json(st, body, len, what, sizeof what, &at) == 0) {
            r = json_document(st, now, meta, err, errlen);
            break;
        }
        /* Not one JSON value: NDJSON, if its first line is an object. */
        if (strcmp(what, "data after the value") == 0) {
            r = ndjson(st, body, len, now, meta, err, errlen);
            break;
        }
        size_t line, col;
        position(body, at, &line, &col);
        snprintf(err, errlen, "line %zu, column %zu: %s", line, col, what);
        r = -1;
        break;
    }
    }
    return body_staged_result(st, r, err, errlen);
}

int64_t
body_precision(const char *p)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},
                 {"n", 1},
                 {"us", 1000},
                 {"u", 1000},
                 {"ms", SLUICE_NSEC_PER_MSEC},
                 {"s", SLUICE_NSEC_PER_SEC},
                 {"m", 60 * SLUICE_NSEC_PER_SEC},
                 {"h", 3600 * SLUICE_NSEC_PER_SEC}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(p, units[i].name) == 0)
            return units[i].ns;
    return 0;
}

int
body_line_protocol(body_stage *st, const char *body, size_t len, int64_t unit,
                   sluice_time_t now, char *err, size_t errlen)
{
    body_stage_clear(st);
    size_t line = 0;
    msgpack_packer sp, ep;
    msgpack_packer_init(&sp, &st->scratch, msgpack_sbuffer_write);
    msgpack_packer_init(&ep, &st->events, msgpack_sbuffer_write);
    for (const char *p = body, *end = body + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        line++;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        size_t i = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i < n && p[i] != '#') {
            char why[160];
            sluice_time_t t;
            msgpack_sbuffer_clear(&st->scratch);
            /* INT64_MIN marks a point without a timestamp. */
            if (lp_pack(&sp, p + i, n - i, INT64_MIN, &t, why, sizeof why) < 0) {
                snprintf(err, errlen, "line %zu: unable to parse '%.*s': %s", line,
                         (int)(n - i > 80 ? 80 : n - i), p + i, why);
                body_stage_clear(st);
                return -1;
            }
            if (t == INT64_MIN)
                t = now;
            else if (unit != 1) {
                if (t > INT64_MAX / unit || t < INT64_MIN / unit) {
                    snprintf(err, errlen, "line %zu: timestamp out of range for precision",
                             line);
                    body_stage_clear(st);
                    return -1;
                }
                t *= unit;
            }
            sluice_event_pack_head(&ep, t);
            msgpack_sbuffer_write(&st->events, st->scratch.data, st->scratch.size);
            if (body_staged(st) < 0)
                break;
        }
        p = e + 1;
    }
    return body_staged_result(st, 0, err, errlen);
}

/* OTLP/JSON, the specification's "JSON Protobuf Encoding", decoded once
 * for every message type by walking protobuf-c's descriptors: the body is
 * read by the project's JSON parser into MessagePack, and each object
 * fills the struct of its message, allocated in the arena, so that the
 * mapping to events is the same code for both encodings.
 *
 * Keys are lowerCamelCase or the proto's own snake_case names, unknown
 * keys and nulls are skipped; 64-bit integers are numbers or decimal
 * strings; doubles may be "NaN", "Infinity" or "-Infinity"; enums are
 * numbers or value names; bytes are base64, except trace_id and span_id,
 * which are hex. An error names the path: "resourceLogs[0].scopeLogs[1].
 * logRecords[3].timeUnixNano: not an integer". */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/json.h>

#include "otlp_internal.h"

typedef struct jctx {
    otlp_arena *a;
    char path[256];
    size_t plen; /* may exceed the buffer: what is written is cut */
    char *err;
    size_t errlen;
} jctx;

static int SLUICE_PRINTF(2, 3) fail(jctx *c, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->plen)
        snprintf(c->err, c->errlen, "%s: %s", c->path, what);
    else
        snprintf(c->err, c->errlen, "%s", what);
    return -1;
}

/* Append ".key" (s) or "[index]" (s NULL) to the path; returns what to
 * pop back to. */
static size_t
push(jctx *c, const char *s, size_t n, size_t index)
{
    size_t old = c->plen;
    if (old < sizeof c->path) {
        int w =
            s ? snprintf(c->path + old, sizeof c->path - old, "%s%.*s", old ? "." : "", (int)n, s)
              : snprintf(c->path + old, sizeof c->path - old, "[%zu]", index);
        c->plen += w > 0 ? (size_t)w : 0;
    }
    return old;
}

static void
pop(jctx *c, size_t old)
{
    c->plen = old;
    if (old < sizeof c->path) c->path[old] = '\0';
}

/* ==== Fields ==== */

/* `k` is `name` (snake_case) or its lowerCamelCase JSON name. */
static int
key_is(const char *k, size_t kl, const char *name)
{
    size_t j = 0;
    int same = 1;
    for (size_t i = 0; name[i]; i++, j++)
        if (j >= kl || k[j] != name[i]) same = 0;
    if (same && j == kl) return 1;
    j = 0;
    for (size_t i = 0; name[i]; i++, j++) {
        char ch = name[i];
        if (ch == '_' && name[i + 1]) ch = (char)toupper((unsigned char)name[++i]);
        if (j >= kl || k[j] != ch) return 0;
    }
    return j == kl;
}

static const ProtobufCFieldDescriptor *
field_of(const ProtobufCMessageDescriptor *d, const char *k, size_t kl)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (key_is(k, kl, d->fields[i].name)) return &d->fields[i];
    return NULL;
}

static size_t
elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(uint32_t); /* 32-bit integers and enums */
    }
}

/* ==== Scalars ==== */

/* A short string as a C string, for strtoll and friends; 0 if too long. */
static int
cstr(const msgpack_object *v, char *buf, size_t cap)
{
    if (v->via.str.size >= cap) return 0;
    if (v->via.str.size) memcpy(buf, v->via.str.ptr, v->via.str.size);
    buf[v->via.str.size] = '\0';
    return 1;
}

static int
get_i64(const msgpack_object *v, int64_t *out)
{
    char buf[64], *end;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (v->via.u64 > INT64_MAX) return 0;
        *out = (int64_t)v->via.u64;
        return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = v->via.i64;
        return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (v->via.f64 != floor(v->via.f64) || v->via.f64 < -9223372036854775808.0 ||
            v->via.f64 >= 9223372036854775808.0)
            return 0;
        *out = (int64_t)v->via.f64;
        return 1;
    case MSGPACK_OBJECT_STR:
        if (!cstr(v, buf, sizeof buf) || !buf[0] || isspace((unsigned char)buf[0])) return 0;
        errno = 0;
        *out = strtoll(buf, &end, 10);
        return !*end && !errno;
    default:
        return 0;
    }
}

static int
get_u64(const msgpack_object *v, uint64_t *out)
{
    char buf[64], *end;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = v->via.u64;
        return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (v->via.f64 != floor(v->via.f64) || v->via.f64 < 0 ||
            v->via.f64 >= 18446744073709551616.0)
            return 0;
        *out = (uint64_t)v->via.f64;
        return 1;
    case MSGPACK_OBJECT_STR:
        if (!cstr(v, buf, sizeof buf) || !isdigit((unsigned char)buf[0])) return 0;
        errno = 0;
        *out = strtoull(buf, &end, 10);
        return !*end && !errno;
    default:
        return 0;
    }
}

static int
get_double(const msgpack_object *v, double *out)
{
    char buf[64], *end;
    switch (v->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = (double)v->via.u64;
        return 1;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = (double)v->via.i64;
        return 1;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = v->via.f64;
        return 1;
    case MSGPACK_OBJECT_STR:
        if (!cstr(v, buf, sizeof buf) || !buf[0] || isspace((unsigned char)buf[0])) return 0;
        if (strcmp(buf, "NaN") == 0) {
            *out = NAN;
            return 1;
        }
        if (strcmp(buf, "Infinity") == 0 || strcmp(buf, "-Infinity") == 0) {
            *out = buf[0] == '-' ? -INFINITY : INFINITY;
            return 1;
        }
        if (!isdigit((unsigned char)buf[buf[0] == '-']))
            return 0; /* no "inf", "nan", "0x..." spellings of strtod's */
        *out = strtod(buf, &end);
        return !*end;
    default:
        return 0;
    }
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int
set_bytes(jctx *c, const ProtobufCFieldDescriptor *f, const msgpack_object *v,
          ProtobufCBinaryData *out)
{
    if (v->type != MSGPACK_OBJECT_STR) return fail(c, "not a string");
    const char *s = v->via.str.ptr;
    size_t n = v->via.str.size;
    size_t id_len = strcmp(f->name, "trace_id") == 0 ? 16 : strcmp(f->name, "span_id") == 0 ? 8 : 0;
    out->len = 0;
    out->data = NULL;
    if (n == 0) return 0;
    if (id_len) {
        if (n != 2 * id_len) return fail(c, "not %zu hex digits", 2 * id_len);
        out->data = otlp_arena_alloc(c->a, id_len);
        for (size_t i = 0; i < id_len; i++) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            if (hi < 0 || lo < 0) return fail(c, "not %zu hex digits", 2 * id_len);
            out->data[i] = (uint8_t)(hi << 4 | lo);
        }
        out->len = id_len;
        return 0;
    }
    out->data = otlp_arena_alloc(c->a, n / 4 * 3 + 3);
    long len = otlp_base64_decode(s, n, out->data);
    if (len < 0) return fail(c, "not base64");
    out->len = (size_t)len;
    return 0;
}

static int decode_message(jctx *c, const ProtobufCMessageDescriptor *d, const msgpack_object *o,
                          ProtobufCMessage **out);

/* One value of field `f` into `dst` (the field, or one element of it). */
static int
set_value(jctx *c, const ProtobufCFieldDescriptor *f, const msgpack_object *v, void *dst)
{
    int64_t i;
    uint64_t u;
    double d;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!get_i64(v, &i) || i < INT32_MIN || i > INT32_MAX)
            return fail(c, "not a 32-bit integer");
        *(int32_t *)dst = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!get_u64(v, &u) || u > UINT32_MAX) return fail(c, "not a 32-bit unsigned integer");
        *(uint32_t *)dst = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!get_i64(v, &i)) return fail(c, "not an integer");
        *(int64_t *)dst = i;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!get_u64(v, &u)) return fail(c, "not an integer");
        *(uint64_t *)dst = u;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!get_double(v, &d)) return fail(c, "not a number");
        *(double *)dst = d;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (!get_double(v, &d)) return fail(c, "not a number");
        *(float *)dst = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN) return fail(c, "not true or false");
        *(protobuf_c_boolean *)dst = v->via.boolean;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        if (v->type == MSGPACK_OBJECT_STR) {
            char name[128];
            const ProtobufCEnumValue *ev =
                cstr(v, name, sizeof name)
                    ? protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name)
                    : NULL;
            if (!ev)
                return fail(c, "unknown value \"%.*s\"",
                            (int)(v->via.str.size > 64 ? 64 : v->via.str.size), v->via.str.ptr);
            *(int32_t *)dst = ev->value;
            return 0;
        }
        if (!get_i64(v, &i) || i < INT32_MIN || i > INT32_MAX) return fail(c, "not an enum value");
        *(int32_t *)dst = (int32_t)i; /* proto3 enums are open: unknown numbers are kept */
        return 0;
    case PROTOBUF_C_TYPE_STRING: {
        if (v->type != MSGPACK_OBJECT_STR) return fail(c, "not a string");
        char *s = otlp_arena_alloc(c->a, v->via.str.size + 1);
        if (v->via.str.size) memcpy(s, v->via.str.ptr, v->via.str.size);
        s[v->via.str.size] = '\0';
        *(char **)dst = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return set_bytes(c, f, v, dst);
    case PROTOBUF_C_TYPE_MESSAGE:
        return decode_message(c, f->descriptor, v, dst);
    }
    return fail(c, "field type %d not supported", (int)f->type);
}

static int
set_field(jctx *c, const ProtobufCFieldDescriptor *f, const msgpack_object *v, ProtobufCMessage *m)
{
    char *base = (char *)m;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        if (v->type != MSGPACK_OBJECT_ARRAY) return fail(c, "not a list");
        size_t n = v->via.array.size, size = elem_size(f->type);
        char *elems = n ? otlp_arena_alloc(c->a, n * size) : NULL;
        for (size_t k = 0; k < n; k++) {
            size_t old = push(c, NULL, 0, k);
            if (v->via.array.ptr[k].type == MSGPACK_OBJECT_NIL) return fail(c, "null in a list");
            if (set_value(c, f, &v->via.array.ptr[k], elems + k * size) < 0) return -1;
            pop(c, old);
        }
        *(size_t *)(base + f->quantifier_offset) = n;
        *(void **)(base + f->offset) = elems;
        return 0;
    }
    if (set_value(c, f, v, base + f->offset) < 0) return -1;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
             f->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    return 0;
}

static int
decode_message(jctx *c, const ProtobufCMessageDescriptor *d, const msgpack_object *o,
               ProtobufCMessage **out)
{
    if (o->type != MSGPACK_OBJECT_MAP) return fail(c, "not an object");
    ProtobufCMessage *m = otlp_arena_alloc(c->a, d->sizeof_message);
    protobuf_c_message_init(d, m);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type == MSGPACK_OBJECT_NIL) continue;
        const ProtobufCFieldDescriptor *f = field_of(d, kv->key.via.str.ptr, kv->key.via.str.size);
        if (!f) continue; /* unknown fields are ignored, as the specification asks */
        size_t old = push(c, kv->key.via.str.ptr, kv->key.via.str.size, 0);
        if (set_field(c, f, &kv->val, m) < 0) return -1;
        pop(c, old);
    }
    *out = m;
    return 0;
}

int
otlp_json_decode(const ProtobufCMessageDescriptor *d, const char *s, size_t n, otlp_arena *a,
                 ProtobufCMessage **msg, char *err, size_t errlen)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char why[200];
    if (sluice_json_to_msgpack(s, n, &pk, why, sizeof why) < 0) {
        snprintf(err, errlen, "json: %s", why);
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next(&up, sb.data, sb.size, &off) != MSGPACK_UNPACK_SUCCESS) {
        snprintf(err, errlen, "json: too deeply nested");
    } else {
        jctx c = {.a = a, .plen = 0, .err = err, .errlen = errlen};
        c.path[0] = '\0';
        rc = decode_message(&c, d, &up.data, msg);
    }
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* Reading InfluxDB line protocol into metric events (see line_protocol.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_protocol.h"

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef enum vtype { V_FLOAT, V_INT, V_UINT, V_BOOL, V_STR } vtype;

typedef struct field {
    span key;
    span raw; /* the value as written */
    vtype type;
    double f;
    int64_t i;
    uint64_t u;
    int b;
} field;

/* Up to an unescaped character of `stops`; backslash escapes the next
 * character. */
static const char *
token(const char *p, const char *end, const char *stops)
{
    while (p < end && !strchr(stops, *p)) {
        if (*p == '\\' && p + 1 < end)
            p++;
        p++;
    }
    return p;
}

/* Pack a span, dropping the backslash of \<c> for c in `escapable`. */
static void
pack_unescaped(msgpack_packer *pk, span s, const char *escapable)
{
    char buf[512];
    char *out = s.n <= sizeof buf ? buf : sluice_malloc(s.n);
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '\\' && i + 1 < s.n && strchr(escapable, s.p[i + 1]))
            i++;
        out[o++] = s.p[i];
    }
    msgpack_pack_str_with_body(pk, out, o);
    if (out != buf)
        free(out);
}

static int
parse_value(field *f, char *err, size_t errlen)
{
    const char *p = f->raw.p;
    size_t n = f->raw.n;
    if (n == 0) {
        snprintf(err, errlen, "field '%.*s' has no value", (int)f->key.n, f->key.p);
        return -1;
    }
    if (p[0] == '"') {
        if (n < 2 || p[n - 1] != '"') {
            snprintf(err, errlen, "unterminated string in field '%.*s'", (int)f->key.n, f->key.p);
            return -1;
        }
        f->type = V_STR;
        return 0;
    }
    static const char *const yes[] = {"t", "T", "true", "True", "TRUE"};
    static const char *const no[] = {"f", "F", "false", "False", "FALSE"};
    for (int k = 0; k < 5; k++) {
        if (strlen(yes[k]) == n && memcmp(p, yes[k], n) == 0)
            return f->type = V_BOOL, f->b = 1, 0;
        if (strlen(no[k]) == n && memcmp(p, no[k], n) == 0)
            return f->type = V_BOOL, f->b = 0, 0;
    }
    char buf[64];
    if (n >= sizeof buf)
        goto bad;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    if (buf[n - 1] == 'i') {
        buf[n - 1] = '\0';
        f->i = strtoll(buf, &end, 10);
        f->type = V_INT;
    } else if (buf[n - 1] == 'u') {
        buf[n - 1] = '\0';
        if (buf[0] == '-')
            goto bad;
        f->u = strtoull(buf, &end, 10);
        f->type = V_UINT;
    } else {
        f->f = strtod(buf, &end);
        f->type = V_FLOAT;
        if (!isfinite(f->f))
            goto bad;
    }
    if (errno || *end || end == buf)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "bad value '%.*s' in field '%.*s'", (int)(n > 40 ? 40 : n), p,
             (int)f->key.n, f->key.p);
    return -1;
}

int
lp_pack(msgpack_packer *pk, const char *line, size_t len, sluice_time_t now,
            sluice_time_t *time, char *err, size_t errlen)
{
    const char *p = line, *end = line + len;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    span tags[LP_MAX_PAIRS][2];
    field fields[LP_MAX_PAIRS];
    size_t nt = 0, nf = 0;

    const char *m = token(p, end, ", ");
    span meas = {p, (size_t)(m - p)};
    if (!meas.n) {
        snprintf(err, errlen, "no measurement");
        return -1;
    }
    p = m;
    while (p < end && *p == ',') {
        const char *k = p + 1, *eq = token(k, end, "=, ");
        if (eq >= end || *eq != '=' || eq == k) {
            snprintf(err, errlen, "bad tag at byte %zu", (size_t)(k - line));
            return -1;
        }
        const char *v = eq + 1, *ve = token(v, end, ", ");
        if (ve == v || nt == LP_MAX_PAIRS) {
            snprintf(err, errlen, "bad tag at byte %zu", (size_t)(k - line));
            return -1;
        }
        tags[nt][0] = (span){k, (size_t)(eq - k)};
        tags[nt][1] = (span){v, (size_t)(ve - v)};
        nt++;
        p = ve;
    }
    if (p >= end || *p != ' ') {
        snprintf(err, errlen, "expected a space and fields after the measurement and tags");
        return -1;
    }
    while (p < end && *p == ' ')
        p++;
    for (;;) {
        const char *k = p, *eq = token(k, end, "=, ");
        if (eq >= end || *eq != '=' || eq == k || nf == LP_MAX_PAIRS) {
            snprintf(err, errlen, "bad field at byte %zu", (size_t)(k - line));
            return -1;
        }
        const char *v = eq + 1, *ve = v;
        if (ve < end && *ve == '"') {
            ve++;
            while (ve < end && *ve != '"') {
                if (*ve == '\\' && ve + 1 < end)
                    ve++;
                ve++;
            }
            if (ve < end)
                ve++;
        } else {
            while (ve < end && *ve != ',' && *ve != ' ')
                ve++;
        }
        field *f = &fields[nf++];
        memset(f, 0, sizeof *f);
        f->key = (span){k, (size_t)(eq - k)};
        f->raw = (span){v, (size_t)(ve - v)};
        if (parse_value(f, err, errlen) < 0)
            return -1;
        p = ve;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        break;
    }
    *time = now;
    while (p < end && *p == ' ')
        p++;
    if (p < end) {
        char buf[32];
        size_t n = (size_t)(end - p);
        char *e;
        if (n >= sizeof buf)
            goto bad_ts;
        memcpy(buf, p, n);
        buf[n] = '\0';
        errno = 0;
        long long ts = strtoll(buf, &e, 10);
        if (errno || *e || e == buf || ts < 0)
            goto bad_ts;
        *time = ts;
    }

    msgpack_pack_map(pk, 4);
    sluice_pack_cstr(pk, "name");
    pack_unescaped(pk, meas, ", \\");
    sluice_pack_cstr(pk, "kind");
    sluice_pack_cstr(pk, "untyped");
    sluice_pack_cstr(pk, "tags");
    msgpack_pack_map(pk, nt);
    for (size_t i = 0; i < nt; i++) {
        pack_unescaped(pk, tags[i][0], ",= \\");
        pack_unescaped(pk, tags[i][1], ",= \\");
    }
    sluice_pack_cstr(pk, "fields");
    msgpack_pack_map(pk, nf);
    for (size_t i = 0; i < nf; i++) {
        field *f = &fields[i];
        pack_unescaped(pk, f->key, ",= \\");
        switch (f->type) {
        case V_FLOAT: msgpack_pack_double(pk, f->f); break;
        case V_INT: msgpack_pack_int64(pk, f->i); break;
        case V_UINT: msgpack_pack_uint64(pk, f->u); break;
        case V_BOOL: f->b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
        case V_STR: pack_unescaped(pk, (span){f->raw.p + 1, f->raw.n - 2}, "\"\\"); break;
        }
    }
    return 0;
bad_ts:
    snprintf(err, errlen, "bad timestamp '%.*s'", (int)((end - p) > 40 ? 40 : (end - p)), p);
    return -1;
}

int
lp_emit(sluice_emitter *em, const char *line, size_t len, sluice_time_t now, char *err,
            size_t errlen)
{
    /* Validate by packing into a scratch buffer first: an emit cannot be
     * taken back. */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    sluice_time_t t;
    int r = lp_pack(&pk, line, len, now, &t, err, errlen);
    if (r == 0) {
        msgpack_packer *out = sluice_emit_begin(em, SLUICE_EVENT_METRIC, t);
        out->callback(out->data, sb.data, sb.size);
        sluice_emit_end(em);
    }
    msgpack_sbuffer_destroy(&sb);
    return r;
}

/* {field: regex} rules (see field_rules.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field_rules.h"

int
field_rules_compile(field_rules *rs, sluice_instance *ins, const char *what,
                    const sluice_bytes *src)
{
    memset(rs, 0, sizeof *rs);
    rs->md = pcre2_match_data_create(1, NULL);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int bad = 0;
    if (msgpack_unpack_next(&up, src->data, src->len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&up);
        return 0;
    }
    const msgpack_object *m = &up.data;
    rs->v = sluice_calloc(m->via.map.size ? m->via.map.size : 1, sizeof *rs->v);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key, *v = &m->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR) {
            sluice_option_error(ins, what, "expected a map of field: regex strings");
            bad++;
            continue;
        }
        int code;
        PCRE2_SIZE eoff;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->via.str.ptr, v->via.str.size, 0, &code,
                                       &eoff, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(code, msg, sizeof msg);
            char opt[256];
            snprintf(opt, sizeof opt, "%s.%.*s", what, (int)k->via.str.size, k->via.str.ptr);
            sluice_option_error(ins, opt, "bad regex '%.*s' at offset %zu: %s",
                                (int)v->via.str.size, v->via.str.ptr, (size_t)eoff, (char *)msg);
            bad++;
            continue;
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        rs->v[rs->n].field = sluice_strndup(k->via.str.ptr, k->via.str.size);
        rs->v[rs->n++].re = re;
    }
    msgpack_unpacked_destroy(&up);
    return bad;
}

const char *
field_text(const msgpack_object *body, const char *path, sluice_buf *scratch, size_t *len)
{
    const msgpack_object *v = sluice_record_get(body, path);
    return v ? sluice_json_text(v, scratch, len) : NULL;
}

int
field_rule_matches(field_rules *rs, size_t i, const msgpack_object *body)
{
    size_t n;
    const char *s = field_text(body, rs->v[i].field, &rs->text, &n);
    return s && pcre2_match(rs->v[i].re, (PCRE2_SPTR)s, n, 0, 0, rs->md, NULL) >= 0;
}

int
field_rules_all(field_rules *rs, const msgpack_object *body)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!field_rule_matches(rs, i, body))
            return 0;
    return 1;
}

void
field_rules_free(field_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].field);
        pcre2_code_free(rs->v[i].re);
    }
    free(rs->v);
    pcre2_match_data_free(rs->md);
    sluice_buf_free(&rs->text);
    memset(rs, 0, sizeof *rs);
}

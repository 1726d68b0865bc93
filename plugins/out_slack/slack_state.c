/* The groups, kept under storage.path so that a restart neither forgets
 * what was waiting to be told nor tells again what was told: one JSON
 * document {"groups": [...]}, replaced whole after every change. A message
 * in flight when sluice dies is sent again after the restart (at least
 * once). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_internal.h"
#include "slack.h"

static void
key(sluice_buf *b, const char *k)
{
    sluice_buf_putc(b, ',');
    sluice_json_string(b, k, strlen(k));
    sluice_buf_putc(b, ':');
}

static void
str(sluice_buf *b, const char *k, const char *v)
{
    if (!v)
        return;
    key(b, k);
    sluice_json_string(b, v, strlen(v));
}

static void
lset(sluice_buf *b, const char *k, const pq_lset *l)
{
    key(b, k);
    sluice_buf_putc(b, '{');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            sluice_buf_putc(b, ',');
        sluice_json_string(b, l->kv[2 * i], strlen(l->kv[2 * i]));
        sluice_buf_putc(b, ':');
        sluice_json_string(b, l->kv[2 * i + 1], strlen(l->kv[2 * i + 1]));
    }
    sluice_buf_putc(b, '}');
}

int
slack_state_save(const slack_groups *gs, const char *path)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_buf_append(&b, "{\"groups\":[", 11);
    for (size_t i = 0; i < gs->n; i++) {
        const slack_group *g = gs->v[i];
        sluice_buf_printf(&b, "%s{\"logs\":%d,\"created\":%lld,\"next\":%lld,\"last\":%lld,"
                              "\"count\":%llu,\"level\":%d",
                          i ? "," : "", g->logs, (long long)g->created, (long long)g->next_flush,
                          (long long)g->last_told, (unsigned long long)g->log_count, g->level);
        str(&b, "key", g->key);
        str(&b, "thread_ts", g->thread_ts);
        str(&b, "channel", g->channel_id);
        lset(&b, "labels", &g->labels);
        sluice_buf_append(&b, ",\"samples\":[", 12);
        for (size_t k = 0; k < g->n_samples; k++) {
            if (k)
                sluice_buf_putc(&b, ',');
            sluice_json_string(&b, g->samples[k], strlen(g->samples[k]));
        }
        sluice_buf_append(&b, "],\"alerts\":[", 12);
        for (size_t k = 0; k < g->n_alerts; k++) {
            const slack_alert *a = &g->alerts[k];
            sluice_buf_printf(&b, "%s{\"firing\":%d,\"told\":%d", k ? "," : "", a->firing,
                              a->told);
            /* JSON has no NaN nor infinities: those go as strings. */
            sluice_buf_printf(&b, isfinite(a->value) ? ",\"value\":%.17g" : ",\"value\":\"%g\"",
                              a->value);
            lset(&b, "labels", &a->labels);
            lset(&b, "annotations", &a->annotations);
            str(&b, "startsAt", a->starts_at);
            str(&b, "endsAt", a->ends_at);
            str(&b, "url", a->url);
            sluice_buf_putc(&b, '}');
        }
        sluice_buf_append(&b, "]}", 2);
    }
    sluice_buf_append(&b, "]}\n", 3);
    int rc = sluice_write_file(path, b.data, b.len);
    sluice_buf_free(&b);
    return rc;
}

/* ==== Loading ==== */

static const msgpack_object *
get(const msgpack_object *m, const char *k, msgpack_object_type type)
{
    const msgpack_object *v = sluice_record_get(m, k);
    if (v && type == MSGPACK_OBJECT_FLOAT64 &&
        (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER))
        return v;
    return v && v->type == type ? v : NULL;
}

static double
num(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = sluice_record_get(m, k);
    if (v && v->type == MSGPACK_OBJECT_STR && v->via.str.size < 8) {
        char s[8];
        memcpy(s, v->via.str.ptr, v->via.str.size);
        s[v->via.str.size] = '\0';
        return strtod(s, NULL);
    }
    v = get(m, k, MSGPACK_OBJECT_FLOAT64);
    if (!v)
        return 0;
    return v->type == MSGPACK_OBJECT_FLOAT64           ? v->via.f64
           : v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double)v->via.u64
                                                        : (double)v->via.i64;
}

/* A count or a time: integers as they are, anything else 0. */
static int64_t
whole(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = sluice_record_get(m, k);
    if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return v->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)v->via.u64;
    return v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? v->via.i64 : 0;
}

static char *
text(const msgpack_object *m, const char *k)
{
    const msgpack_object *v = get(m, k, MSGPACK_OBJECT_STR);
    return v ? sluice_strndup(v->via.str.ptr, v->via.str.size) : NULL;
}

static void
load_lset(pq_lset *out, const msgpack_object *m, const char *k)
{
    const msgpack_object *v = get(m, k, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; v && i < v->via.map.size; i++) {
        const msgpack_object_kv *kv = &v->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
            continue;
        char *name = sluice_strndup(kv->key.via.str.ptr, kv->key.via.str.size);
        char *value = sluice_strndup(kv->val.via.str.ptr, kv->val.via.str.size);
        lset_set(out, name, value);
        free(name);
        free(value);
    }
}

static void
load_group(slack_groups *gs, const msgpack_object *o)
{
    char *k = text(o, "key");
    if (!k)
        return;
    slack_group *g = slack_group_new(gs, k, whole(o, "logs") != 0, whole(o, "created"));
    free(k);
    g->next_flush = whole(o, "next");
    g->last_told = whole(o, "last");
    g->log_count = (uint64_t)whole(o, "count");
    int64_t level = whole(o, "level");
    g->level = level == 2 || level == 1 ? (int)level : 0;
    g->thread_ts = text(o, "thread_ts");
    g->channel_id = text(o, "channel");
    load_lset(&g->labels, o, "labels");
    const msgpack_object *samples = get(o, "samples", MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; samples && i < samples->via.array.size && g->n_samples < SLACK_SAMPLES; i++)
        if (samples->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
            g->samples[g->n_samples++] = sluice_strndup(samples->via.array.ptr[i].via.str.ptr,
                                                        samples->via.array.ptr[i].via.str.size);
    const msgpack_object *alerts = get(o, "alerts", MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; alerts && i < alerts->via.array.size; i++) {
        const msgpack_object *ao = &alerts->via.array.ptr[i];
        if (ao->type != MSGPACK_OBJECT_MAP)
            continue;
        pq_lset labels = {0};
        load_lset(&labels, ao, "labels");
        slack_alert *a = slack_group_alert(gs, g, &labels);
        pq_lset_free(&labels);
        load_lset(&a->annotations, ao, "annotations");
        a->firing = whole(ao, "firing") != 0;
        int64_t told = whole(ao, "told");
        a->told = told == SLACK_TOLD_FIRING || told == SLACK_TOLD_RESOLVED ? (int)told
                                                                           : SLACK_TOLD_NONE;
        a->value = num(ao, "value");
        a->starts_at = text(ao, "startsAt");
        a->ends_at = text(ao, "endsAt");
        a->ends_ms = slack_ends_ms(a->ends_at);
        a->url = text(ao, "url");
    }
}

int
slack_state_parse(slack_groups *gs, const char *data, size_t len, char *why, size_t whylen)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[128];
    int rc = -1;
    if (sluice_json_to_msgpack(data, len, &pk, err, sizeof err) != 0) {
        snprintf(why, whylen, "not what a save wrote: %s", err);
    } else {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS) {
            const msgpack_object *groups = get(&up.data, "groups", MSGPACK_OBJECT_ARRAY);
            for (uint32_t i = 0; groups && i < groups->via.array.size; i++)
                if (groups->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
                    load_group(gs, &groups->via.array.ptr[i]);
            rc = (int)gs->n;
        }
        msgpack_unpacked_destroy(&up);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int
slack_state_load(slack_groups *gs, const char *path, char *why, size_t whylen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    sluice_buf b = SLUICE_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sluice_buf_append(&b, chunk, n);
    fclose(f);
    char err[192];
    int rc = slack_state_parse(gs, b.data ? b.data : "", b.len, err, sizeof err);
    if (rc < 0)
        snprintf(why, whylen, "%s: %s", path, err);
    sluice_buf_free(&b);
    return rc;
}

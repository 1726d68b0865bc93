/* The alert filter's state file (see alert_state.h): one line per alert,
 *   group \t alertname \t state \t active_at \t fired_at \t resolved_at \t
 *   keep_firing_since \t sent \t sent_at \t value \t labels
 * with the times in ms and the labels as Prometheus writes a series. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_state.h"
#include "promql_internal.h"

int
alert_state_save(const pq_ruleset *rs, const char *path)
{
    sluice_buf b = SLUICE_BUF_INIT;
    for (size_t g = 0; g < rs->n; g++)
        for (size_t r = 0; r < rs->groups[g].n_rules; r++) {
            const pq_rule *ru = &rs->groups[g].rules[r];
            for (size_t i = 0; ru->alert && i < ru->n_active; i++) {
                const pq_alert *a = &ru->active[i];
                char *labels = pq_lset_string(&a->labels);
                sluice_buf_printf(&b, "%s\t%s\t%d\t%lld\t%lld\t%lld\t%lld\t%d\t%lld\t%.17g\t%s\n",
                                  rs->groups[g].name, ru->alert, (int)a->state,
                                  (long long)a->active_at, (long long)a->fired_at,
                                  (long long)a->resolved_at, (long long)a->keep_firing_since,
                                  a->sent, (long long)a->sent_at, a->value, labels);
                free(labels);
            }
        }
    int rc = sluice_write_file(path, b.data ? b.data : "", b.len);
    sluice_buf_free(&b);
    return rc;
}

static pq_rule *
rule_named(pq_ruleset *rs, const char *group, const char *alert)
{
    for (size_t g = 0; g < rs->n; g++) {
        if (strcmp(rs->groups[g].name, group) != 0)
            continue;
        for (size_t r = 0; r < rs->groups[g].n_rules; r++)
            if (rs->groups[g].rules[r].alert && strcmp(rs->groups[g].rules[r].alert, alert) == 0)
                return &rs->groups[g].rules[r];
    }
    return NULL;
}

int
alert_state_load(pq_ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *field[11];
        int k = 0;
        for (char *p = line; k < 11; k++) {
            field[k] = p;
            char *tab = k < 10 ? strchr(p, '\t') : NULL;
            if (k < 10 && !tab)
                break;
            if (tab) {
                *tab = '\0';
                p = tab + 1;
            }
        }
        pq_lset labels;
        pq_rule *r = k == 11 ? rule_named(rs, field[0], field[1]) : NULL;
        if (!r || pq_lset_parse(field[10], &labels, NULL, 0) < 0)
            continue; /* a rule since removed, or a damaged line */
        r->active = sluice_realloc(r->active, (r->n_active + 1) * sizeof *r->active);
        pq_alert *a = &r->active[r->n_active++];
        *a = (pq_alert){.labels = labels,
                        .hash = lset_hash(&labels),
                        .state = (pq_alert_state)atoi(field[2]),
                        .active_at = atoll(field[3]),
                        .fired_at = atoll(field[4]),
                        .resolved_at = atoll(field[5]),
                        .keep_firing_since = atoll(field[6]),
                        .sent = atoi(field[7]),
                        .sent_at = atoll(field[8]),
                        .value = strtod(field[9], NULL),
                        .restored = 1};
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

int
alert_state_labels_strict(const sluice_bytes *map, pq_lset *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = 0;
    if (map->len && msgpack_unpack_next(&up, map->data, map->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < up.data.via.map.size && rc == 0; i++) {
            const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR) {
                snprintf(err, errlen, "names and values must be strings (quote numbers)");
                rc = -1;
                break;
            }
            char *k = sluice_strndup(kv->key.via.str.ptr, kv->key.via.str.size);
            char *v = sluice_strndup(kv->val.via.str.ptr, kv->val.via.str.size);
            lset_set(out, k, v);
            free(k);
            free(v);
        }
    msgpack_unpacked_destroy(&up);
    if (rc < 0)
        pq_lset_free(out);
    return rc;
}

void
alert_state_labels(const sluice_bytes *map, pq_lset *out)
{
    char err[8];
    if (alert_state_labels_strict(map, out, err, sizeof err) < 0)
        memset(out, 0, sizeof *out);
}

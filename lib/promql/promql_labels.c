/* Label sets and the series store of the PromQL evaluator (see
 * promql_eval.h): sorted name/value pairs, their hashes and signatures,
 * Prometheus's text form, and series found by their labels. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql_eval.h"
#include "promql_internal.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"

/* ==== Label sets ==== */

const char *
pq_lset_get(const pq_lset *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->kv[2 * i], name) == 0)
            return l->kv[2 * i + 1];
    return NULL;
}

void
pq_lset_free(pq_lset *l)
{
    for (size_t i = 0; i < 2 * l->n; i++)
        free(l->kv[i]);
    free(l->kv);
    l->kv = NULL;
    l->n = 0;
}

pq_lset
lset_copy(const pq_lset *l)
{
    pq_lset c = {sluice_calloc(2 * l->n + 1, sizeof *c.kv), l->n};
    for (size_t i = 0; i < 2 * l->n; i++)
        c.kv[i] = sluice_strdup(l->kv[i]);
    return c;
}

/* Set `name` to `value` (a new pair in order, or a new value); an empty
 * value removes the label, as Prometheus's builder does. */
void
lset_set(pq_lset *l, const char *name, const char *value)
{
    size_t i = 0;
    while (i < l->n && strcmp(l->kv[2 * i], name) < 0)
        i++;
    if (i < l->n && strcmp(l->kv[2 * i], name) == 0) {
        if (!*value) {
            free(l->kv[2 * i]);
            free(l->kv[2 * i + 1]);
            memmove(l->kv + 2 * i, l->kv + 2 * i + 2, (2 * (l->n - i - 1)) * sizeof *l->kv);
            l->n--;
            return;
        }
        free(l->kv[2 * i + 1]);
        l->kv[2 * i + 1] = sluice_strdup(value);
        return;
    }
    if (!*value)
        return;
    l->kv = sluice_realloc(l->kv, (2 * l->n + 3) * sizeof *l->kv);
    memmove(l->kv + 2 * i + 2, l->kv + 2 * i, (2 * (l->n - i)) * sizeof *l->kv);
    l->kv[2 * i] = sluice_strdup(name);
    l->kv[2 * i + 1] = sluice_strdup(value);
    l->n++;
}

static int
listed(const char *name, const pq_labels *names)
{
    for (size_t i = 0; i < names->n; i++)
        if (strcmp(names->v[i], name) == 0)
            return 1;
    return 0;
}

/* Keep only the labels in `names` (keep) or drop them (!keep). */
void
lset_filter(pq_lset *l, const pq_labels *names, int keep)
{
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (listed(l->kv[2 * i], names) == keep) {
            l->kv[2 * o] = l->kv[2 * i];
            l->kv[2 * o + 1] = l->kv[2 * i + 1];
            o++;
        } else {
            free(l->kv[2 * i]);
            free(l->kv[2 * i + 1]);
        }
    }
    l->n = o;
}

void
lset_drop_name(pq_lset *l)
{
    static char *const name[] = {"__name__"};
    pq_labels one = {(char **)name, 1};
    lset_filter(l, &one, 0);
}

static uint64_t
fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return (h ^ 0xff) * UINT64_C(0x100000001b3);
}

uint64_t
lset_hash(const pq_lset *l)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < 2 * l->n; i++)
        h = fnv(h, l->kv[i]);
    return h;
}

/* The hash of the labels a vector match compares: those in `names` (on),
 * or all but those and __name__ (ignoring, or no modifier). */
uint64_t
lset_signature(const pq_lset *l, int on, const pq_labels *names)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->kv[2 * i];
        int in = listed(k, names);
        if (on ? !in : (in || strcmp(k, "__name__") == 0))
            continue;
        h = fnv(fnv(h, k), l->kv[2 * i + 1]);
    }
    return h;
}

int
lset_equal(const pq_lset *a, const pq_lset *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < 2 * a->n; i++)
        if (strcmp(a->kv[i], b->kv[i]) != 0)
            return 0;
    return 1;
}

char *
pq_lset_string(const pq_lset *l)
{
    sluice_buf b = SLUICE_BUF_INIT;
    const char *name = pq_lset_get(l, "__name__");
    if (name)
        sluice_buf_append(&b, name, strlen(name));
    sluice_buf_putc(&b, '{');
    int first = 1;
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->kv[2 * i], "__name__") == 0)
            continue;
        sluice_buf_printf(&b, "%s%s=\"", first ? "" : ", ", l->kv[2 * i]);
        for (const char *v = l->kv[2 * i + 1]; *v; v++) {
            if (*v == '"' || *v == '\\')
                sluice_buf_putc(&b, '\\');
            if (*v == '\n')
                sluice_buf_append(&b, "\\n", 2);
            else
                sluice_buf_putc(&b, *v);
        }
        sluice_buf_putc(&b, '"');
        first = 0;
    }
    sluice_buf_putc(&b, '}');
    sluice_buf_putc(&b, '\0');
    return b.data;
}

int
pq_lset_parse(const char *s, pq_lset *out, char *err, size_t errlen)
{
    char perr[256];
    size_t pos;
    memset(out, 0, sizeof *out);
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p || strcmp(p, "{}") == 0)
        return 0; /* no labels: a scalar's sample */
    pq_node *n = pq_parse(s, perr, sizeof perr, &pos);
    if (!n || n->kind != PQ_SELECTOR || n->sel.range_ms || n->sel.offset_ms) {
        snprintf(err, errlen, "'%s' is not a series: %s", s, n ? "expected name{label=\"value\"}"
                                                             : perr);
        pq_free(n);
        return -1;
    }
    if (n->sel.metric)
        lset_set(out, "__name__", n->sel.metric);
    for (size_t i = 0; i < n->sel.n_matchers; i++) {
        if (n->sel.matchers[i].op != PQ_EQ) {
            snprintf(err, errlen, "'%s' is not a series: labels are written name=\"value\"", s);
            pq_free(n);
            pq_lset_free(out);
            return -1;
        }
        lset_set(out, n->sel.matchers[i].name, n->sel.matchers[i].value);
    }
    pq_free(n);
    return 0;
}

/* ==== The store ==== */

static void
index_put(pq_store *st, pq_series *s)
{
    size_t mask = st->index_cap - 1;
    size_t i = (size_t)s->hash & mask;
    while (st->index[i])
        i = (i + 1) & mask;
    st->index[i] = s;
}

static void
name_add(pq_store *st, pq_series *s)
{
    pq_named *nl = (pq_named *)pq_store_named(st, s->name);
    if (!nl->name) {
        st->names = sluice_realloc(st->names, (st->n_names + 1) * sizeof *st->names);
        nl = &st->names[st->n_names++];
        *nl = (pq_named){.name = sluice_strdup(s->name)};
    }
    if (nl->n == nl->cap) {
        nl->cap = nl->cap ? nl->cap * 2 : 16;
        nl->v = sluice_realloc(nl->v, nl->cap * sizeof *nl->v);
    }
    nl->v[nl->n++] = s;
}

const pq_named *
pq_store_named(const pq_store *st, const char *name)
{
    static const pq_named none = {0};
    for (size_t i = 0; i < st->n_names; i++)
        if (strcmp(st->names[i].name, name) == 0)
            return &st->names[i];
    return &none;
}

static void
names_free(pq_store *st)
{
    for (size_t i = 0; i < st->n_names; i++) {
        free(st->names[i].name);
        free(st->names[i].v);
    }
    free(st->names);
    st->names = NULL;
    st->n_names = 0;
}

static void
index_rebuild(pq_store *st, size_t cap)
{
    free(st->index);
    st->index_cap = cap;
    st->index = sluice_calloc(cap, sizeof *st->index);
    for (size_t i = 0; i < st->n; i++)
        index_put(st, st->v[i]);
}

static pq_series *
find(const pq_store *st, const pq_lset *labels, uint64_t h)
{
    if (!st->index_cap)
        return NULL;
    size_t mask = st->index_cap - 1;
    for (size_t i = (size_t)h & mask; st->index[i]; i = (i + 1) & mask)
        if (st->index[i]->hash == h && lset_equal(&st->index[i]->labels, labels))
            return st->index[i];
    return NULL;
}

pq_series *
pq_store_find(const pq_store *st, const pq_lset *labels)
{
    return find(st, labels, lset_hash(labels));
}

pq_series *
pq_store_series(pq_store *st, const pq_lset *labels)
{
    uint64_t h = lset_hash(labels);
    pq_series *found = find(st, labels, h);
    if (found)
        return found;
    pq_series *s = sluice_calloc(1, sizeof *s);
    s->labels = lset_copy(labels);
    const char *name = pq_lset_get(&s->labels, "__name__");
    s->name = name ? name : "";
    s->hash = h;
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->v = sluice_realloc(st->v, st->cap * sizeof *st->v);
    }
    st->v[st->n++] = s;
    if (2 * st->n > st->index_cap)
        index_rebuild(st, st->index_cap ? st->index_cap * 2 : 128);
    else
        index_put(st, s);
    name_add(st, s);
    return s;
}

void
pq_series_append(pq_series *s, int64_t t, double v)
{
    if (s->n && t <= s->s[s->n - 1].t)
        return; /* as Prometheus's storage: a sample not newer is refused */
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->s = sluice_realloc(s->s, s->cap * sizeof *s->s);
    }
    s->s[s->n++] = (pq_sample){t, v};
}

static void
series_free(pq_series *s)
{
    pq_lset_free(&s->labels);
    free(s->s);
    free(s);
}

void
pq_store_trim(pq_store *st, int64_t t)
{
    size_t o = 0;
    for (size_t i = 0; i < st->n; i++) {
        pq_series *s = st->v[i];
        size_t k = 0;
        while (k < s->n && s->s[k].t < t)
            k++;
        if (k) {
            memmove(s->s, s->s + k, (s->n - k) * sizeof *s->s);
            s->n -= k;
        }
        if (s->n)
            st->v[o++] = s;
        else
            series_free(s);
    }
    if (o != st->n) {
        st->n = o;
        index_rebuild(st, st->index_cap);
        names_free(st);
        for (size_t i = 0; i < st->n; i++)
            name_add(st, st->v[i]);
    }
}

void
pq_store_free(pq_store *st)
{
    for (size_t i = 0; i < st->n; i++)
        series_free(st->v[i]);
    free(st->v);
    free(st->index);
    names_free(st);
    memset(st, 0, sizeof *st);
}

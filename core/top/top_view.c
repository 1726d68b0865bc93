/* `sluice top`: the rows sorted by a column and laid out in the width of
 * the terminal (79 characters at 80 columns, wider names beyond). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top.h"

#define ANSI_REVERSE "\x1b[7m"
#define ANSI_UNDERLINE "\x1b[4m"
#define ANSI_NO_UNDERLINE "\x1b[24m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RESET "\x1b[0m"

typedef struct column {
    const char *title;
    char key;
    int width; /* at 80 columns */
    int text;  /* left-aligned, ascending by default */
} column;

static const column columns[COL_COUNT] = {
    [COL_PIPELINE] = {"PIPELINE", 'p', 10, 1}, [COL_ID] = {"ID", 'i', 14, 1},
    [COL_KIND] = {"KIND", 'k', 4, 1},          [COL_IN] = {"IN/s", 'n', 7, 0},
    [COL_OUT] = {"OUT/s", 'o', 7, 0},          [COL_BYTES] = {"BYTES/s", 'b', 7, 0},
    [COL_MEM] = {"MEM%", 'm', 5, 0},           [COL_DISK] = {"DISK%", 'd', 5, 0},
    [COL_RETRIES] = {"RETRY", 'r', 6, 0},      [COL_DEAD] = {"DEAD", 'l', 5, 0},
};

char
top_column_key(top_column c)
{
    return columns[c].key;
}

const char *
top_column_title(top_column c)
{
    return columns[c].title;
}

int
top_column_for_key(int key)
{
    for (int c = 0; c < COL_COUNT; c++)
        if (columns[c].key == key)
            return c;
    return -1;
}

/* ==== Sorting ==== */

static double
fill(double used, double limit)
{
    return isnan(used) || isnan(limit) || limit <= 0 ? NAN : 100 * used / limit;
}

static double
value(const top_row *r, top_column c)
{
    switch (c) {
    case COL_IN: return r->in_rate;
    case COL_OUT: return r->out_rate;
    case COL_BYTES: return r->bytes_rate;
    case COL_MEM: return fill(r->mem, r->max_mem);
    case COL_DISK: return r->fs ? fill(r->disk, r->max_disk) : NAN;
    case COL_RETRIES: return r->retries;
    case COL_DEAD: return r->dead;
    default: return NAN;
    }
}

static const char *
kind_name(char kind)
{
    return kind == 'i' ? "in" : kind == 'f' ? "flt" : "out";
}

static const top_view *sorting; /* qsort has no context argument */

static int
compare(const void *pa, const void *pb)
{
    const top_row *a = pa, *b = pb;
    top_column c = sorting->sort;
    int d = 0;
    if (columns[c].text) {
        if (c == COL_PIPELINE)
            d = strcmp(a->pipeline, b->pipeline);
        else if (c == COL_ID)
            d = strcmp(a->id, b->id);
        else
            d = (a->kind > b->kind) - (a->kind < b->kind);
    } else {
        double x = value(a, c), y = value(b, c);
        if (isnan(x) || isnan(y)) /* blanks last, either way */
            d = isnan(x) - isnan(y);
        else
            d = (x < y) - (x > y);
        if (isnan(x) || isnan(y))
            return d ? d : (a->order > b->order) - (a->order < b->order);
    }
    if (sorting->reverse)
        d = -d;
    return d ? d : (a->order > b->order) - (a->order < b->order);
}

void
top_sort(top_snapshot *s, const top_view *v)
{
    sorting = v;
    if (s->n_rows)
        qsort(s->rows, s->n_rows, sizeof *s->rows, compare);
}

/* ==== Layout ==== */

/* Append `s` padded or cut to `w` characters (UTF-8 sequences count as
 * one; control characters show as '?'). */
static void
cell(sluice_buf *l, const char *s, int w, int right)
{
    size_t n = strlen(s), end = 0;
    int chars = 0;
    while (end < n && chars < w) {
        end++;
        while (end < n && ((unsigned char)s[end] & 0xC0) == 0x80)
            end++;
        chars++;
    }
    if (right)
        for (int i = chars; i < w; i++)
            sluice_buf_putc(l, ' ');
    for (size_t i = 0; i < end; i++)
        sluice_buf_putc(l, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
    if (!right)
        for (int i = chars; i < w; i++)
            sluice_buf_putc(l, ' ');
}

/* 1234.5 as "1.2k"; NAN as "-". */
static void
human(char *out, size_t size, double v, int decimals)
{
    static const char units[] = " kMGTP";
    if (isnan(v)) {
        snprintf(out, size, "-");
        return;
    }
    int u = 0;
    while (fabs(v) >= 999.95 && u < 5) {
        v /= 1000;
        u++;
        decimals = 1;
    }
    if (u)
        snprintf(out, size, "%.*f%c", decimals, v, units[u]);
    else
        snprintf(out, size, "%.*f", decimals, v);
}

static void
percent(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.0f%%", v);
}

/* The columns' widths at `width`: what is left past 80 widens the names. */
static void
widths(int width, int *w)
{
    for (int c = 0; c < COL_COUNT; c++)
        w[c] = columns[c].width;
    int extra = width - 80;
    if (extra > 0) {
        int p = extra / 2 < 20 ? extra / 2 : 20;
        w[COL_PIPELINE] += p;
        w[COL_ID] += extra - p < 30 ? extra - p : 30;
    }
}

typedef struct frame {
    sluice_buf *out;
    int width, height, lines;
} frame;

/* Append line `l` cut to the width, unless the frame is full. */
static void
emit(frame *f, const sluice_buf *l, const char *before, const char *after)
{
    if (f->height && f->lines >= f->height)
        return;
    sluice_buf_append(f->out, before, strlen(before));
    size_t end = 0;
    int chars = 0;
    while (end < l->len && chars < f->width) {
        end++;
        while (end < l->len && ((unsigned char)l->data[end] & 0xC0) == 0x80)
            end++;
        chars++;
    }
    /* Text from the server never reaches the terminal as a control:
     * C0, DEL and C1 (U+0080..U+009F, \xc2\x80..\xc2\x9f) become '?'. */
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)l->data[i];
        if (c == 0xc2 && i + 1 < end && (unsigned char)l->data[i + 1] >= 0x80 &&
            (unsigned char)l->data[i + 1] <= 0x9f) {
            sluice_buf_putc(f->out, '?');
            i++;
        } else {
            sluice_buf_putc(f->out, c < 0x20 || c == 0x7f ? '?' : (char)c);
        }
    }
    sluice_buf_append(f->out, after, strlen(after));
    sluice_buf_putc(f->out, '\n');
    f->lines++;
}

static void
header_lines(frame *f, sluice_buf *l, const top_snapshot *s, const top_view *v, const char *source,
             const char *status)
{
    char when[16] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    sluice_buf_reset(l);
    sluice_buf_printf(l, "sluice top %s", when);
    if (s->version)
        sluice_buf_printf(l, ", sluice %s", s->version);
    if (s->version && !isnan(s->window))
        sluice_buf_printf(l, ", rates over %.0fs", s->window);
    sluice_buf_printf(l, ": %s", source);
    emit(f, l, v->ansi ? ANSI_BOLD : "", v->ansi ? ANSI_RESET : "");
    sluice_buf_reset(l);
    if (status) {
        sluice_buf_printf(l, "! %s (retrying)", status);
        emit(f, l, v->ansi ? ANSI_REVERSE : "", v->ansi ? ANSI_RESET : "");
        return;
    }
    sluice_buf_printf(l, "sort: %s %s (s: next, R: reverse, q: quit, ", columns[v->sort].title,
                      v->reverse == columns[v->sort].text ? "desc" : "asc");
    for (int c = 0; c < COL_COUNT; c++)
        sluice_buf_printf(l, "%c", columns[c].key);
    sluice_buf_printf(l, ": by column)");
    emit(f, l, "", "");
}

static void
pipeline_lines(frame *f, sluice_buf *l, const top_snapshot *s, const int *w, int ansi)
{
    sluice_buf_reset(l);
    cell(l, "PIPELINE", w[COL_PIPELINE], 0);
    sluice_buf_printf(l, " STATE    PAUSES UNROUTED");
    emit(f, l, ansi ? ANSI_REVERSE : "", ansi ? ANSI_RESET : "");
    for (size_t i = 0; i < s->n_pipelines; i++) {
        const top_pipeline *p = &s->pipelines[i];
        char pauses[16], unrouted[16];
        human(pauses, sizeof pauses, p->pauses, 0);
        human(unrouted, sizeof unrouted, p->unrouted, 0);
        sluice_buf_reset(l);
        cell(l, p->name, w[COL_PIPELINE], 0);
        sluice_buf_printf(l, " %-7s %7s %8s", p->paused > 0 ? "PAUSED" : "running", pauses,
                          unrouted);
        emit(f, l, "", "");
    }
}

static void
table_header(frame *f, sluice_buf *l, const top_view *v, const int *w)
{
    sluice_buf_reset(l);
    for (int c = 0; c < COL_COUNT; c++) {
        if (c)
            sluice_buf_putc(l, ' ');
        int sorted = v->ansi && c == (int)v->sort;
        if (sorted)
            sluice_buf_append(l, ANSI_UNDERLINE, strlen(ANSI_UNDERLINE));
        cell(l, columns[c].title, w[c], !columns[c].text);
        if (sorted)
            sluice_buf_append(l, ANSI_NO_UNDERLINE, strlen(ANSI_NO_UNDERLINE));
    }
    /* The escapes take no columns: cut by hand at the width. */
    if (f->height && f->lines >= f->height)
        return;
    sluice_buf_append(f->out, v->ansi ? ANSI_REVERSE : "", v->ansi ? strlen(ANSI_REVERSE) : 0);
    int chars = 0;
    for (size_t i = 0; i < l->len; i++) {
        if (l->data[i] == '\x1b') {
            size_t j = i;
            while (j < l->len && l->data[j] != 'm')
                j++;
            sluice_buf_append(f->out, l->data + i, j + 1 - i);
            i = j;
            continue;
        }
        if (chars++ < f->width)
            sluice_buf_putc(f->out, l->data[i]);
    }
    if (v->ansi)
        sluice_buf_append(f->out, ANSI_RESET, strlen(ANSI_RESET));
    sluice_buf_putc(f->out, '\n');
    f->lines++;
}

static void
row_lines(frame *f, sluice_buf *l, const top_row *r, const int *w)
{
    char in[16], out[16], bytes[16], mem[16], disk[16], retries[16], dead[16];
    human(in, sizeof in, r->in_rate, 1);
    human(out, sizeof out, r->out_rate, 1);
    human(bytes, sizeof bytes, r->bytes_rate, 1);
    percent(mem, sizeof mem, value(r, COL_MEM));
    percent(disk, sizeof disk, value(r, COL_DISK));
    human(retries, sizeof retries, r->retries, 0);
    human(dead, sizeof dead, r->dead, 0);
    const char *cells[COL_COUNT] = {
        r->pipeline, r->id, kind_name(r->kind), in, out, bytes, mem, disk, retries, dead};
    sluice_buf_reset(l);
    for (int c = 0; c < COL_COUNT; c++) {
        if (c)
            sluice_buf_putc(l, ' ');
        cell(l, cells[c], w[c], !columns[c].text);
    }
    if (r->paused > 0 && l->len + 7 <= (size_t)f->width) /* where it fits */
        sluice_buf_printf(l, " paused");
    emit(f, l, "", "");
    if (r->own) {
        sluice_buf_reset(l);
        cell(l, "", w[COL_PIPELINE] + 1, 0);
        sluice_buf_printf(l, "%s: %s", r->plugin, r->own);
        emit(f, l, "", "");
    }
}

void
top_render(sluice_buf *out, const top_snapshot *s, const top_view *v, const char *source,
           const char *status, int width, int height)
{
    int w[COL_COUNT];
    widths(width, w);
    frame f = {out, width, height, 0};
    sluice_buf l = SLUICE_BUF_INIT;
    header_lines(&f, &l, s, v, source, status);
    pipeline_lines(&f, &l, s, w, v->ansi);
    sluice_buf_reset(&l);
    emit(&f, &l, "", "");
    table_header(&f, &l, v, w);
    for (size_t i = 0; i < s->n_rows; i++) {
        /* The last line says how many rows do not fit. */
        size_t need = 1 + (s->rows[i].own != NULL);
        if (f.height && f.lines + (int)need >= f.height && i + 1 < s->n_rows) {
            sluice_buf_reset(&l);
            sluice_buf_printf(&l, "... %zu more rows (a taller terminal shows them)",
                              s->n_rows - i);
            emit(&f, &l, "", "");
            break;
        }
        row_lines(&f, &l, &s->rows[i], w);
    }
    sluice_buf_free(&l);
}

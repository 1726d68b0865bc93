/* Acknowledgements (see ack.h). */
#include <stdint.h>
#include <stdlib.h>

#include "ack.h"
#include "pipeline.h"
#include "xalloc.h"

chunk_mark *
ack_mark_new(pipeline *p)
{
    chunk_mark *m = xcalloc(1, sizeof *m);
    m->p = p;
    m->seq = ++p->chunk_seq;
    m->holds = 1;
    m->open = 1;
    m->prev = p->marks_tail;
    if (p->marks_tail)
        p->marks_tail->next = m;
    else
        p->marks_head = m;
    p->marks_tail = m;
    return m;
}

void
ack_mark_hold(chunk_mark *m)
{
    m->holds++;
}

/* Whether every chunk the token covers is safe: released, or open and
 * written past what the token needs. */
static int
token_safe(const pipeline *p, const ack_token *t)
{
    for (const chunk_mark *m = p->marks_head; m && m->seq <= t->needs; m = m->next) {
        if (!m->open || m->holds > 1)
            return 0;
        size_t need = SIZE_MAX;
        for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
            if (t->open_seq[k] == m->seq)
                need = t->open_bytes[k];
        if (m->written < need)
            return 0;
    }
    return 1;
}

/* Acknowledge the tokens whose chunks are all safe, in order. */
static void
deliver_acks(pipeline *p)
{
    while (p->tokens_head && token_safe(p, p->tokens_head)) {
        ack_token *t = p->tokens_head;
        p->tokens_head = t->next;
        if (!p->tokens_head)
            p->tokens_tail = NULL;
        if (t->ins->plugin->ack)
            t->ins->plugin->ack(t->ins->ctx, t->token);
        free(t);
    }
}

void
ack_mark_written(chunk_mark *m, size_t bytes)
{
    if (bytes <= m->written)
        return;
    m->written = bytes;
    deliver_acks(m->p);
}

void
ack_mark_release(chunk_mark *m)
{
    if (--m->holds)
        return;
    pipeline *p = m->p;
    if (m->prev)
        m->prev->next = m->next;
    else
        p->marks_head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        p->marks_tail = m->prev;
    free(m);
    deliver_acks(p);
}

void
ack_token_add(pipeline *p, sluice_instance *ins, uint64_t token)
{
    ack_token *t = xcalloc(1, sizeof *t);
    t->ins = ins;
    t->token = token;
    t->needs = p->chunk_seq;
    for (int k = 0; k < SLUICE_EVENT_KINDS; k++)
        if (p->open[k]) {
            t->open_seq[k] = p->open[k]->mark->seq;
            t->open_bytes[k] = p->open[k]->buf.size;
        }
    if (p->tokens_tail)
        p->tokens_tail->next = t;
    else
        p->tokens_head = t;
    p->tokens_tail = t;
    deliver_acks(p);
}

void
ack_free(pipeline *p)
{
    while (p->tokens_head) {
        ack_token *t = p->tokens_head;
        p->tokens_head = t->next;
        free(t);
    }
    while (p->marks_head) {
        chunk_mark *m = p->marks_head;
        p->marks_head = m->next;
        free(m);
    }
    p->tokens_tail = NULL;
    p->marks_tail = NULL;
}

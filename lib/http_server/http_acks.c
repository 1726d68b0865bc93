/* Answers held until the core acknowledges a request's events (inputs with
 * `ack: delivered`): each deferred request gets the next token, and the
 * input's ack callback, which the core calls in token order, releases
 * every request up to it. A request waiting longer than ack_timeout is
 * answered 503; its events stay in the pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/http_server.h>
#include <sluice/log.h>

const char *const sluice_http_ack_values[] = {"accepted", "delivered", NULL};

typedef struct waiting {
    sluice_http_exchange *x;
    uint64_t token;
    sluice_time_t deadline;
    unsigned status;
    char content_type[64];
    size_t len;
    struct waiting *next;
    char body[]; /* the answer */
} waiting;

struct sluice_http_acks {
    sluice_instance *ins;
    const sluice_http_server_config *cfg;
    uv_timer_t timer;
    uint64_t token;
    waiting *head, *tail;
    uint64_t timeouts;
};

static waiting *
pop(sluice_http_acks *a)
{
    waiting *w = a->head;
    a->head = w->next;
    if (!a->head)
        a->tail = NULL;
    return w;
}

static void
on_timer(uv_timer_t *t)
{
    sluice_http_acks *a = t->data;
    sluice_time_t now = sluice_time_now();
    while (a->head && a->head->deadline <= now) {
        waiting *w = pop(a);
        if (a->timeouts++ % 1000 == 0)
            sluice_warn(a->ins,
                        "a request's events were not acknowledged within ack_timeout; answered "
                        "503 (%llu so far)",
                        (unsigned long long)a->timeouts);
        sluice_http_add_header(w->x, "Retry-After", "1");
        static const char why[] = "{\"error\":\"accepted but not acknowledged within ack_timeout; "
                                  "resending may duplicate these events\"}\n";
        sluice_http_respond(w->x, 503, "application/json", why, sizeof why - 1);
        free(w);
    }
}

sluice_http_acks *
sluice_http_acks_new(sluice_instance *ins, const sluice_http_server_config *cfg)
{
    sluice_http_acks *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->ins = ins;
    a->cfg = cfg;
    uv_timer_init(sluice_instance_loop(ins), &a->timer);
    a->timer.data = a;
    uv_timer_start(&a->timer, on_timer, 1000, 1000);
    return a;
}

void
sluice_http_acks_defer(sluice_http_acks *a, sluice_http_exchange *x, sluice_emitter *em,
                       unsigned status, const char *content_type, const char *body, size_t len)
{
    waiting *w = malloc(sizeof *w + len);
    if (!w) {
        sluice_http_respond(x, status, content_type, body, len);
        return;
    }
    w->x = x;
    w->token = ++a->token;
    w->deadline = sluice_time_now() + a->cfg->ack_timeout;
    w->status = status;
    snprintf(w->content_type, sizeof w->content_type, "%s", content_type ? content_type : "");
    w->len = len;
    memcpy(w->body, body, len);
    w->next = NULL;
    if (a->tail)
        a->tail->next = w;
    else
        a->head = w;
    a->tail = w;
    sluice_http_defer(x);
    sluice_emit_token(em, w->token);
}

void
sluice_http_acks_done(sluice_http_acks *a, uint64_t token)
{
    while (a && a->head && a->head->token <= token) {
        waiting *w = pop(a);
        sluice_http_respond(w->x, w->status, w->content_type[0] ? w->content_type : NULL, w->body,
                            w->len);
        free(w);
    }
}

static void
on_closed(uv_handle_t *h)
{
    free(h->data);
}

void
sluice_http_acks_stop(sluice_http_acks *a)
{
    if (!a)
        return;
    while (a->head)
        free(pop(a));
    uv_close((uv_handle_t *)&a->timer, on_closed);
}

/* Collectors (see collector.h). */
#include <stdlib.h>

#include "collector.h"
#include "xalloc.h"

struct sluice_collector {
    sluice_instance *ins;
    uv_timer_t timer;
    uint64_t interval_ms;
    sluice_collect_fn fn;
    void *arg;
    int armed;   /* its timer is initialised */
    int woken;   /* run at once when it is next armed or resumed */
    int ended;   /* sluice_collector_stop: never again */
    struct sluice_collector *next;
};

static void
on_timer(uv_timer_t *t)
{
    sluice_collector *c = t->data;
    c->woken = 0;
    c->fn(c->ins, c->arg);
}

static void
run(sluice_collector *c, uint64_t first)
{
    if (!c->ended && (c->interval_ms || first == 0))
        uv_timer_start(&c->timer, on_timer, first, c->interval_ms);
}

static void
arm(sluice_collector *c)
{
    uv_timer_init(c->ins->loop, &c->timer);
    c->timer.data = c;
    c->armed = 1;
    run(c, c->woken ? 0 : c->interval_ms);
}

sluice_collector *
sluice_collector_add(sluice_instance *ins, sluice_time_t interval, sluice_collect_fn fn, void *arg)
{
    sluice_collector *c = xcalloc(1, sizeof *c);
    c->ins = ins;
    c->interval_ms = interval > 0 ? (uint64_t)(interval / SLUICE_NSEC_PER_MSEC) : 0;
    if (interval > 0 && c->interval_ms == 0)
        c->interval_ms = 1;
    c->fn = fn;
    c->arg = arg;
    c->next = ins->collectors;
    ins->collectors = c;
    if (ins->collecting)
        arm(c);
    return c;
}

void
sluice_collector_wake(sluice_collector *c)
{
    c->woken = 1;
    if (c->armed && !c->ins->paused && c->ins->collecting)
        run(c, 0);
}

void
sluice_collector_stop(sluice_collector *c)
{
    c->ended = 1;
    if (c->armed)
        uv_timer_stop(&c->timer);
}

void
collectors_start(sluice_instance *ins)
{
    ins->collecting = 1;
    for (sluice_collector *c = ins->collectors; c; c = c->next)
        if (!c->armed)
            arm(c);
}

void
collectors_pause(sluice_instance *ins)
{
    for (sluice_collector *c = ins->collectors; c; c = c->next)
        if (c->armed)
            uv_timer_stop(&c->timer);
}

void
collectors_resume(sluice_instance *ins)
{
    for (sluice_collector *c = ins->collectors; c; c = c->next)
        if (c->armed)
            run(c, c->woken ? 0 : c->interval_ms);
}

void
collectors_stop(sluice_instance *ins)
{
    ins->collecting = 0;
    for (sluice_collector *c = ins->collectors; c; c = c->next)
        if (c->armed) {
            uv_close((uv_handle_t *)&c->timer, NULL);
            c->armed = 0;
        }
}

void
collectors_free(sluice_instance *ins)
{
    while (ins->collectors) {
        sluice_collector *c = ins->collectors;
        ins->collectors = c->next;
        free(c);
    }
}

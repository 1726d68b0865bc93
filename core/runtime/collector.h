/* Periodic collection for plugins (include/sluice/plugin.h): each
 * instance's collectors are timers on the engine loop that follow the
 * instance's life: started with it, paused and resumed with its
 * backpressure (inputs), closed before its stop. */
#ifndef SLUICE_COLLECTOR_H
#define SLUICE_COLLECTOR_H

#include "instance.h"

/* The instance started: arm its collectors. */
void collectors_start(sluice_instance *ins);
/* Backpressure (inputs). */
void collectors_pause(sluice_instance *ins);
void collectors_resume(sluice_instance *ins);
/* Before the instance's stop: close their timers. */
void collectors_stop(sluice_instance *ins);
/* After the loop has closed them: free. */
void collectors_free(sluice_instance *ins);

#endif

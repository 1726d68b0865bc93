/* Dead letters: events an output failed for good, or a filter could not
 * process, appended as JSON lines {time, pipeline, output|filter, error,
 * event} to the instance's dead_letter.path.
 * Without a path they are logged (at most a few lines a minute) and counted:
 * never silently gone. Writes are serialised: an output may dead-letter from
 * its worker thread (sluice_dead_letter) while the engine writes others. */
#ifndef SLUICE_DEAD_LETTER_H
#define SLUICE_DEAD_LETTER_H

#include <pthread.h>
#include <stdint.h>
#include "sluice/event.h"
#include "sluice/plugin.h"

typedef struct dead_letter {
    const sluice_instance *ins;
    const char *path; /* NULL: log and count only */
    int fd;
    uint64_t events;      /* dead-lettered (written or, without a path, logged) */
    uint64_t write_errors;
    sluice_time_t log_window;
    unsigned logged_in_window;
    int quiet; /* the last window overflowed: counts only */
    pthread_mutex_t lock;
} dead_letter;

void dead_letter_init(dead_letter *dl, const sluice_instance *ins, const char *path);
void dead_letter_write(dead_letter *dl, const sluice_event *ev, const char *reason);
void dead_letter_close(dead_letter *dl);

#endif

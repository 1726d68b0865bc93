/* What out_file and out_stdout share: events formatted one per line and
 * written whole under a lock (one chunk's lines stay together with several
 * workers), to a file opened on demand (SIGUSR1 reopens it) or to standard
 * output. One rule for write errors: a reader that went away (EPIPE) is
 * permanent, said once, and every later event fails (to the dead letters);
 * anything else (a full disk) is retried. */
#ifndef SLUICE_LINE_OUTPUT_H
#define SLUICE_LINE_OUTPUT_H

#include <stdatomic.h>
#include <sluice/sluice.h>

typedef struct line_output {
    sluice_instance *ins;
    sluice_format_opts fmt;
    const char *path; /* NULL: standard output */
    unsigned mode;    /* of a file it creates */
    uv_mutex_t lock;  /* fd, gone, and the writes */
    int fd;
    int gone;         /* the reader went away: nothing more can be written */
    atomic_int reopen;
} line_output;

/* `path` NULL writes to standard output. */
void line_output_init(line_output *lo, sluice_instance *ins, int format, const char *time_key,
                      const char *path, unsigned mode);
void line_output_flush(line_output *lo, sluice_flush *fl);
/* Reopen the file before the next write (SIGUSR1). */
void line_output_reopen(line_output *lo);
void line_output_close(line_output *lo);

#endif

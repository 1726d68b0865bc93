/* Helpers shared by the unit tests: temporary directories and files. */
#ifndef SLUICE_TESTUTIL_H
#define SLUICE_TESTUTIL_H

#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp). Caller frees the string. */
char *test_tmpdir(void);
/* Write `text` to dir/name. Returns the path; caller frees. */
char *test_write(const char *dir, const char *name, const char *text);
/* rm -r dir */
void test_rmdir(const char *dir);
/* Read a whole file; NULL if it cannot. Caller frees. */
char *test_read(const char *path, size_t *len);


#include <msgpack.h>
#include "sluice/common.h"

#include <check.h>

/* Run every test of `s`; returns the process exit code. */
int test_run_suite(Suite *s);

/* Pack the head of an event ([time, ...) into `pk`; the caller packs the
 * body map next. */
void test_event_head(msgpack_packer *pk, sluice_time_t t);

/* Pack `json` (an object) as one event at `t` into `sb` and read it back
 * into `ev`; the caller destroys `it` and `sb`. */
#include "sluice/event.h"
void test_event_from_json(msgpack_sbuffer *sb, sluice_event_iter *it, sluice_event *ev,
                          sluice_time_t t, const char *json);

#endif

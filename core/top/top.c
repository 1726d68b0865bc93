/* `sluice top [--url URL | -c FILE] [--once]`: a running sluice's
 * pipelines and plugins, refreshed every second: rates, buffers against
 * their limits, retries, dead letters, backpressure and what each plugin
 * counts of its own. Interactive on a terminal; with --once one plain
 * snapshot; with stdout not a terminal, a plain snapshot every second. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "config_error.h"
#include "../healthcheck.h"
#include "top.h"

#define REFRESH_MS 1000
/* Plain output is for scripts: wide enough not to cut names. */
#define PLAIN_WIDTH 200

static void
usage(FILE *f)
{
    fprintf(f, "usage: sluice top [--url URL | -c FILE] [--once]\n"
               "  --url URL     the sluice to watch (default http://127.0.0.1:2020)\n"
               "  -c FILE       the one running FILE (its service.http.listen)\n"
               "  --once        print one plain-text snapshot and exit\n"
               "keys: s next sort column, R reverse, p i k n o b m d r l sort by a column,"
               " q quit\n");
}

/* The base URL of the sluice running `path`. Returns 0, or 1 (printed). */
static int
url_of_config(const char *path, char *url, size_t size)
{
    sluice_config cfg;
    cfg_errors errs = {0};
    memset(&cfg, 0, sizeof cfg);
    int rc = 0;
    if (config_load(&cfg, path, NULL, &errs) < 0) {
        cfg_errors_print(&errs, stderr);
        rc = 1;
    } else if (!cfg.service.http_enabled) {
        fprintf(stderr, "sluice: top: %s turns self-monitoring off (service.http): nothing to "
                        "watch\n", path);
        rc = 1;
    } else {
        char addr[300];
        healthcheck_connect_address(cfg.service.http_listen, addr, sizeof addr);
        snprintf(url, size, "http://%s", addr);
    }
    cfg_errors_free(&errs);
    config_free(&cfg);
    return rc;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One plain snapshot on stdout. Returns 0, or 1 when it could not be had
 * (said on stderr) or stdout is gone. */
static int
print_snapshot(top_client *c, top_snapshot *s, const top_view *v, int width)
{
    char err[512];
    if (top_fetch(c, s, err, sizeof err) < 0) {
        fprintf(stderr, "sluice: top: %s: %s\n", top_client_url(c), err);
        return 1;
    }
    top_sort(s, v);
    sluice_buf out = SLUICE_BUF_INIT;
    top_render(&out, s, v, top_client_url(c), NULL, width, 0);
    size_t n = fwrite(out.data, 1, out.len, stdout);
    int ok = n == out.len && fflush(stdout) == 0;
    sluice_buf_free(&out);
    return ok ? 0 : 1;
}

/* Not a terminal: a snapshot a second, blank-line separated, until stdout
 * goes away or a signal ends it. */
static int
batch(top_client *c, top_snapshot *s, const top_view *v)
{
    for (;;) {
        if (print_snapshot(c, s, v, PLAIN_WIDTH) == 0) {
            putchar('\n');
            fflush(stdout);
        }
        if (ferror(stdout))
            return 0;
        sleep(1);
    }
}

/* A key pressed in the interactive view. Returns 1 to quit. */
static int
on_key(int key, top_view *v)
{
    int col = top_column_for_key(key);
    if (key == 'q' || key == 'Q' || key == 3 /* ^C without ISIG */)
        return 1;
    if (key == 's') {
        v->sort = (v->sort + 1) % COL_COUNT;
        v->reverse = 0;
    } else if (key == 'S') {
        v->sort = (v->sort + COL_COUNT - 1) % COL_COUNT;
        v->reverse = 0;
    } else if (key == 'R') {
        v->reverse = !v->reverse;
    } else if (col >= 0) {
        v->reverse = (int)v->sort == col ? !v->reverse : 0;
        v->sort = (top_column)col;
    }
    return 0;
}

static int
interactive(top_client *c, top_snapshot *s, top_view *v)
{
    if (top_term_enter() < 0) {
        perror("sluice: top");
        return 1;
    }
    char err[512] = "";
    int failed = 0;
    int64_t due = 0;
    sluice_buf frame = SLUICE_BUF_INIT;
    for (;;) {
        if (now_ms() >= due) {
            failed = top_fetch(c, s, err, sizeof err) < 0;
            due = now_ms() + REFRESH_MS;
        }
        int width, height;
        top_term_size(&width, &height);
        top_sort(s, v);
        sluice_buf_reset(&frame);
        top_render(&frame, s, v, top_client_url(c), failed ? err : NULL, width, height);
        top_term_draw(frame.data ? frame.data : "", frame.len);
        int64_t left = due - now_ms();
        int key = top_term_wait(left > 0 ? (int)left : 0);
        if (key < 0 || (key > 0 && on_key(key, v)))
            break;
    }
    sluice_buf_free(&frame);
    top_term_leave();
    return 0;
}

int
top_main(int argc, char **argv)
{
    enum { OPT_URL = 256, OPT_ONCE };
    static const struct option longopts[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"config", required_argument, NULL, 'c'},
        {"once", no_argument, NULL, OPT_ONCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *config = NULL;
    int once = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_URL: url = optarg; break;
        case 'c': config = optarg; break;
        case OPT_ONCE: once = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || (url && config)) {
        fprintf(stderr, optind < argc ? "sluice: top: unexpected argument '%s'\n"
                                      : "sluice: top: --url or -c, not both%s\n",
                optind < argc ? argv[optind] : "");
        usage(stderr);
        return 2;
    }
    char base[400];
    if (config && url_of_config(config, base, sizeof base))
        return 1;
    if (!config)
        snprintf(base, sizeof base, "%s", url ? url : "http://127.0.0.1:2020");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice: top: libcurl did not initialise\n");
        return 1;
    }
    top_client *c = top_client_new(base);
    int rc = 1;
    if (c) {
        top_snapshot s;
        memset(&s, 0, sizeof s);
        top_view v = {COL_PIPELINE, 0, 0};
        int tty = isatty(STDOUT_FILENO);
        if (once) {
            int width = 0, height;
            if (tty)
                top_term_size(&width, &height);
            rc = print_snapshot(c, &s, &v, tty ? width : PLAIN_WIDTH);
        } else if (!tty) {
            rc = batch(c, &s, &v);
        } else {
            v.ansi = 1;
            rc = interactive(c, &s, &v);
        }
        top_snapshot_free(&s);
        top_client_free(c);
    } else {
        fprintf(stderr, "sluice: top: libcurl could not make a handle\n");
    }
    curl_global_cleanup();
    return rc;
}

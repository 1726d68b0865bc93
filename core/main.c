/* The sluice command line (DESIGN.md §6):
 *   sluice [run] -c FILE      run the pipelines
 *   sluice validate -c FILE   check everything and exit 0 or 1
 *   sluice plugins [--json | --markdown]
 *   sluice rules check|test FILE...   Prometheus rule files, promtool's way
 *   sluice healthcheck [-c FILE | --http-listen ADDR]   ask a running sluice
 *   sluice top [--url URL | -c FILE] [--once]   watch a running sluice
 *   sluice version
 * Exit codes: 0 ok, 1 bad configuration or input, 2 usage. */
#include <getopt.h>
#include <malloc.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "reload.h"
#include "healthcheck.h"
#include "log.h"
#include "metrics.h"
#include "plugin_docs.h"
#include "rules_test.h"
#include "sluice/version.h"
#include "top/top.h"

#define EXIT_CONFIG 1
#define EXIT_USAGE 2

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: sluice [run] -c FILE [--log-format text|json] [--log-level LEVEL]\n"
            "                   [--http-listen ADDR:PORT|off] [--once] [--watch-config]\n"
            "       sluice validate -c FILE\n"
            "       sluice plugins [--json | --markdown]\n"
            "       sluice rules check FILE...   check Prometheus rule files\n"
            "       sluice rules test FILE...    run promtool's rule unit tests\n"
            "       sluice healthcheck [-c FILE | --http-listen ADDR]\n"
            "                              exit 0 if the sluice running FILE is healthy\n"
            "       sluice top [--url URL | -c FILE] [--once]\n"
            "                              watch a running sluice's pipelines (q quits)\n"
            "       sluice version\n"
            "\n"
            "  -c, --config FILE     the YAML pipeline configuration\n"
            "      --log-format F    text (default) or json log lines on stderr\n"
            "      --log-level L     error, warn, info, debug or trace (overrides the file)\n"
            "      --http-listen A   self-monitoring address, or off (overrides service.http)\n"
            "      --once            exit when every input is done (service.exit_when_done)\n"
            "      --watch-config    reload when the configuration or a file it includes\n"
            "                        changes (SIGHUP and POST /api/v1/reload always do)\n"
            "  -V, --version         the version\n"
            "  -h, --help            this text\n"
            "\n"
            "Plugins are searched in the built-in directory, then service.plugins_path,\n"
            "then the colon-separated SLUICE_PLUGINS_PATH.\n");
}

typedef struct cli {
    const char *command;
    const char *config;
    const char *log_level;
    const char *http_listen;
    int json, markdown, once, watch_config;
} cli;

static int
parse_args(int argc, char **argv, cli *c)
{
    enum { OPT_LOG_FORMAT = 256, OPT_LOG_LEVEL, OPT_JSON, OPT_MARKDOWN, OPT_HTTP, OPT_ONCE,
           OPT_WATCH };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"http-listen", required_argument, NULL, OPT_HTTP},
        {"once", no_argument, NULL, OPT_ONCE},
        {"watch-config", no_argument, NULL, OPT_WATCH},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"json", no_argument, NULL, OPT_JSON},
        {"markdown", no_argument, NULL, OPT_MARKDOWN},
        {NULL, 0, NULL, 0},
    };
    memset(c, 0, sizeof *c);
    c->command = "run";
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        c->command = argv[1];
        first = 2;
    }
    optind = first;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:hvV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': c->config = optarg; break;
        case 'h': usage(stdout); exit(0);
        case 'v':
        case 'V': c->command = "version"; break;
        case OPT_HTTP: c->http_listen = optarg; break;
        case OPT_ONCE: c->once = 1; break;
        case OPT_WATCH: c->watch_config = 1; break;
        case OPT_LOG_FORMAT:
            if (strcmp(optarg, "json") == 0)
                log_set_format(LOG_FORMAT_JSON);
            else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "sluice: --log-format takes text or json, not '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_LOG_LEVEL: c->log_level = optarg; break;
        case OPT_JSON: c->json = 1; break;
        case OPT_MARKDOWN: c->markdown = 1; break;
        default: return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* sluice rules check|test FILE...: as promtool check rules / test rules. */
static int
cmd_rules(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[0], "check") != 0 && strcmp(argv[0], "test") != 0)) {
        fprintf(stderr, "usage: sluice rules check FILE...\n       sluice rules test FILE...\n");
        return EXIT_USAGE;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++)
        failed |= argv[0][0] == 'c' ? pq_rules_check(argv[i], stdout)
                                    : pq_rules_unit_test(argv[i], stdout);
    return failed ? EXIT_CONFIG : 0;
}

static int
apply_log_level(const char *name)
{
    for (int i = 0; log_level_names[i]; i++)
        if (strcmp(log_level_names[i], name) == 0) {
            log_set_level((sluice_log_level)i);
            return 0;
        }
    fprintf(stderr, "sluice: unknown log level '%s' (error, warn, info, debug, trace)\n", name);
    return -1;
}

static void
print_errors(const cli *c, cfg_errors *errs)
{
    cfg_errors_print(errs, stderr);
    fprintf(stderr, "sluice: %s: %zu error%s in the configuration\n", c->config, errs->n,
            errs->n == 1 ? "" : "s");
}

/* The command line wins over the file for the self-monitoring address. */
static void
apply_overrides(const cli *c, sluice_config *cfg)
{
    if (c->http_listen) {
        int on = strcmp(c->http_listen, "off") != 0;
        cfg->service.http_enabled = on;
        if (on) {
            free(cfg->service.http_listen);
            cfg->service.http_listen = strdup(c->http_listen);
        }
    }
    if (c->once)
        cfg->service.exit_when_done = 1;
}

/* Every configuration a reload loads gets the same overrides. */
static void
adjust_reloaded(sluice_config *cfg, void *arg)
{
    const cli *c = arg;
    if (!c->log_level)
        log_set_level((sluice_log_level)cfg->service.log_level);
    apply_overrides(c, cfg);
}

/* Load the configuration into `cfg`. Errors that stop it from being built
 * are printed here; values only judged wrong stay in `errs` for the engine
 * to add what the plugins find. */
static int
load(const cli *c, sluice_config *cfg, cfg_errors *errs)
{
    memset(cfg, 0, sizeof *cfg);
    if (!c->config) {
        fprintf(stderr, "sluice: %s needs -c FILE\n", c->command);
        return EXIT_USAGE;
    }
    if (config_load(cfg, c->config, NULL, errs) < 0) {
        print_errors(c, errs);
        return EXIT_CONFIG;
    }
    if (!c->log_level)
        log_set_level((sluice_log_level)cfg->service.log_level);
    apply_overrides(c, cfg);
    return 0;
}

static int
cmd_run(const cli *c, int validate_only)
{
    sluice_config cfg;
    cfg_errors errs = {0};
    int rc = load(c, &cfg, &errs);
    if (rc) {
        cfg_errors_free(&errs);
        config_free(&cfg);
        return rc;
    }
    engine e;
    if (engine_create(&e, &cfg, &errs, validate_only) < 0) {
        print_errors(c, &errs);
        rc = EXIT_CONFIG;
    } else if (validate_only) {
        printf("%s: configuration is valid (%zu pipeline%s)\n", c->config, cfg.n_pipelines,
               cfg.n_pipelines == 1 ? "" : "s");
    } else {
        reload_setup(&e, adjust_reloaded, (void *)c, c->watch_config);
        rc = engine_run(&e) ? EXIT_CONFIG : 0;
    }
    cfg_errors_free(&errs);
    engine_destroy(&e);
    config_free(&cfg);
    return rc;
}

/* The self-monitoring address of the sluice to check: --http-listen, else
 * the configuration's service.http, else the default. */
static int
cmd_healthcheck(const cli *c)
{
    if (c->http_listen || !c->config)
        return healthcheck(c->http_listen ? c->http_listen : "127.0.0.1:2020", 5000);
    sluice_config cfg;
    cfg_errors errs = {0};
    int rc = load(c, &cfg, &errs);
    if (rc == 0 && !cfg.service.http_enabled) {
        fprintf(stderr, "sluice: healthcheck: %s turns self-monitoring off (service.http): "
                        "nothing to ask\n", c->config);
        rc = EXIT_CONFIG;
    } else if (rc == 0) {
        rc = healthcheck(cfg.service.http_listen, 5000);
    }
    cfg_errors_free(&errs);
    config_free(&cfg);
    return rc;
}

static void
report_load_error(const char *msg)
{
    fprintf(stderr, "sluice: %s\n", msg);
}

static int
cmd_plugins(const cli *c)
{
    plugin_registry reg;
    registry_init(&reg);
    char *builtin = registry_builtin_dir();
    registry_add_dir(&reg, builtin);
    free(builtin);
    registry_add_path_list(&reg, getenv("SLUICE_PLUGINS_PATH"));
    registry_load_all(&reg, report_load_error);
    if (c->json)
        plugin_docs_json(stdout, &reg);
    else if (c->markdown)
        plugin_docs_markdown(stdout, &reg);
    else
        plugin_docs_text(stdout, &reg);
    registry_free(&reg);
    return 0;
}

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    metrics_process_started();
    /* Chunk buffers (chunk_size, 2 MiB and a little by default) stay
     * mmap-backed so a freed chunk goes back to the kernel: glibc would
     * otherwise raise its threshold after the first free and serve later
     * chunks from a heap that only grows. Below 2 MiB the heap serves:
     * librdkafka builds every produce request (up to batch.size, 1 MB) in
     * a fresh buffer, and mapping each one cost the Kafka output a tenth
     * of its CPU in page faults and munmap. */
    mallopt(M_MMAP_THRESHOLD, 2 * 1024 * 1024);
    /* No fastbins (tcache still serves small blocks): with any in the
     * heap, every allocation over 1 KiB and every free that coalesces
     * past 64 KiB walks them all (malloc_consolidate). librdkafka frees
     * thousands of small blocks per delivery poll, and that walk was 8%
     * of the Kafka output's CPU. */
    mallopt(M_MXFAST, 0);
    /* Tailing many files needs many descriptors: take the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (argc > 1 && strcmp(argv[1], "rules") == 0)
        return cmd_rules(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "top") == 0)
        return top_main(argc - 1, argv + 1);
    cli c;
    if (parse_args(argc, argv, &c) < 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (c.log_level && apply_log_level(c.log_level) < 0)
        return EXIT_USAGE;
    if (strcmp(c.command, "run") == 0)
        return cmd_run(&c, 0);
    if (strcmp(c.command, "validate") == 0)
        return cmd_run(&c, 1);
    if (strcmp(c.command, "plugins") == 0)
        return cmd_plugins(&c);
    if (strcmp(c.command, "healthcheck") == 0)
        return cmd_healthcheck(&c);
    if (strcmp(c.command, "version") == 0) {
        printf("sluice %s (plugin ABI %d.%d)\n", SLUICE_VERSION, SLUICE_ABI_MAJOR,
               SLUICE_ABI_MINOR);
        return 0;
    }
    fprintf(stderr, "sluice: unknown command '%s'\n", c.command);
    usage(stderr);
    return EXIT_USAGE;
}

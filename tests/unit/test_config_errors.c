/* Broken configurations, each with the exact error it must produce: the
 * file, line and column, what was expected and what was found. Set
 * SLUICE_TEST_PRINT=1 to print the messages actually produced. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"
#include "xalloc.h"

typedef struct broken {
    const char *name;
    const char *yaml;    /* t.yaml */
    const char *include; /* b.yaml, or NULL */
    const char *error;   /* the first error; "@" stands for the directory */
} broken;

#define DUMMY_OUT "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: [{type: null}]\n"

static const broken cases[] = {
    {"bad_yaml", "pipelines: [a, b\n", NULL,
     "@/t.yaml:2:1: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence"},
    {"unknown_top_key", "servce: {}\n" DUMMY_OUT, NULL,
     "@/t.yaml:1:1: configuration: unknown key 'servce' (did you mean 'service'?)"},
    {"unknown_service_key", "service:\n  flush_intervl: 1s\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:3: service: unknown key 'flush_intervl' (did you mean 'flush_interval'?)"},
    {"wrong_type_int",
     "pipelines:\n  p:\n    inputs:\n      - type: dummy\n        count: abc\n"
     "    outputs: [{type: null}]\n",
     NULL, "@/t.yaml:5:16: pipelines.p.inputs[0].count: expected an integer, found 'abc'"},
    {"missing_required",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs:\n      - type: file\n", NULL,
     "@/t.yaml:5:9: pipelines.p.outputs[0]: missing required option 'path'"},
    {"bad_duration", "service:\n  flush_interval: 5 parsecs\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:19: service.flush_interval: expected a duration such as 500ms, 1s, 5m or 1h, "
     "found '5 parsecs'"},
    {"bad_size", "service:\n  chunk_size: 2 MBs\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:15: service.chunk_size: expected a size such as 512KiB, 2MiB or 1GiB, found "
     "'2 MBs'"},
    {"unknown_plugin",
     "pipelines:\n  p:\n    inputs: [{type: dumy}]\n    outputs: [{type: null}]\n", NULL,
     "@/t.yaml:3:21: pipelines.p.inputs[0].type: unknown input plugin 'dumy' (searched "
     SLUICE_BUILTIN_PLUGIN_DIR "); did you mean 'dummy'?"},
    {"env_unset", "service:\n  log_level: ${SLUICE_TEST_SURELY_UNSET}\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:14: service.log_level: environment variable 'SLUICE_TEST_SURELY_UNSET' is not set and has no "
     "default (write ${SLUICE_TEST_SURELY_UNSET:-value} to give one)"},
    {"include_loop", "includes: [b.yaml]\n" DUMMY_OUT, "includes: [t.yaml]\n",
     "@/b.yaml:1:12: includes: include loop: @/t.yaml -> @/b.yaml -> @/t.yaml"},
    {"bad_enum", "service:\n  log_level: verbose\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:14: service.log_level: expected one of error, warn, info, debug, trace, "
     "found 'verbose'"},
    {"out_of_range",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: [{type: null, workers: 100}]\n",
     NULL,
     "@/t.yaml:4:37: pipelines.p.outputs[0].workers: expected an integer from 1 to 64, found "
     "'100'"},
    {"section_not_map", "service:\n  http: maybe\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:9: service.http: expected a map or off, found 'maybe'"},
    {"list_expected", "service:\n  plugins_path: {a: b}\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:17: service.plugins_path: expected a list of strings, found a map"},
    {"map_expected",
     "pipelines:\n  p:\n    inputs: [{type: dummy, record: [1, 2]}]\n"
     "    outputs: [{type: null}]\n",
     NULL, "@/t.yaml:3:36: pipelines.p.inputs[0].record: expected a map, found a list"},
    {"duplicate_key", "service: {}\nservice: {}\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:1: duplicate key 'service' (first at line 1, column 1)"},
    {"duplicate_id",
     "pipelines:\n  p:\n    inputs: [{type: dummy, id: x}]\n"
     "    outputs: [{type: null, id: x}]\n",
     NULL, "@/t.yaml:4:32: pipelines.p.outputs[0]: instance id 'x' is used twice"},
    {"missing_pipelines", "service: {}\n", NULL, "@/t.yaml:1:1: missing required key 'pipelines'"},
    {"empty_inputs", "pipelines:\n  p:\n    inputs: []\n    outputs: [{type: null}]\n", NULL,
     "@/t.yaml:3:13: pipelines.p.inputs: expected a non-empty list of inputs, found an empty "
     "list"},
    {"pipeline_not_map", "pipelines:\n  p: 3\n", NULL,
     "@/t.yaml:2:6: pipelines.p: expected a map with inputs, filters and outputs, found '3'"},
    {"instance_without_type",
     "pipelines:\n  p:\n    inputs: [{rate: 1}]\n    outputs: [{type: null}]\n", NULL,
     "@/t.yaml:3:14: pipelines.p.inputs[0]: missing required key 'type'"},
    {"unknown_option",
     "pipelines:\n  p:\n    inputs: [{type: dummy, cont: 3}]\n    outputs: [{type: null}]\n",
     NULL,
     "@/t.yaml:3:28: pipelines.p.inputs[0]: unknown key 'cont' (did you mean 'count'?)"},
    {"empty_file", "", NULL, "@/t.yaml:1:1: the configuration is empty: expected a map"},
    {"root_not_map", "- a\n- b\n", NULL,
     "@/t.yaml:1:1: the configuration must be a map, found a list"},
    {"include_missing", "includes: [nothere.yaml]\n" DUMMY_OUT, NULL,
     "@/t.yaml:1:12: includes: cannot read '@/nothere.yaml': No such file or directory"},
    {"malformed_variable", "service:\n  log_level: ${LEVEL\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:14: malformed variable reference in '${LEVEL': expected ${NAME} or "
     "${NAME:-default}"},
    {"duration_out_of_range", "service:\n  flush_interval: 0s\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:19: service.flush_interval: expected a duration from 1ms to 1h, found '0s'"},
    {"nested_unknown_key",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n"
     "    outputs: [{type: null, buffer: {max_mem: 1MiB}}]\n",
     NULL,
     "@/t.yaml:4:37: pipelines.p.outputs[0].buffer: unknown key 'max_mem' (did you mean "
     "'max_memory'?)"},
    {"bad_pipeline_name",
     "pipelines:\n  my pipe:\n    inputs: [{type: dummy}]\n    outputs: [{type: null}]\n", NULL,
     "@/t.yaml:2:3: pipelines: a pipeline name is letters, digits, '_', '-' and '.', found "
     "'my pipe'"},
    {"duplicate_pipeline_in_include", "includes: [b.yaml]\n" DUMMY_OUT,
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: [{type: null}]\n",
     "@/b.yaml:2:3: pipeline 'p' is already defined at @/t.yaml:3:3"},
    {"outputs_not_list",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: {type: null}\n", NULL,
     "@/t.yaml:4:14: pipelines.p.outputs: expected a non-empty list of outputs, found a map"},
    {"bool_expected", "service:\n  http: {listen: [a]}\n" DUMMY_OUT, NULL,
     "@/t.yaml:2:18: service.http.listen: expected a string, found a list"},
    {"env_bad_value",
     "pipelines:\n  p:\n    inputs: [{type: dummy, count: '${SLUICE_TEST_BAD_COUNT}'}]\n"
     "    outputs: [{type: null}]\n",
     NULL,
     "@/t.yaml:3:35: pipelines.p.inputs[0].count: expected an integer, found 'abc' (from "
     "${SLUICE_TEST_BAD_COUNT})"},
    {"env_for_a_field",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n"
     "    outputs: [{type: elasticsearch, hosts: [http://127.0.0.1:9], index: 'a-${service}'}]\n",
     NULL,
     "@/t.yaml:4:73: pipelines.p.outputs[0].index: environment variable 'service' is not set; "
     "to use the event's field 'service' write %{service} (or $${service}), for a default write "
     "${service:-value}"},
    {"var_in_flow_map",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n"
     "    outputs: [{type: http, url: http://x, bearer_token: ${TOKEN}}]\n",
     NULL,
     "@/t.yaml:4:58: invalid YAML: did not find expected ',' or '}' while parsing a flow "
     "mapping (a ${VAR} inside {...} or [...] must be quoted: token: \"${VAR}\")"},
    {"filter_as_output",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: [{type: regex}]\n", NULL,
     "@/t.yaml:4:22: pipelines.p.outputs[0].type: regex is a filter, not an output: list it "
     "under filters"},
    {"fluent_bit_name",
     "pipelines:\n  p:\n    inputs: [{type: dummy}]\n    outputs: [{type: es}]\n", NULL,
     "@/t.yaml:4:22: pipelines.p.outputs[0].type: unknown output plugin 'es' (searched "
     SLUICE_BUILTIN_PLUGIN_DIR "); sluice's name for it is 'elasticsearch'"},
    {"fluent_bit_key_case",
     "pipelines:\n  p:\n    inputs: [{type: tail, Path: /x.log}]\n"
     "    outputs: [{type: null}]\n",
     NULL, "@/t.yaml:3:27: pipelines.p.inputs[0]: unknown key 'Path' (did you mean 'path'?)"},
};

#define N_CASES (sizeof cases / sizeof *cases)

/* Replace every "@" in `pattern` with `dir`. */
static char *
expand(const char *pattern, const char *dir)
{
    size_t n = 1;
    for (const char *p = pattern; *p; p++)
        n += *p == '@' ? strlen(dir) : 1;
    char *out = xmalloc(n), *o = out;
    for (const char *p = pattern; *p; p++) {
        if (*p == '@') {
            strcpy(o, dir);
            o += strlen(dir);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* A configuration written to a fresh directory and loaded. */
typedef struct loaded {
    char *dir;
    sluice_config cfg;
    cfg_errors errs;
    int rc;
} loaded;

/* Write t.yaml (and b.yaml when `include` is not NULL) and load t.yaml. */
static void
load_text(loaded *l, const char *yaml, const char *include)
{
    memset(l, 0, sizeof *l);
    l->dir = test_tmpdir();
    char *path = test_write(l->dir, "t.yaml", yaml);
    if (include)
        free(test_write(l->dir, "b.yaml", include));
    l->rc = config_load(&l->cfg, path, SLUICE_BUILTIN_PLUGIN_DIR, &l->errs);
    free(path);
}

static void
unload(loaded *l)
{
    cfg_errors_free(&l->errs);
    config_free(&l->cfg);
    test_rmdir(l->dir);
    free(l->dir);
}

START_TEST(test_config_error_is_exact)
{
    const broken *b = &cases[_i];
    unsetenv("SLUICE_TEST_SURELY_UNSET");
    setenv("SLUICE_TEST_BAD_COUNT", "abc", 1);
    loaded l;
    load_text(&l, b->yaml, b->include);
    if (getenv("SLUICE_TEST_PRINT")) {
        fprintf(stderr, "== %s\n", b->name);
        cfg_errors_print(&l.errs, stderr);
    }
    ck_assert_msg(l.rc == -1, "%s: config_load accepted a broken configuration", b->name);
    ck_assert_msg(l.errs.n >= 1, "%s: no error reported", b->name);
    char *want = expand(b->error, l.dir);
    char *got = cfg_error_str(&l.errs.v[0]);
    ck_assert_msg(strcmp(got, want) == 0, "%s:\n  want: %s\n  got:  %s", b->name, want, got);
    free(got);
    free(want);
    unload(&l);
}
END_TEST

START_TEST(test_config_reports_every_error)
{
    loaded l;
    load_text(&l,
              "service:\n  log_level: loud\n  grace: soon\n"
              "pipelines:\n  p:\n    inputs: [{type: dummy, rate: fast}]\n"
              "    outputs: [{type: nul}]\n",
              NULL);
    ck_assert_int_eq(l.rc, -1);
    ck_assert_uint_eq(l.errs.n, 4);
    ck_assert_int_eq(l.errs.v[0].line, 2);
    ck_assert_int_eq(l.errs.v[1].line, 3);
    ck_assert_int_eq(l.errs.v[2].line, 6);
    ck_assert_int_eq(l.errs.v[3].line, 7);
    unload(&l);
}
END_TEST

/* Values a plugin's check hook refuses are errors at their place, but the
 * configuration is still built (its instances marked rejected), so that
 * validate goes on to what the other plugins' inits find. */
START_TEST(test_config_check_hooks_judge_values)
{
    loaded l;
    load_text(&l,
              "pipelines:\n  p:\n"
              "    inputs: [{type: exec, command: date, env: {A: [1]}}]\n"
              "    outputs:\n"
              "      - {type: http, url: 'ftp://x'}\n"
              "      - {type: elasticsearch, hosts: ['http://a:9200', 'http//b']}\n"
              "      - {type: influxdb, url: 'http://i', database: d, headers: {X-A: {b: c}}}\n"
              "      - {type: null}\n",
              NULL);
    static const char *const want[] = {
        "@/t.yaml:3:47: pipelines.p.inputs[0].env: names and values must be strings",
        "@/t.yaml:5:27: pipelines.p.outputs[0].url: expected an http:// or https:// URL, found "
        "'ftp://x'",
        "@/t.yaml:6:56: pipelines.p.outputs[1].hosts[1]: expected an http:// or https:// URL, "
        "found 'http//b'",
        "@/t.yaml:7:65: pipelines.p.outputs[2].headers: every header name and value must be a "
        "string",
    };
    ck_assert_int_eq(l.rc, 0);
    ck_assert_uint_eq(l.errs.n, 4);
    ck_assert_uint_eq(l.errs.n_judged, 4);
    for (size_t i = 0; i < 4; i++) {
        char *w = expand(want[i], l.dir);
        char *got = cfg_error_str(&l.errs.v[i]);
        ck_assert_msg(strcmp(got, w) == 0, "want: %s\n  got:  %s", w, got);
        free(got);
        free(w);
    }
    const pipeline_config *pc = &l.cfg.pipelines[0];
    ck_assert_int_eq(pc->inputs[0].rejected, 1);
    ck_assert_int_eq(pc->outputs[0].rejected, 1);
    ck_assert_int_eq(pc->outputs[1].rejected, 1);
    ck_assert_int_eq(pc->outputs[2].rejected, 1);
    ck_assert_int_eq(pc->outputs[3].rejected, 0);
    unload(&l);
}
END_TEST

START_TEST(test_config_valid_with_env_and_includes)
{
    setenv("SLUICE_TEST_RATE", "7", 1);
    unsetenv("SLUICE_TEST_LEVEL");
    loaded l;
    load_text(&l,
              "includes: ['b.*']\n"
              "service:\n  log_level: ${SLUICE_TEST_LEVEL:-debug}\n"
              "  flush_interval: 250ms\n  chunk_size: 512KiB\n"
              "pipelines:\n  first:\n"
              "    inputs: [{type: dummy, rate: '${SLUICE_TEST_RATE}'}]\n"
              "    outputs: [{type: null}]\n",
              "pipelines:\n  second:\n    inputs: [{type: dummy}]\n"
              "    outputs: [{type: null, id: sink2}]\n");
    cfg_errors_print(&l.errs, stderr);
    ck_assert_int_eq(l.rc, 0);
    const sluice_config *cfg = &l.cfg;
    ck_assert_int_eq(cfg->service.log_level, 3);
    ck_assert_int_eq(cfg->service.flush_interval, 250 * SLUICE_NSEC_PER_MSEC);
    ck_assert_int_eq(cfg->service.chunk_size, 512 * 1024);
    ck_assert_int_eq(cfg->service.grace, 10 * SLUICE_NSEC_PER_SEC);
    ck_assert_int_eq(cfg->service.http_enabled, 1);
    ck_assert_str_eq(cfg->service.http_listen, "127.0.0.1:2020");
    ck_assert_uint_eq(cfg->n_pipelines, 2);
    ck_assert_str_eq(cfg->pipelines[0].name, "first");
    ck_assert_str_eq(cfg->pipelines[0].inputs[0].id, "first.dummy.0");
    ck_assert_str_eq(cfg->pipelines[0].outputs[0].id, "first.null.0");
    /* dummy's config struct: record (sluice_bytes), then rate. */
    ck_assert_int_eq(*(const int64_t *)((const char *)cfg->pipelines[0].inputs[0].config +
                                        sizeof(sluice_bytes)),
                     7);
    ck_assert_str_eq(cfg->pipelines[1].name, "second");
    ck_assert_str_eq(cfg->pipelines[1].outputs[0].id, "sink2");
    ck_assert_int_eq(cfg->pipelines[1].outputs[0].out.workers, 1);
    ck_assert_int_eq(cfg->pipelines[1].outputs[0].out.max_memory, 0); /* the buffer chooses */
    unload(&l);
}
END_TEST

START_TEST(test_config_http_off)
{
    loaded l;
    load_text(&l, "service: {http: off}\n" DUMMY_OUT, NULL);
    ck_assert_int_eq(l.rc, 0);
    ck_assert_int_eq(l.cfg.service.http_enabled, 0);
    unload(&l);
}
END_TEST

START_TEST(test_config_missing_file)
{
    sluice_config cfg;
    cfg_errors errs = {0};
    ck_assert_int_eq(config_load(&cfg, "/nonexistent/sluice.yaml", NULL, &errs), -1);
    char *got = cfg_error_str(&errs.v[0]);
    ck_assert_str_eq(got, "/nonexistent/sluice.yaml: cannot read the file: No such file or "
                          "directory");
    free(got);
    cfg_errors_free(&errs);
    config_free(&cfg);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("config_errors");
    TCase *tc = tcase_create("config");
    tcase_add_loop_test(tc, test_config_error_is_exact, 0, (int)N_CASES);
    tcase_add_test(tc, test_config_reports_every_error);
    tcase_add_test(tc, test_config_check_hooks_judge_values);
    tcase_add_test(tc, test_config_valid_with_env_and_includes);
    tcase_add_test(tc, test_config_http_off);
    tcase_add_test(tc, test_config_missing_file);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

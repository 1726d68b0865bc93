/* The plugin loader: finds plugins by kind and name, and refuses foreign
 * ABIs, non-plugins and unknown names with messages that say why. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plugin_registry.h"
#include "testutil.h"
#include "xalloc.h"

static plugin_registry reg;

static void
setup(void)
{
    registry_init(&reg);
    registry_add_dir(&reg, SLUICE_BUILTIN_PLUGIN_DIR);
    registry_add_dir(&reg, SLUICE_TEST_PLUGIN_DIR);
}

static void
teardown(void)
{
    registry_free(&reg);
}

START_TEST(test_registry_finds_builtin)
{
    char *err = NULL;
    const plugin_entry *e = registry_find(&reg, SLUICE_PLUGIN_INPUT, "dummy", &err);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->desc.name, "dummy");
    ck_assert_int_eq(e->desc.kind, SLUICE_PLUGIN_INPUT);
    ck_assert_str_eq(e->path, SLUICE_BUILTIN_PLUGIN_DIR "/in_dummy.so");
    /* A second lookup is the same entry, not a second dlopen. */
    ck_assert_ptr_eq(registry_find(&reg, SLUICE_PLUGIN_INPUT, "dummy", &err), e);
}
END_TEST

START_TEST(test_registry_refuses_other_abi_major)
{
    char *err = NULL;
    ck_assert_ptr_null(registry_find(&reg, SLUICE_PLUGIN_OUTPUT, "abi_major", &err));
    char *want = xasprintf("plugin %s/out_abi_major.so was built for sluice plugin ABI 99.0, "
                           "but this sluice speaks ABI %d.%d: rebuild the plugin against this "
                           "sluice's SDK",
                           SLUICE_TEST_PLUGIN_DIR, SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
}
END_TEST

START_TEST(test_registry_refuses_newer_abi_minor)
{
    char *err = NULL;
    ck_assert_ptr_null(registry_find(&reg, SLUICE_PLUGIN_OUTPUT, "abi_minor", &err));
    ck_assert_ptr_nonnull(strstr(err, "newer than this sluice's ABI"));
    free(err);
}
END_TEST

START_TEST(test_registry_refuses_non_plugin)
{
    char *err = NULL;
    ck_assert_ptr_null(registry_find(&reg, SLUICE_PLUGIN_OUTPUT, "no_symbol", &err));
    char *want = xasprintf("%s/out_no_symbol.so is not a sluice plugin: it exports no "
                           "'sluice_plugin' symbol",
                           SLUICE_TEST_PLUGIN_DIR);
    ck_assert_str_eq(err, want);
    free(want);
    free(err);
}
END_TEST

START_TEST(test_registry_unknown_names_directories)
{
    char *err = NULL;
    ck_assert_ptr_null(registry_find(&reg, SLUICE_PLUGIN_FILTER, "nope", &err));
    ck_assert_str_eq(err, "unknown filter plugin 'nope' (searched " SLUICE_BUILTIN_PLUGIN_DIR
                          ", " SLUICE_TEST_PLUGIN_DIR ")");
    free(err);
    ck_assert_ptr_null(registry_find(&reg, SLUICE_PLUGIN_INPUT, "../x", &err));
    ck_assert_str_eq(err, "invalid input plugin name '../x'");
    free(err);
}
END_TEST

START_TEST(test_config_refuses_abi_mismatch)
{
    char *dir = test_tmpdir();
    char *yaml = xasprintf("service: {plugins_path: [%s]}\npipelines:\n  p:\n"
                           "    inputs: [{type: dummy}]\n    outputs: [{type: abi_major}]\n",
                           SLUICE_TEST_PLUGIN_DIR);
    char *path = test_write(dir, "t.yaml", yaml);
    sluice_config cfg;
    cfg_errors errs = {0};
    ck_assert_int_eq(config_load(&cfg, path, SLUICE_BUILTIN_PLUGIN_DIR, &errs), -1);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "pipelines.p.outputs[0].type: plugin "));
    ck_assert_ptr_nonnull(strstr(errs.v[0].msg, "was built for sluice plugin ABI 99.0"));
    cfg_errors_free(&errs);
    config_free(&cfg);
    free(path);
    free(yaml);
    test_rmdir(dir);
    free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("plugin_registry");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registry_finds_builtin);
    tcase_add_test(tc, test_registry_refuses_other_abi_major);
    tcase_add_test(tc, test_registry_refuses_newer_abi_minor);
    tcase_add_test(tc, test_registry_refuses_non_plugin);
    tcase_add_test(tc, test_registry_unknown_names_directories);
    tcase_add_test(tc, test_config_refuses_abi_mismatch);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

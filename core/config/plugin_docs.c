/* `sluice plugins` in its three forms, all generated from option schemas. */
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "option.h"
#include "plugin_docs.h"
#include "sluice/format.h"

static const sluice_plugin_kind kinds[] = {SLUICE_PLUGIN_INPUT, SLUICE_PLUGIN_FILTER,
                                           SLUICE_PLUGIN_OUTPUT};

static void
enum_values(FILE *f, const sluice_option *o, const char *sep)
{
    for (size_t i = 0; o->values && o->values[i]; i++)
        fprintf(f, "%s%s", i ? sep : "", o->values[i]);
}

/* ==== Text ==== */

static void
options_text(FILE *f, const sluice_option *opts, const char *prefix)
{
    for (const sluice_option *o = opts; o && o->name; o++) {
        if (o->type == SLUICE_OPT_SECTION || o->type == SLUICE_OPT_LIST) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s%s%s.", prefix, o->name,
                     o->type == SLUICE_OPT_LIST ? "[]" : "");
            if (o->type == SLUICE_OPT_LIST)
                fprintf(f, "    %s%-*s %-16s\n        %s\n", prefix, (int)(22 - strlen(prefix)),
                        o->name, option_type_name(o->type), o->help ? o->help : "");
            options_text(f, o->sub, sub);
            continue;
        }
        fprintf(f, "    %s%-*s %-16s", prefix, (int)(22 - strlen(prefix)), o->name,
                option_type_name(o->type));
        if (o->flags & SLUICE_OPT_REQUIRED)
            fprintf(f, " required");
        else if (o->def)
            fprintf(f, " default %s", o->def);
        fprintf(f, "\n        %s", o->help ? o->help : "");
        if (o->type == SLUICE_OPT_ENUM) {
            fprintf(f, " One of: ");
            enum_values(f, o, ", ");
            fprintf(f, ".");
        }
        fprintf(f, "\n");
    }
}

void
plugin_docs_text(FILE *f, const plugin_registry *reg)
{
    for (size_t k = 0; k < 3; k++) {
        fprintf(f, "%ss:\n", plugin_kind_name(kinds[k]));
        for (size_t i = 0; i < reg->n_loaded; i++) {
            const struct sluice_plugin *d = &reg->loaded[i]->desc;
            if (d->kind != kinds[k])
                continue;
            fprintf(f, "  %-14s %s\n", d->name, d->description ? d->description : "");
            options_text(f, d->options, "");
        }
    }
    fprintf(f, "every output also takes:\n");
    options_text(f, output_options, "");
    fprintf(f, "every filter also takes:\n");
    options_text(f, filter_options, "");
    fprintf(f, "every instance takes `type` and an optional `id` (default "
               "<pipeline>.<type>.<n>, used in logs and metrics)\n");
}

/* ==== JSON ==== */

static void
json_str(FILE *f, const char *s)
{
    sluice_buf b = SLUICE_BUF_INIT;
    sluice_json_string(&b, s ? s : "", s ? strlen(s) : 0);
    fwrite(b.data, 1, b.len, f);
    sluice_buf_free(&b);
}

static void
options_json(FILE *f, const sluice_option *opts)
{
    fprintf(f, "[");
    for (const sluice_option *o = opts; o && o->name; o++) {
        fprintf(f, "%s{\"name\":", o == opts ? "" : ",");
        json_str(f, o->name);
        fprintf(f, ",\"type\":");
        json_str(f, option_type_name(o->type));
        fprintf(f, ",\"required\":%s", (o->flags & SLUICE_OPT_REQUIRED) ? "true" : "false");
        if (o->def) {
            fprintf(f, ",\"default\":");
            json_str(f, o->def);
        }
        if (o->flags & SLUICE_OPT_RANGE)
            fprintf(f, ",\"min\":%" PRId64 ",\"max\":%" PRId64, o->min, o->max);
        if (o->type == SLUICE_OPT_ENUM) {
            fprintf(f, ",\"values\":[");
            for (size_t i = 0; o->values[i]; i++) {
                fprintf(f, "%s", i ? "," : "");
                json_str(f, o->values[i]);
            }
            fprintf(f, "]");
        }
        if (o->type == SLUICE_OPT_SECTION || o->type == SLUICE_OPT_LIST) {
            fprintf(f, ",\"options\":");
            options_json(f, o->sub);
        }
        fprintf(f, ",\"help\":");
        json_str(f, o->help);
        fprintf(f, "}");
    }
    fprintf(f, "]");
}

void
plugin_docs_json(FILE *f, const plugin_registry *reg)
{
    fprintf(f, "{\"abi\":\"%d.%d\",\"plugins\":[", SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR);
    for (size_t i = 0; i < reg->n_loaded; i++) {
        const plugin_entry *e = reg->loaded[i];
        fprintf(f, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", plugin_kind_name(e->desc.kind));
        json_str(f, e->desc.name);
        fprintf(f, ",\"description\":");
        json_str(f, e->desc.description);
        fprintf(f, ",\"path\":");
        json_str(f, e->path);
        fprintf(f, ",\"options\":");
        options_json(f, e->desc.options);
        fprintf(f, "}");
    }
    fprintf(f, "]}\n");
}

/* ==== Markdown ==== */

static void
options_markdown(FILE *f, const sluice_option *opts, const char *prefix)
{
    for (const sluice_option *o = opts; o && o->name; o++) {
        if (o->type == SLUICE_OPT_SECTION || o->type == SLUICE_OPT_LIST) {
            char sub[128];
            int list = o->type == SLUICE_OPT_LIST;
            snprintf(sub, sizeof sub, "%s%s%s.", prefix, o->name, list ? "[]" : "");
            fprintf(f, "| `%s%s` | %s%s | %s | %s |\n", prefix, o->name,
                    list ? "list of maps" : "section",
                    (o->flags & SLUICE_OPT_OFF) ? " or `off`" : "",
                    (o->flags & SLUICE_OPT_REQUIRED) ? "**required**" : "",
                    o->help ? o->help : "");
            options_markdown(f, o->sub, sub);
            continue;
        }
        fprintf(f, "| `%s%s` | %s | ", prefix, o->name, option_type_name(o->type));
        if (o->flags & SLUICE_OPT_REQUIRED)
            fprintf(f, "**required**");
        else if (o->def)
            fprintf(f, "`%s`", o->def);
        fprintf(f, " | %s", o->help ? o->help : "");
        if (o->type == SLUICE_OPT_ENUM) {
            fprintf(f, " One of: ");
            enum_values(f, o, ", ");
            fprintf(f, ".");
        }
        if ((o->flags & SLUICE_OPT_RANGE) && o->type == SLUICE_OPT_INT)
            fprintf(f, " From %" PRId64 " to %" PRId64 ".", o->min, o->max);
        fprintf(f, " |\n");
    }
}

static void
table_head(FILE *f)
{
    fprintf(f, "| option | type | default | description |\n|---|---|---|---|\n");
}

void
plugin_docs_markdown(FILE *f, const plugin_registry *reg)
{
    fprintf(f, "# Configuration reference\n\n"
               "Generated by `sluice plugins --markdown` (build target `docs`) from the option\n"
               "schemas compiled into sluice and its plugins; do not edit by hand.\n\n"
               "Durations: `500ms`, `1s`, `5m`, `1h`, `1d` (a bare number is seconds). Sizes:\n"
               "`512KiB`, `2MiB`, `1GiB` (`K`/`M`/`G` are powers of 1024, `KB`/`MB`/`GB` of\n"
               "1000; a bare number is bytes).\n\n"
               "## The file\n\n"
               "Top-level keys: `service`, `pipelines` and `includes`.\n\n"
               "- `${VAR}` and `${VAR:-default}` in any value are taken from the environment\n"
               "  when the file is loaded; `$$` is a literal `$`. Inside `{...}` or `[...]`\n"
               "  quote such a value (`token: \"${TOKEN}\"`). Options that take event fields\n"
               "  write them `%%{field}` (or `$${field}`).\n"
               "- `includes:` is a list of files or globs, relative to the including file,\n"
               "  merged into it: their `pipelines` and `service` keys are added one by one,\n"
               "  and a key defined twice is an error naming both places. Includes may\n"
               "  include (loops are refused). For example, one file per pipeline:\n\n"
               "  ```yaml\n"
               "  # /etc/sluice/sluice.yaml\n"
               "  service: {log_level: info}\n"
               "  includes: [pipelines.d/*.yaml]\n"
               "  pipelines:\n"
               "    self:\n"
               "      inputs: [{type: internal_metrics}]\n"
               "      outputs: [{type: stdout}]\n"
               "  ```\n\n"
               "- Unknown keys are errors, with the nearest valid key suggested; every error\n"
               "  names the file, line and column.\n\n"
               "## service\n\n");
    table_head(f);
    options_markdown(f, service_options, "");
    fprintf(f, "\n## Every plugin instance\n\n"
               "| option | type | default | description |\n|---|---|---|---|\n"
               "| `type` | string | **required** | The plugin. |\n"
               "| `id` | string | `<pipeline>.<type>.<n>` | Name in logs and metrics; "
               "unique. |\n"
               "\n## Every output\n\n");
    table_head(f);
    options_markdown(f, output_options, "");
    fprintf(f, "\n## Every filter\n\n");
    table_head(f);
    options_markdown(f, filter_options, "");
    for (size_t k = 0; k < 3; k++) {
        fprintf(f, "\n## %ss\n", plugin_kind_name(kinds[k]));
        for (size_t i = 0; i < reg->n_loaded; i++) {
            const struct sluice_plugin *d = &reg->loaded[i]->desc;
            if (d->kind != kinds[k])
                continue;
            fprintf(f, "\n### %s\n\n%s\n\n", d->name, d->description ? d->description : "");
            if (d->kind != SLUICE_PLUGIN_INPUT)
                fprintf(f, "Accepts %s events.\n\n",
                        d->accepts == SLUICE_ACCEPTS_ALL    ? "log and metric"
                        : d->accepts == SLUICE_ACCEPTS_LOGS ? "log"
                                                            : "metric");
            if (!d->options || !d->options->name) {
                fprintf(f, "No options.\n");
                continue;
            }
            table_head(f);
            options_markdown(f, d->options, "");
        }
    }
}

/* libFuzzer target: the slack output's saved groups (any JSON), each
 * group due rendered, and the message checked against Slack's limits:
 * valid JSON, at most 50 blocks, 3000 bytes a section. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/out_slack/slack.h"

static void
check(const sluice_buf *m)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char err[128];
    if (sluice_json_to_msgpack(m->data, m->len, &pk, err, sizeof err) != 0)
        abort();
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) != MSGPACK_UNPACK_SUCCESS)
        abort();
    const msgpack_object *att = sluice_record_get(&up.data, "attachments");
    const msgpack_object *blocks = sluice_record_get(&att->via.array.ptr[0], "blocks");
    if (blocks->via.array.size > SLACK_MAX_BLOCKS)
        abort();
    for (uint32_t i = 0; i < blocks->via.array.size; i++)
        if (sluice_record_get(&blocks->via.array.ptr[i], "text.text")->via.str.size >
            SLACK_MAX_SECTION)
            abort();
    if (sluice_record_get(&up.data, "text")->via.str.size > SLACK_MAX_TEXT)
        abort();
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *by[] = {"alertname"};
    static const sluice_strlist group_by = {1, by};
    static const slack_grouping set = {&group_by, 0, 1000, 60000, 100, 1000, "message"};
    slack_groups gs = {.set = &set};
    char why[256];
    slack_state_parse(&gs, (const char *)data, size, why, sizeof why);
    pq_template_env env = {NULL, NULL, NULL};
    slack_layout lay = {NULL, NULL, &env, "#c"};
    slack_group *g;
    sluice_buf m = SLUICE_BUF_INIT;
    while ((g = slack_groups_due(&gs, INT64_C(1) << 50))) {
        m.len = 0;
        slack_render(&m, g, &lay, g->thread_ts, NULL);
        check(&m);
        slack_group_told(&gs, g, INT64_C(1) << 50, "1.2", "C");
    }
    sluice_buf_free(&m);
    slack_groups_free(&gs);
    return 0;
}

/* librdkafka configuration shared by the kafka plugins (see kafka_conf.h). */
#include <stdio.h>
#include <string.h>

#include "kafka_conf.h"

int
kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
               size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "librdkafka property %s=%s: %s", name, value, why);
    return -1;
}

int
kafka_conf_apply_map(rd_kafka_conf_t *conf, const sluice_bytes *map, char *err, size_t errlen)
{
    if (!map->len)
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int rc = 0;
    if (msgpack_unpack_next(&up, map->data, map->len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        snprintf(err, errlen, "rdkafka: expected a map of librdkafka properties");
        rc = -1;
    }
    for (uint32_t i = 0; rc == 0 && i < up.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type == MSGPACK_OBJECT_MAP ||
            kv->val.type == MSGPACK_OBJECT_ARRAY || kv->val.type == MSGPACK_OBJECT_NIL) {
            snprintf(err, errlen, "rdkafka: every property takes a string, number or boolean");
            rc = -1;
            break;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
        sluice_buf scratch = SLUICE_BUF_INIT, value = SLUICE_BUF_INIT;
        size_t n;
        const char *text = sluice_json_text(&kv->val, &scratch, &n);
        sluice_buf_append(&value, text, n);
        sluice_buf_putc(&value, '\0');
        rc = kafka_conf_set(conf, name, value.data, err, errlen);
        sluice_buf_free(&scratch);
        sluice_buf_free(&value);
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

int
kafka_conf_check_map(const void *value, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = kafka_conf_apply_map(conf, value, err, errlen);
    rd_kafka_conf_destroy(conf);
    return rc;
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    sluice_instance **ins = rd_kafka_opaque(rk);
    if (!ins)
        return;
    if (level <= 3)
        sluice_error(*ins, "librdkafka %s: %s", fac, buf);
    else if (level <= 4)
        sluice_warn(*ins, "librdkafka %s: %s", fac, buf);
    else if (level <= 6)
        sluice_info(*ins, "librdkafka %s: %s", fac, buf);
    else
        sluice_debug(*ins, "librdkafka %s: %s", fac, buf);
}

void
kafka_conf_log_to_sluice(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
}

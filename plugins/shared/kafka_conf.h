/* What the kafka input and output share in configuring librdkafka: the
 * `rdkafka` map of librdkafka properties passed through, and librdkafka's
 * log lines routed to sluice's log. */
#ifndef SLUICE_KAFKA_CONF_H
#define SLUICE_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <sluice/sluice.h>

/* Set one property; on failure err names it and librdkafka's reason. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errlen);

/* Set every property of `map` (a MessagePack map of names to strings,
 * numbers or booleans, written as librdkafka expects them). Returns 0, or
 * -1 with err naming the property. */
int kafka_conf_apply_map(rd_kafka_conf_t *conf, const sluice_bytes *map, char *err, size_t errlen);

/* An option check for the `rdkafka` map: every value is a scalar, and
 * librdkafka knows every property. */
int kafka_conf_check_map(const void *value, char *err, size_t errlen);

/* librdkafka's log lines go to the instance's log (its level mapped);
 * the conf's opaque must then point to a struct whose first member is the
 * sluice_instance *. */
void kafka_conf_log_to_sluice(rd_kafka_conf_t *conf);

#endif

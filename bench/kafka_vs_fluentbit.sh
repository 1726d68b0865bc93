#!/usr/bin/env bash
# The Kafka producer side by side with Fluent Bit's out_kafka, the runs
# interleaved in one session (CPU-seconds move with the host's load, so
# only figures of one session compare): dummy -> kafka on librdkafka's mock
# cluster (tests/kafka/mock_kafka, 1 broker, 6 partitions, its CPU not
# counted), JSON values, lz4, acks all and the idempotent producer for both.
# A run is done when the topic's end offsets (kcat -Q) add up to N, i.e.
# when the broker holds every message, whatever each collector counts;
# then its CPU (utime+stime) and peak RSS (VmHWM) are read.
#
# usage: FLUENT_BIT=/path/to/fluent-bit bench/kafka_vs_fluentbit.sh [N] [RUNS]
#        (README.md in this folder says how that Fluent Bit was built)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-1000000}
RUNS=${2:-5}
BIN=${SLUICE_BIN:-build/bin/sluice}
FLUENT_BIT=${FLUENT_BIT:?set FLUENT_BIT to a fluent-bit binary}
RECORD="a benchmark event of typical length for an application log line"
T=$(mktemp -d)
MOCK_PID=
trap '[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$T"' EXIT

start_mock_kafka "$T"

# stored TOPIC: the messages the broker holds in TOPIC's 6 partitions.
stored() {
    local args=() p
    for p in 0 1 2 3 4 5; do args+=(-t "$1:$p:-1"); done
    kcat -Q -b "$BROKERS" "${args[@]}" 2>/dev/null |
        awk '$(NF - 1) == "offset" {s += $NF} END {print s + 0}'
}

# all_stored: TOPIC holds N messages (3 minutes at most).
all_stored() {
    for _ in $(seq 3600); do [ "$(stored "$TOPIC")" -ge "$N" ] && return 0; sleep 0.05; done
    return 1
}

for r in $(seq "$RUNS"); do
    echo "topic sluice$r 6" >&7
    echo "topic fluentbit$r 6" >&7
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off}
pipelines:
  bench:
    inputs:
      - {type: dummy, rate: 0, count: $N, record: {message: "$RECORD"}}
    outputs:
      - {type: kafka, brokers: ["$BROKERS"], topic: sluice$r, compression: lz4}
YAML
    # Fluent Bit's dummy makes `copies` events every 1/rate s, `samples` times.
    cat >"$T/fluent-bit.conf" <<CONF
[SERVICE]
    flush        1
    log_level    warn
[INPUT]
    name         dummy
    dummy        {"message": "$RECORD"}
    rate         1000
    copies       1000
    samples      $((N / 1000))
[OUTPUT]
    name         kafka
    match        *
    brokers      $BROKERS
    topics       fluentbit$r
    rdkafka.compression.codec  lz4
    rdkafka.enable.idempotence true
    rdkafka.request.required.acks -1
CONF
    TOPIC=sluice$r
    row=$(measure_until "$N" "$T/log" all_stored "$BIN" -c "$T/sluice.yaml") || exit 1
    echo "$row 0" >>"$T/sluice"
    TOPIC=fluentbit$r
    row=$(measure_until "$N" "$T/log" all_stored "$FLUENT_BIT" -c "$T/fluent-bit.conf") || exit 1
    echo "$row 0" >>"$T/fluentbit"
done
median_report "$T/sluice" "sluice: dummy -> kafka (json, lz4, acks all, idempotent), $N events" events
median_report "$T/fluentbit" "Fluent Bit: the same, $N events" events

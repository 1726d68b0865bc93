#!/usr/bin/env bash
# Kafka both ways, on librdkafka's mock cluster (tests/kafka/mock_kafka, a
# process of its own whose CPU is not counted; 1 broker, 6 partitions):
#   producer: dummy -> kafka (format json, lz4, acks all, idempotent: the
#             output's defaults) until the output reports N delivered
#   consumer: kafka -> null, a new consumer group reading those N messages
# Measured as bench/README.md says: sluice's own CPU (utime+stime), wall
# time from exec to the Nth event, peak RSS (VmHWM); median of the runs.
# The goal (issue 18): >= 1 M events per CPU-second on the producer side.
#
# usage: bench/kafka_throughput.sh [N] [RUNS] [COMPRESSION]
#        (default 2000000 3 lz4; the mock keeps every message in memory)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2000000}
RUNS=${2:-3}
COMPRESSION=${3:-lz4}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
MOCK_PID=
trap '[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$T"' EXIT

start_mock_kafka "$T"

# counted MPORT METRIC: the value of the (one) series METRIC on /metrics.
counted() {
    curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 ~ "^"m"[{]" {print $2}'
}
wait_counted() { # MPORT METRIC N, 120 s at most
    for _ in $(seq 6000); do [ "$(counted "$1" "$2")" -ge "$3" ] 2>/dev/null && return 0; sleep 0.02; done
    return 1
}
produced() { wait_counted "$MPORT" sluice_output_events_total "$N"; }
consumed() { wait_counted "$MPORT" sluice_input_events_total "$N"; }

for r in $(seq "$RUNS"); do
    echo "topic bench$r 6" >&7
    MPORT=$(free_port)
    cat >"$T/produce.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  bench:
    inputs:
      - {type: dummy, rate: 0, count: $N,
         record: {message: "a benchmark event of typical length for an application log line"}}
    outputs:
      - {type: kafka, brokers: ["$BROKERS"], topic: bench$r, compression: $COMPRESSION}
YAML
    row=$(measure_until "$N" "$T/log" produced "$BIN" -c "$T/produce.yaml") || exit 1
    echo "$row 0" >>"$T/produce"
    MPORT=$(free_port)
    cat >"$T/consume.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  bench:
    inputs: [{type: kafka, brokers: ["$BROKERS"], group_id: bench$r, topics: [bench$r]}]
    outputs: [{type: null}]
YAML
    row=$(measure_until "$N" "$T/log" consumed "$BIN" -c "$T/consume.yaml") || exit 1
    echo "$row 0" >>"$T/consume"
done
median_report "$T/produce" "dummy -> kafka ($COMPRESSION, acks all, idempotent), $N events" events
median_report "$T/consume" "kafka -> null, $N events (includes joining the group, ~3 s wall on the mock)" events

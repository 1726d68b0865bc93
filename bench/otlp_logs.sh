#!/usr/bin/env bash
# OTLP protobuf logs -> null: one ExportLogsServiceRequest of 512 records,
# made by the real OpenTelemetry JS SDK (tests/node/otlp_logs.js, captured
# by bench/otlp_capture.py), POSTed REPEAT times on kept-alive connections
# to the opentelemetry input, RUNS times. SHAPE `lean` is a typical
# service's record (a short body, three attributes, trace context), `full`
# the test suite's (seven attributes of every type, nested). Reports log
# records per CPU-second of sluice, records/s, CPU seconds and peak RSS.
# Median of the runs. Needs `npm ci --prefix tests/node`.
#
# usage: bench/otlp_logs.sh [REPEAT] [RUNS] [lean|full]  (default 2000 requests: 1,024,000 records, lean)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPEAT=${1:-2000}
RUNS=${2:-5}
SHAPE=${3:-lean}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'kill $CAP 2>/dev/null; rm -rf "$T"' EXIT

CPORT=$(free_port)
python3 bench/otlp_capture.py --port "$CPORT" --out "$T/body.pb" &
CAP=$!
sleep 0.5
node tests/node/otlp_logs.js "http://127.0.0.1:$CPORT" proto 512 $([ "$SHAPE" = lean ] && echo lean) >/dev/null
kill $CAP
N=$((512 * REPEAT))

for run in $(seq "$RUNS"); do
    PORT=$(free_port)
    MPORT=$(free_port)
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  otlp:
    inputs: [{type: opentelemetry, listen: 127.0.0.1:$PORT}]
    outputs: [{type: null}]
YAML
    measure_run sluice "$T/sluice.yaml" "$MPORT" "$N" "$T/results" \
        python3 bench/http_post.py "$T/body.pb" --port "$PORT" --path /v1/logs --repeat "$REPEAT" \
        --connections 2 --content-type application/x-protobuf
    if [ -n "${FLUENT_BIT:-}" ]; then # the peer, interleaved
        PORT=$(free_port)
        MPORT=$(free_port)
        fluent_bit_conf "$MPORT" "name opentelemetry" "listen 127.0.0.1" "port $PORT" >"$T/fb.conf"
        measure_run fluent-bit "$T/fb.conf" "$MPORT" "$N" "$T/fb_results" \
            python3 bench/http_post.py "$T/body.pb" --port "$PORT" --path /v1/logs --repeat "$REPEAT" \
            --connections 2 --content-type application/x-protobuf
    fi
done
median_report "$T/results" "OTLP protobuf logs ($SHAPE) -> null, $N records in requests of 512 ($(stat -c %s "$T/body.pb") bytes, from the OpenTelemetry JS SDK)" records
if [ -n "${FLUENT_BIT:-}" ]; then
    median_report "$T/fb_results" "Fluent Bit ($FLUENT_BIT), the same workload" records
    ratio_report "$T/results" "$T/fb_results"
fi

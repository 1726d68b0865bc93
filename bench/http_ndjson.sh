#!/usr/bin/env bash
# HTTP NDJSON -> null: the http input taking the W1 JSON lines of
# ../shared/bench/gen.py in requests of 1,000 lines on kept-alive
# connections (bench/http_post.py), RUNS times. Reports events per
# CPU-second of sluice, events/s (first request to the last event counted),
# CPU seconds and peak RSS; the client resends what is refused, so nothing
# may be missing. Median of the runs.
#
# usage: bench/http_ndjson.sh [FILE] [RUNS] [CONNECTIONS]
#        (FILE default /tmp/w1.json, generated with gen.py json 2000000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILE=${1:-/tmp/w1.json}
RUNS=${2:-5}
CONNS=${3:-2}
BIN=${SLUICE_BIN:-build/bin/sluice}
[ -f "$FILE" ] || python3 ../shared/bench/gen.py json 2000000 "$FILE"
N=$(wc -l <"$FILE")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for run in $(seq "$RUNS"); do
    PORT=$(free_port)
    MPORT=$(free_port)
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  http:
    inputs: [{type: http, listen: 127.0.0.1:$PORT}]
    outputs: [{type: null}]
YAML
    measure_run sluice "$T/sluice.yaml" "$MPORT" "$N" "$T/results" \
        python3 bench/http_post.py "$FILE" --port "$PORT" --lines 1000 --connections "$CONNS"
    if [ -n "${FLUENT_BIT:-}" ]; then # the peer, interleaved; it reads NDJSON as JSON
        PORT=$(free_port)
        MPORT=$(free_port)
        fluent_bit_conf "$MPORT" "name http" "listen 127.0.0.1" "port $PORT" >"$T/fb.conf"
        measure_run fluent-bit "$T/fb.conf" "$MPORT" "$N" "$T/fb_results" \
            python3 bench/http_post.py "$FILE" --port "$PORT" --lines 1000 --connections "$CONNS" \
            --content-type application/json
    fi
done
median_report "$T/results" "HTTP NDJSON -> null, $N events in requests of 1,000 on $CONNS kept-alive connections" events
if [ -n "${FLUENT_BIT:-}" ]; then
    median_report "$T/fb_results" "Fluent Bit ($FLUENT_BIT), the same workload" events
    ratio_report "$T/results" "$T/fb_results"
fi

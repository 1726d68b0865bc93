#!/usr/bin/env bash
# OTLP protobuf logs -> null: one ExportLogsServiceRequest of 512 records,
# made by the real OpenTelemetry JS SDK (tests/node/otlp_logs.js, captured
# by bench/otlp_capture.py), POSTed REPEAT times on kept-alive connections
# to the opentelemetry input, RUNS times. Reports log records per
# CPU-second of sluice, records/s, CPU seconds and peak RSS. Median of
# the runs. Needs `npm ci --prefix tests/node`.
#
# usage: bench/otlp_logs.sh [REPEAT] [RUNS]  (default 2000 requests: 1,024,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPEAT=${1:-2000}
RUNS=${2:-5}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'kill $CAP 2>/dev/null; rm -rf "$T"' EXIT

CPORT=$(free_port)
python3 bench/otlp_capture.py --port "$CPORT" --out "$T/body.pb" &
CAP=$!
sleep 0.5
node tests/node/otlp_logs.js "http://127.0.0.1:$CPORT" proto 512 >/dev/null
kill $CAP
PER=512
N=$((PER * REPEAT))

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
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    pid=$!
    for _ in $(seq 100); do grep -q "listening for OTLP" "$T/log" && break; sleep 0.05; done
    counted() {
        curl -fs "http://127.0.0.1:$MPORT/metrics" | awk '/^sluice_input_events_total/ {print $2}'
    }
    start=$(date +%s.%N)
    python3 bench/http_post.py "$T/body.pb" --port "$PORT" --path /v1/logs --repeat "$REPEAT" \
        --connections 2 --content-type application/x-protobuf >"$T/post.json"
    for _ in $(seq 3000); do [ "$(counted)" -ge "$N" ] 2>/dev/null && break; sleep 0.02; done
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    got=$(counted)
    kill -TERM "$pid"
    wait "$pid"
    python3 -c "
n, cpu, wall = $got, $cpu, $done_at - $start
print(f'{n / cpu / 1e6:.3f} {n / wall / 1e6:.3f} {cpu:.2f} {$hwm / 1024:.1f} {$N - n}')" >>"$T/results"
done

python3 - "$T/results" "$N" "$RUNS" "$(stat -c %s "$T/body.pb")" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
print(f"OTLP protobuf logs -> null, {int(sys.argv[2]):,} records in requests of 512 "
      f"({int(sys.argv[4]):,} bytes, from the OpenTelemetry JS SDK), median of {sys.argv[3]} runs:")
print(f"  {m[0]:.2f} M records per CPU-second, {m[1]:.2f} M records/s")
print(f"  {m[2]:.2f} CPU seconds, {m[3]:.1f} MiB peak RSS, missing: {int(max(r[4] for r in rows))} (worst run)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY

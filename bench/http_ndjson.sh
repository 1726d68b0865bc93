#!/usr/bin/env bash
# HTTP NDJSON -> null: the http input taking the W1 JSON lines of
# ../shared/bench/gen.py in requests of 1,000 lines on kept-alive
# connections (bench/http_post.py), RUNS times. Reports events per
# CPU-second of sluice, events/s (first request to the last event counted),
# CPU seconds and peak RSS; every request must be answered 200. Median of
# the runs.
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
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$T/log" && break; sleep 0.05; done
    counted() {
        curl -fs "http://127.0.0.1:$MPORT/metrics" | awk '/^sluice_input_events_total/ {print $2}'
    }
    start=$(date +%s.%N)
    python3 bench/http_post.py "$FILE" --port "$PORT" --lines 1000 --connections "$CONNS" >"$T/post.json"
    for _ in $(seq 3000); do [ "$(counted)" -ge "$N" ] 2>/dev/null && break; sleep 0.02; done
    done_at=$(date +%s.%N)
    cpu=$(proc_cpu "$pid")
    hwm=$(proc_hwm "$pid")
    got=$(counted)
    kill -TERM "$pid"
    wait "$pid"
    refused=$(python3 -c "import json; print(json.load(open('$T/post.json'))['refused'])")
    python3 -c "
n, cpu, wall = $got, $cpu, $done_at - $start
print(f'{n / cpu / 1e6:.3f} {n / wall / 1e6:.3f} {cpu:.2f} {$hwm / 1024:.1f} {$N - n} {$refused}')" >>"$T/results"
done

python3 - "$T/results" "$N" "$RUNS" "$CONNS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
print(f"HTTP NDJSON -> null, {int(sys.argv[2]):,} events in requests of 1,000 on "
      f"{sys.argv[4]} kept-alive connections, median of {sys.argv[3]} runs:")
print(f"  {m[0]:.2f} M events per CPU-second, {m[1]:.2f} M events/s")
print(f"  {m[2]:.2f} CPU seconds, {m[3]:.1f} MiB peak RSS, "
      f"missing: {int(max(r[4] for r in rows))}, non-200 answers: {int(max(r[5] for r in rows))} (worst run)")
for r in rows:
    print(f"  run: {r[0]:.2f} M/CPU-s  {r[1]:.2f} M/s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY

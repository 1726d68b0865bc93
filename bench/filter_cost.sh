#!/usr/bin/env bash
# What each filter costs per event: dummy -> FILTER -> null for N events of
# a realistic record (a JSON app-log line for json, an Apache combined line
# for the others), minus dummy -> null on the same record, in the same run.
# CPU as ../shared/bench/README.md measures it; median of RUNS runs.
#
# usage: bench/filter_cost.sh [N] [RUNS]    (default 2000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-2000000}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

JSON_LINE='{"ts":"2024-03-01T00:00:01.123Z","level":"info","service":"checkout","host":"web-07","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","user_id":48213,"latency_ms":12.7,"msg":"order placed","status":200}'
APACHE_LINE='137.243.225.66 - - [01/Mar/2024:00:00:01 +0000] "GET /static/js/app.3f9a1c.js HTTP/1.1" 503 34294 "https://www.example.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"'

# name|record message|filters
cases=(
    "none (json line)|$JSON_LINE|[]"
    "json|$JSON_LINE|[{type: json}]"
    "none (apache line)|$APACHE_LINE|[]"
    "regex %{apache_combined}|$APACHE_LINE|[{type: regex, pattern: '%{apache_combined}'}]"
    "grep (1 include rule)|$APACHE_LINE|[{type: grep, include: {message: ' 50[0-9] '}}]"
    "modify (set, rename, remove)|$APACHE_LINE|[{type: modify, set: {env: prod}, rename: {message: line}, remove: [seq]}]"
    "regex + log_to_metrics (counter by status, histogram)|$APACHE_LINE|[{type: regex, pattern: '%{apache_combined}'}, {type: log_to_metrics, interval: 1h, metrics: [{name: req, type: counter, labels: [status, method]}, {name: size, type: histogram, field: bytes, buckets: [100, 1000, 10000, 100000]}]}]"
)

run_case() { # filters message -> "cpu"
    python3 - "$2" >"$T/rec.yaml" <<'PY'
import json, sys
print(json.dumps({"message": sys.argv[1]}))
PY
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  bench:
    inputs: [{type: dummy, rate: 0, count: $N, record: $(cat "$T/rec.yaml")}]
    filters: $1
    outputs: [{type: null}]
YAML
    "$BIN" -c "$T/sluice.yaml" 2>"$T/log" &
    local pid=$!
    for _ in $(seq 6000); do grep -q "delivered\|emitted $N events" "$T/log" && break; sleep 0.01; done
    sleep 0.4
    proc_cpu "$pid"
    kill -TERM "$pid"
    wait "$pid"
    # log_to_metrics adds its metric events to the N logs.
    local got
    got=$(grep -o "delivered [0-9]* events" "$T/log" | awk '{print $2}')
    [ "${got:-0}" -ge "$N" ] || { echo "not every event delivered: $1" >&2; tail -3 "$T/log" >&2; exit 1; }
}

for c in "${cases[@]}"; do
    IFS='|' read -r name msg filters <<<"$c"
    for run in $(seq "$RUNS"); do
        echo "$name|$(run_case "$filters" "$msg")" >>"$T/results"
    done
done

python3 - "$T/results" "$N" "$RUNS" <<'PY'
import statistics, sys
n = int(sys.argv[2])
cpu = {}
for line in open(sys.argv[1]):
    name, c = line.rstrip("\n").rsplit("|", 1)
    cpu.setdefault(name, []).append(float(c))
print(f"filter cost on dummy, {n:,} events, median of {sys.argv[3]} runs (CPU-s; ns per event "
      "over the baseline with the same record)")
base = None
for name, v in cpu.items():
    m = statistics.median(v)
    if name.startswith("none"):
        base = m
        print(f"  {name:55s} {m:6.2f} CPU-s  {n / m / 1e6:6.2f} M events/CPU-s")
    else:
        print(f"  {name:55s} {m:6.2f} CPU-s  {(m - base) / n * 1e9:6.0f} ns/event")
PY

#!/usr/bin/env bash
# Metric events -> influxdb into a real InfluxDB 1.x (Debian influxdb): N
# points in line protocol read by exec (format: influx, oneshot), written
# in batches of batch_max_points. Reports points/s into InfluxDB (from
# start until a count(*) query sees all N) and sluice's CPU seconds and peak
# RSS at that moment, median of RUNS. InfluxDB's own CPU is not counted.
#
# usage: bench/influx_write.sh [N] [RUNS]      (default 200000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-200000}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=$(mktemp -d)
HTTP=$(free_port)
META=$(free_port)
. tests/services/influxdb.sh
influxd_config "$T" "$HTTP" "$META" >"$T/influxdb.conf"
influxd run -config "$T/influxdb.conf" >"$T/influxd.log" 2>&1 &
INFLUX_PID=$!
trap 'kill $INFLUX_PID 2>/dev/null; wait $INFLUX_PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 300); do curl -fs -o /dev/null "http://127.0.0.1:$HTTP/ping" && break; sleep 0.1; done
python3 - "$T/points.lp" "$N" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    for i in range(n):
        f.write(f"bench,host=h{i % 100},dc=d{i % 3} value={i * 0.5},count={i}i,ok=true {1795000000000000000 + i * 1000}\n")
PY

count() {
    curl -fsS -G "http://127.0.0.1:$HTTP/query" --data-urlencode "db=b$1" \
        --data-urlencode 'q=SELECT count(value) FROM bench' |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["series"][0]["values"][0][1] if "series" in r else 0)'
}

# all_points RUN: until database bRUN holds N points (at most 10 minutes).
all_points() {
    for _ in $(seq 1200); do [ "$(count "$1")" -ge "$N" ] && return; sleep 0.5; done
}

for run in $(seq "$RUNS"); do
    curl -fsS -XPOST "http://127.0.0.1:$HTTP/query" --data-urlencode "q=CREATE DATABASE b$run" >/dev/null
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}}
pipelines:
  points:
    inputs: [{type: exec, command: [cat, $T/points.lp], format: influx, oneshot: true, max_output: 1GiB}]
    outputs: [{type: influxdb, url: "http://127.0.0.1:$HTTP", database: b$run}]
YAML
    measure "$N" "$T/sluice.yaml" "$T/log" all_points "$run" >>"$T/results"
    [ "$(count "$run")" -eq "$N" ] || { echo "run $run: $(count "$run") of $N points" >&2; exit 1; }
done

python3 - "$T/results" "$N" "$RUNS" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
m = [statistics.median(c) for c in zip(*rows)]
print(f"metric events -> influxdb (real InfluxDB 1.x), {int(sys.argv[2]):,} points, median of {sys.argv[3]} runs:")
print(f"  {m[1] * 1e3:.0f} k points/s into InfluxDB (until a query counts them all)")
print(f"  sluice: {m[0]:.3f} M points per CPU-second, {m[2]:.2f} CPU-s, {m[3]:.1f} MiB peak RSS")
for r in rows:
    print(f"  run: {r[1] * 1e3:.0f} k points/s  {r[0]:.3f} M/CPU-s  {r[2]:.2f} CPU-s  {r[3]:.1f} MiB")
PY

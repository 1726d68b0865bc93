#!/usr/bin/env bash
# prometheus_remote_write: samples per CPU-second into a loopback sink
# (../shared/bench/sink.py answers 200 to /api/v1/write). SAMPLES metric
# events of one sample each (1,000 series) come from `exec` reading a file
# of InfluxDB line protocol once; sluice exits when they are delivered
# (exit_when_done). The same run with a null output gives the cost of
# reading and parsing, which is subtracted: what remains is remote write's
# own (protobuf, snappy, HTTP). Median of RUNS, each pair run back to back.
#
# usage: bench/remote_write.sh [SAMPLES] [RUNS]     (default 1000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SAMPLES=${1:-1000000}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'kill "${SINK_PID:-0}" 2>/dev/null; rm -rf "$T"' EXIT
python3 - "$T/in.lp" "$SAMPLES" <<'PY'
import sys, time
t0 = time.time_ns() - 600 * 10**9
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"bench_metric,host=h{i % 100},series=s{i % 1000} value={i} {t0 + i * 1000}\n")
PY
start_sink "$T"

# run OUTPUT: "user+sys peak_kib wall" of one run that delivers everything.
run() {
    rm -rf "$T/state"
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, exit_when_done: true, storage: {path: $T/state}}
pipelines:
  m:
    inputs: [{type: exec, command: [cat, "$T/in.lp"], format: influx, oneshot: true,
              max_output: 1GiB}]
    outputs: [$1]
YAML
    /usr/bin/time -f '%U %S %M %e' -o "$T/time" "$BIN" -c "$T/sluice.yaml" 2>"$T/sluice.log"
    awk '{printf "%.3f %d %.3f\n", $1 + $2, $3, $4}' "$T/time"
}
rw="{type: prometheus_remote_write, url: 'http://127.0.0.1:$SINK_PORT/api/v1/write', max_events: 2000}"
for i in $(seq "$RUNS"); do
    echo "null $(run '{type: null}')"
    curl -fs -X POST "http://127.0.0.1:$SINK_PORT/_reset" >/dev/null
    echo "rw $(run "$rw")"
    curl -fs "http://127.0.0.1:$SINK_PORT/_stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("sink", d["other_requests"], d["bytes"])'
done | tee "$T/runs"
python3 - "$T/runs" "$SAMPLES" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
null = [float(r[1]) for r in rows if r[0] == "null"]
rw = [float(r[1]) for r in rows if r[0] == "rw"]
rss = [int(r[2]) for r in rows if r[0] == "rw"]
own = sorted(b - a for a, b in zip(null, rw))  # per pair, run back to back
sink = [r for r in rows if r[0] == "sink"][-1]
print(f"samples: {n}; requests the sink took: {sink[1]} ({int(sink[2]) / 1e6:.1f} MB after decoding)")
print(f"exec -> null:         {statistics.median(null):.2f} CPU-s")
print(f"exec -> remote write: {statistics.median(rw):.2f} CPU-s, peak RSS {statistics.median(rss) / 1024:.1f} MiB")
print(f"remote write alone:   {statistics.median(own):.2f} CPU-s = {n / statistics.median(own) / 1e6:.2f} M samples per CPU-second")
print(f"whole pipeline:       {n / statistics.median(rw) / 1e6:.2f} M samples per CPU-second")
PY

#!/usr/bin/env bash
# prometheus_scrape: the cost of scraping an exposition of SERIES series
# (counters with two labels, and 1 in 10 series a histogram of 10
# buckets), served as a static file on loopback, every second into a null
# output for SECONDS. Reported: sluice's CPU per scrape (fetch, parse,
# events into the pipeline), counted from the events the input emitted
# (SERIES + 3 a scrape), and the peak RSS.
#
# usage: bench/scrape.sh [SERIES] [SECONDS]     (default 100000 20)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SERIES=${1:-100000}
SECONDS_=${2:-20}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'kill "${SRV:-0}" "${PID:-0}" 2>/dev/null; rm -rf "$T"' EXIT
python3 - "$T/metrics" "$SERIES" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    f.write("# HELP bench_requests_total Requests.\n# TYPE bench_requests_total counter\n")
    for i in range(n - n // 10):
        f.write(f'bench_requests_total{{path="/item/{i}",code="{200 + i % 5}"}} {i}\n')
    f.write("# HELP bench_seconds Latency.\n# TYPE bench_seconds histogram\n")
    for i in range(n // 10):
        c = 0
        for le in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"):
            c += i % 7
            f.write(f'bench_seconds_bucket{{path="/h/{i}",le="{le}"}} {c}\n')
        f.write(f'bench_seconds_sum{{path="/h/{i}"}} {i * 0.1}\nbench_seconds_count{{path="/h/{i}"}} {c}\n')
PY
PORT=$(free_port)
MPORT=$(free_port)
(cd "$T" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
SRV=$!
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  m:
    inputs: [{type: prometheus_scrape, targets: ["http://127.0.0.1:$PORT/metrics"], interval: 1s,
              timeout: 1s}]
    outputs: [{type: null}]
YAML
"$BIN" -c "$T/sluice.yaml" 2>"$T/sluice.log" &
PID=$!
sleep "$SECONDS_"
cpu=$(proc_cpu "$PID")
kib=$(proc_hwm "$PID")
scraped=$(curl -fs "http://127.0.0.1:$MPORT/metrics" | awk '/^sluice_input_events_total/ {print $2}')
kill "$PID"; wait "$PID" || true
python3 - "$cpu" "$kib" "$scraped" "$SERIES" <<'PY'
import sys
cpu, kib, events, series = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
scrapes = events / (series + 3)
print(f"series: {series}; {scrapes:.0f} scrapes ({int(events)} events)")
print(f"CPU per scrape (fetch, parse, events into the pipeline): {cpu / scrapes * 1000:.0f} ms")
print(f"peak RSS: {kib / 1024:.1f} MiB")
PY

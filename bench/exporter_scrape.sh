#!/usr/bin/env bash
# prometheus_exporter: the cost of a scrape of SERIES series (counters from
# log_to_metrics, one label of SERIES values and one of 10), and the memory
# they take. A tail of SERIES lines builds them; then SCRAPES scrapes in
# the text format, in OpenMetrics and gzipped, timed by curl
# (time_total, loopback). Reported: the median ms per scrape of each kind,
# the exposition's size, and sluice's peak RSS per series (the RSS of the
# same pipeline with a null output subtracted).
#
# usage: bench/exporter_scrape.sh [SERIES] [SCRAPES]     (default 100000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SERIES=${1:-100000}
SCRAPES=${2:-10}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$T"' EXIT
python3 - "$T/app.log" "$SERIES" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"GET /item/{i} {200 + i % 10}\n")
PY

# run OUTPUT: start sluice with OUTPUT, wait until every series is in; sets PID.
run() {
    rm -rf "$T/state"
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/app.log"], read_from_head: true}]
    filters:
      - {type: regex, pattern: '^(?<method>\S+) (?<path>\S+) (?<status>\d+)$'}
      - type: log_to_metrics
        interval: 1s
        discard_logs: true
        max_series: $((SERIES + 10))
        metrics: [{name: http_requests_total, type: counter, labels: [path, status]}]
    outputs: [$1]
YAML
    "$BIN" -c "$T/sluice.yaml" 2>"$T/sluice.log" &
    PID=$!
}

PORT=$(free_port)
run "{type: null}"
sleep 4
base_kib=$(proc_hwm "$PID")
kill "$PID"; wait "$PID" || true

run "{type: prometheus_exporter, listen: '127.0.0.1:$PORT', max_series: $((SERIES + 10))}"
for _ in $(seq 600); do
    n=$(curl -fs "http://127.0.0.1:$PORT/metrics" | grep -c '^http_requests_total{' || true)
    [ "$n" -ge "$SERIES" ] && break
    sleep 0.5
done
[ "$n" -ge "$SERIES" ] || { echo "only $n series after 5 minutes" >&2; exit 1; }
sleep 2
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
scrape() {
    for _ in $(seq "$SCRAPES"); do
        curl -fs -o "$T/out" -w '%{time_total}\n' "$@" "http://127.0.0.1:$PORT/metrics"
    done | awk '{printf "%.1f\n", $1 * 1000}' | median
}
text_ms=$(scrape)
text_bytes=$(stat -c %s "$T/out")
om_ms=$(scrape -H 'Accept: application/openmetrics-text;version=1.0.0')
gzip_ms=$(scrape -H 'Accept-Encoding: gzip')
gzip_bytes=$(stat -c %s "$T/out")
kib=$(proc_hwm "$PID")
kill "$PID"; wait "$PID" || true
printf 'series: %d\n' "$SERIES"
printf 'scrape, text format:   %s ms (%d bytes)\n' "$text_ms" "$text_bytes"
printf 'scrape, OpenMetrics:   %s ms\n' "$om_ms"
printf 'scrape, text gzipped:  %s ms (%d bytes)\n' "$gzip_ms" "$gzip_bytes"
printf 'peak RSS: %d KiB; with a null output instead: %d KiB; %.0f bytes per series\n' \
    "$kib" "$base_kib" "$(echo "($kib - $base_kib) * 1024 / $SERIES" | bc -l)"

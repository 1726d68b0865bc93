#!/usr/bin/env bash
# The prometheus_exporter output scraped by a real Prometheus (Debian's
# 2.42): tail -> regex -> log_to_metrics -> exporter. PromQL queries return
# the exact counts and histogram buckets; `promtool check metrics` passes
# on the text format; OpenMetrics and gzip are served when asked; a series
# that stops being fed is gone after expire_after while the others stay;
# max_series refuses and logs.
source "$(dirname "$0")/lib.sh"

XPORT=$(free_port)
SMALL=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/access.log"], read_from_head: true}]
    filters:
      - type: regex
        pattern: '^(?<method>[A-Z]+) (?<path>\S+) (?<status>\d+) (?<seconds>[\d.]+)$'
      - type: log_to_metrics
        interval: 250ms
        discard_logs: true
        metrics:
          - {name: http_requests_total, type: counter, labels: [method, status]}
          - name: http_request_duration_seconds
            type: histogram
            field: seconds
            buckets: [0.1, 0.5, 1]
            labels: [method]
    outputs:
      - {type: prometheus_exporter, listen: "127.0.0.1:$XPORT", expire_after: 3s,
         add_labels: {source: "sluice \"test\""}}
      - {type: prometheus_exporter, listen: "127.0.0.1:$SMALL", max_series: 2}
  # Series that stop: log_to_metrics forgets a job 1 s after its last line
  # and stops emitting it; the exporter drops it 3 s after the last event.
  jobs:
    inputs: [{type: tail, path: ["$T/jobs.log"], read_from_head: true, parser: json}]
    filters:
      - type: log_to_metrics
        interval: 250ms
        expire_after: 1s
        discard_logs: true
        emit_to: app
        metrics: [{name: jobs_total, type: counter, labels: [task]}]
    outputs: [{type: null}]
YAML
# 300 GET (200: 200 lines, 500: 100 lines) and 40 POST, at known durations.
python3 - "$T/access.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        f.write(f"GET /api/{i} {500 if i % 3 == 0 else 200} {[0.05, 0.3, 0.7, 2.0][i % 4]}\n")
    for i in range(40):
        f.write("POST /upload 201 0.25\n")
PY
start_sluice -c "$T/sluice.yaml"
scrape() { curl -fs "http://127.0.0.1:$XPORT/metrics"; }
all_in() { scrape | grep -q 'http_requests_total{method="POST",source="sluice \\"test\\"",status="201"} 40'; }
wait_for 20 all_in || fail "the exporter does not show the counts: $(scrape | head -20)"
scrape >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/promtool.log")"
grep -qx 'http_request_duration_seconds_bucket{method="GET",source="sluice \\"test\\"",le="+Inf"} 300' "$T/metrics.txt" ||
    fail "no +Inf bucket equal to the count: $(grep GET "$T/metrics.txt")"
[ "$(grep -c '^# TYPE http_requests_total counter$' "$T/metrics.txt")" = 1 ] || fail "TYPE not once per family"
pass "the text format passes promtool check metrics, labels escaped, +Inf bucket = count"

curl -fs -H 'Accept: application/openmetrics-text;version=1.0.0' -D "$T/om.head" \
    "http://127.0.0.1:$XPORT/metrics" >"$T/om.txt" || fail "OpenMetrics scrape"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$T/om.head" || fail "OpenMetrics content type: $(cat "$T/om.head")"
tail -1 "$T/om.txt" | grep -qx '# EOF' || fail "no # EOF"
grep -qx '# TYPE http_requests counter' "$T/om.txt" || fail "OpenMetrics counter family: $(grep TYPE "$T/om.txt")"
grep -q '^http_request_duration_seconds_bucket{method="GET",source="sluice \\"test\\"",le="1.0"} 225$' "$T/om.txt" ||
    fail "OpenMetrics bucket bounds: $(grep 'le=' "$T/om.txt" | head -4)"
curl -fs -H 'Accept-Encoding: gzip' "http://127.0.0.1:$XPORT/metrics" | gunzip | cmp -s - "$T/metrics.txt" ||
    fail "the gzipped scrape differs"
pass "OpenMetrics (family without _total, le=\"1.0\", # EOF) and gzip when asked"

PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: sluice
    static_configs: [{targets: ['127.0.0.1:$XPORT']}]
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)
wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$PPORT/-/ready" || fail "prometheus not ready: $(tail -5 "$T/prom.log")"
query() {
    curl -fs "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(" ".join(sorted(x["value"][1] for x in r)) or "none")'
}
up() { [ "$(query 'up{job="sluice"}')" = 1 ] && [ "$(query 'sum(http_requests_total)')" != none ]; }
wait_for 60 up || fail "Prometheus did not scrape the exporter: $(tail -5 "$T/prom.log")"
check() {
    local got
    got=$(query "$1")
    [ "$got" = "$2" ] || fail "$1 = $got, not $2"
}
check 'http_requests_total{method="GET",status="200"}' 200
check 'http_requests_total{method="GET",status="500"}' 100
check 'sum by (status) (http_requests_total{method="POST"})' 40
check 'http_request_duration_seconds_bucket{method="GET",le="0.1"}' 75
check 'http_request_duration_seconds_bucket{method="GET",le="0.5"}' 150
check 'http_request_duration_seconds_bucket{method="GET",le="+Inf"}' 300
check 'http_request_duration_seconds_count{method="POST"}' 40
check 'http_request_duration_seconds_sum{method="POST"}' 10
check 'count(http_requests_total{job="sluice",instance="127.0.0.1:'"$XPORT"'"})' 3
pass "Prometheus 2.42 scraped it: exact counts, buckets, sum and count by PromQL"

# Task a keeps coming, task b stops.
echo '{"task":"b"}' >>"$T/jobs.log"
(for i in $(seq 300); do echo '{"task":"a"}' >>"$T/jobs.log"; sleep 0.1; done) &
WRITER=$!
PIDS+=($WRITER)
b_seen() { scrape | grep -q 'jobs_total{source="sluice \\"test\\"",task="b"}'; }
wait_for 10 b_seen || fail "task b never exported: $(scrape | grep jobs)"
b_gone() { ! scrape | grep -q 'task="b"'; }
wait_for 15 b_gone || fail "task b did not expire: $(scrape | grep jobs)"
scrape | grep -q 'task="a"' || fail "task a expired too"
stale() { [ "$(query 'jobs_total{task="b"}')" = none ] && [ "$(query 'jobs_total{task="a"}')" != none ]; }
wait_for 10 stale || fail "Prometheus still has task b, or not task a: $(query 'jobs_total')"
kill "$WRITER"
pass "a series that stopped was gone after expire_after (and stale in Prometheus); the fed one stayed"

# One line per series: a counter's sample, a histogram's _count.
small=$(curl -fs "http://127.0.0.1:$SMALL/metrics" | grep -c '^http_requests_total{\|_count{')
[ "$small" -le 2 ] || fail "max_series 2 let $small series through"
wait_for 15 grep -q 'samples refused since the last report; the last: max_series (2) reached' "$T/sluice.log" ||
    fail "refused series not logged"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
stop_sluice || fail "exit code $?"
pass "max_series: $small series kept, the rest refused and logged"

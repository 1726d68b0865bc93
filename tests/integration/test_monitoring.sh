#!/usr/bin/env bash
# Self-monitoring: /metrics passes promtool and a real Prometheus scrapes it
# and answers a query with sluice's exact counters; /api/v1/pipelines and
# /health report the topology and state; internal_metrics ships the same
# counters as metric events; /health turns 503 with the reason when an
# output keeps failing.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus is not installed (.ci/run installs it)"

MPORT=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 0, count: 1000}]
    outputs: [{type: null}]
  self:
    inputs: [{type: internal_metrics, interval: 200ms}]
    outputs: [{type: file, path: $T/metrics.jsonl}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$MPORT/health" || fail "no /health"
delivered() {
    curl -fs "http://127.0.0.1:$MPORT/api/v1/pipelines" | python3 -c "
import json, sys
doc = json.load(sys.stdin)
app = next(p for p in doc['pipelines'] if p['name'] == 'app')
print(int(app['outputs'][0]['events_total']))"
}
at_1000() { [ "$(delivered)" -eq 1000 ]; }
wait_for 20 at_1000 || fail "/api/v1/pipelines: $(delivered) delivered"
pass "/api/v1/pipelines reports the topology and exact counters"

curl -fs "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt" || fail "/metrics"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 || fail "promtool: $(cat "$T/promtool.log")"
grep -q '^sluice_output_events_total{pipeline="app",plugin="null",id="app.null.0"} 1000$' "$T/metrics.txt" || fail "exposition: $(grep output_events "$T/metrics.txt")"
grep -q '^process_resident_memory_bytes [0-9]' "$T/metrics.txt" || fail "no RSS"
pass "/metrics passes promtool check metrics"

[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/health")" = 200 ] || fail "/health not 200"

PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: sluice
    static_configs: [{targets: ['127.0.0.1:$MPORT']}]
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 &
PIDS+=($!)
PROM_PID=$!
wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$PPORT/-/ready" || fail "prometheus not ready: $(tail -5 "$T/prom.log")"
query() {
    curl -fs "http://127.0.0.1:$PPORT/api/v1/query" \
        --data-urlencode 'query=sluice_output_events_total{job="sluice",id="app.null.0"}'
}
scraped() { query | grep -q '"1000"\]'; }
wait_for 60 scraped || fail "Prometheus query: $(query)"
kill -TERM "$PROM_PID"; wait "$PROM_PID" 2>/dev/null
pass "Prometheus scraped /metrics and a query returned sluice_output_events_total = 1000"

wait_for 10 grep -q '"id":"app.null.0"' "$T/metrics.jsonl" || fail "no internal metric events"
stop_sluice || fail "exit code $?"
python3 - "$T/metrics.jsonl" <<'PY' || fail "internal_metrics content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
outs = [r for r in rows if r["name"] == "sluice_output" and r["tags"]["id"] == "app.null.0"]
assert outs and outs[-1]["fields"]["events_total"] == 1000, outs[-1:]
assert all(r["kind"] == "untyped" and "pipeline" in r["tags"] for r in rows)
PY
pass "internal_metrics emitted the same counters as metric events"

cat >"$T/down.yaml" <<YAML
service: {flush_interval: 50ms, http: {listen: 127.0.0.1:$MPORT}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 100}]
    outputs:
      - type: http
        url: http://127.0.0.1:$(free_port)/nothing-listens
        retry: {initial_backoff: 10ms, max_backoff: 40ms}
YAML
start_sluice -c "$T/down.yaml"
unhealthy() { [ "$(curl -s -o "$T/health.json" -w '%{http_code}' "http://127.0.0.1:$MPORT/health")" = 503 ]; }
wait_for 20 unhealthy || fail "/health never turned 503"
grep -q '"status":"failing","reasons":\["app.http.0: a chunk has failed [0-9]* attempts; last error: Failed to connect' "$T/health.json" || fail "health reason: $(cat "$T/health.json")"
stop_sluice
pass "/health answers 503 naming the failing output and its last error"

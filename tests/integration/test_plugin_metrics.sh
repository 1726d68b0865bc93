#!/usr/bin/env bash
# Metrics a plugin keeps of its own (tail's): served on /metrics, passing
# promtool, in /api/v1/pipelines and in internal_metrics events. The lag
# is the bytes written and not read: it grows while a hung backend holds
# the pipeline back, and falls to 0 once everything is read.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool is not installed (.ci/run installs prometheus)"

MPORT=$(free_port)
HPORT=$(free_port)
start_http_server "$HPORT" hang
mkdir "$T/logs"
python3 -c "
with open('$T/logs/a.log', 'w') as f:
    f.write(''.join(f'line {i} ' + 'x' * 200 + chr(10) for i in range(100000)))"
: >"$T/logs/b.log"
size=$(stat -c %s "$T/logs/a.log")
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/logs/*.log"], read_from_head: true}]
    outputs:
      - {type: http, url: "http://127.0.0.1:$HPORT/", timeout: 30s, buffer: {max_memory: 1MiB}}
  self:
    inputs: [{type: internal_metrics, interval: 200ms}]
    outputs: [{type: file, path: $T/metrics.jsonl}]
YAML
start_sluice -c "$T/sluice.yaml"
metric() { # NAME: its value for the tail input
    curl -fs "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" 'index($1, m "{") == 1 && /id="app.tail.0"/ { print $2 }'
}
lag_positive() { [ "$(metric sluice_input_tail_lag_bytes)" -gt 0 ] 2>/dev/null; }
paused() { [ "$(metric sluice_input_paused)" = 1 ]; }
wait_for 20 paused || fail "tail was not paused by the hung backend"
sleep 0.5
lag=$(metric sluice_input_tail_lag_bytes)
[ "$lag" -gt 0 ] && [ "$lag" -lt "$size" ] || fail "lag $lag while paused (file: $size bytes)"
[ "$(metric sluice_input_tail_files)" = 2 ] || fail "files: $(metric sluice_input_tail_files)"
curl -fs "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 || fail "promtool: $(cat "$T/promtool.log")"
[ "$(grep -c '^# TYPE sluice_input_tail_lag_bytes gauge$' "$T/metrics.txt")" = 1 ] || fail "TYPE line"
grep -q "^sluice_input_tail_lag_bytes{pipeline=\"app\",plugin=\"tail\",id=\"app.tail.0\"} $lag$" "$T/metrics.txt" ||
    fail "sample: $(grep tail_lag "$T/metrics.txt")"
pass "paused by a hung backend: tail_lag_bytes $lag of $size, 2 files, promtool accepts"

http_control "$HPORT" '{"mode": "ok"}'
wait_for 60 http_events_at_least "$HPORT" 100000 || fail "delivered $(http_events "$HPORT") of 100000"
zero() { [ "$(metric sluice_input_tail_lag_bytes)" = 0 ]; }
wait_for 10 zero || fail "lag $(metric sluice_input_tail_lag_bytes) after everything was read"
curl -fs "http://127.0.0.1:$MPORT/api/v1/pipelines" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
tail = next(p for p in doc["pipelines"] if p["name"] == "app")["inputs"][0]
assert tail["files"] == 2 and tail["lag_bytes"] == 0 and tail["rotations_total"] == 0, tail
' || fail "/api/v1/pipelines"
sleep 0.5
python3 - "$T/metrics.jsonl" <<'PY' || fail "internal_metrics"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
tail = [e for e in evs if e.get("tags", {}).get("plugin") == "tail"]
assert tail, "no tail events"
f = tail[-1]["fields"]
assert f["tail_files"] == 2 and f["tail_lag_bytes"] == 0, f
assert any(e["fields"]["tail_lag_bytes"] > 0 for e in tail), "lag never seen above 0"
PY
stop_sluice || fail "exit $?"
pass "lag back to 0 once read; /api/v1/pipelines and internal_metrics carry tail's metrics"

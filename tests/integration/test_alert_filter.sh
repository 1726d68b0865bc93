#!/usr/bin/env bash
# Alerts from logs, end to end: tail (JSON lines) -> log_to_metrics counts
# error lines per service -> alert evaluates a Prometheus rule file every
# second -> alert events (and ALERTS metrics) into a notifier pipeline that
# writes a file. A burst of errors fires the alert once `for` has passed,
# with its labels and rendered annotations; a kill -9 while it fires and a
# restart do not send it again as new (the state is on disk); once errors
# stop, it is resolved, once.
source "$(dirname "$0")/lib.sh"

cat >"$T/rules.yml" <<'YAML'
groups:
  - name: logs
    rules:
      - alert: ApiErrors
        expr: increase(app_errors_total{service="api"}[6s]) > 3
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.service }}: {{ $value | humanize }} errors in 6s'
YAML
"$SLUICE_BIN" rules check "$T/rules.yml" >/dev/null || fail "rules check: $("$SLUICE_BIN" rules check "$T/rules.yml")"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/app.log"], read_from_head: true, parser: json}]
    filters:
      - type: log_to_metrics
        interval: 500ms
        discard_logs: true
        metrics:
          - {name: app_errors_total, type: counter, labels: [service], when: {level: '^error$'}}
      - type: alert
        rule_files: ["$T/rules.yml"]
        evaluation_interval: 500ms
        resend_delay: 1h
        emit_to: alerts
        external_url: http://sluice.test:2020
    outputs: [{type: null}]
  alerts:
    outputs: [{type: file, path: $T/alerts.json}]
YAML
"$SLUICE_BIN" validate -c "$T/sluice.yaml" >/dev/null || fail "validate: $("$SLUICE_BIN" validate -c "$T/sluice.yaml" 2>&1)"
# One error first, so that the counter exists before the burst (an
# increase needs a sample before it, in sluice as in Prometheus).
echo '{"level":"error","service":"api","msg":"first"}' >"$T/app.log"
start_sluice -c "$T/sluice.yaml"
sleep 2

events() { # STATUS -> how many alert events of that status
    python3 - "$T/alerts.json" "$1" <<'PY'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        e = json.loads(line)
        n += e.get("alertname") == "ApiErrors" and e.get("status") == sys.argv[2]
except FileNotFoundError:
    pass
print(n)
PY
}
at_least() { [ "$(events "$1")" -ge "$2" ]; }

# A burst of errors, and info lines that must not count.
for i in $(seq 20); do
    echo '{"level":"error","service":"api","msg":"boom '$i'"}' >>"$T/app.log"
    echo '{"level":"info","service":"api","msg":"fine"}' >>"$T/app.log"
done
echo '{"level":"error","service":"web","msg":"other service"}' >>"$T/app.log"
wait_for 20 at_least firing 1 || fail "no firing alert event: $(cat "$T/alerts.json" 2>/dev/null | head -5)"

python3 - "$T/alerts.json" <<'PY' || fail "the firing alert event is not right"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
fire = [e for e in evs if e.get("status") == "firing"]
e = fire[0]
assert e["labels"] == {"alertname": "ApiErrors", "service": "api", "severity": "page"}, e
assert e["annotations"]["summary"].startswith("api: ") and e["annotations"]["summary"].endswith(" errors in 6s"), e
assert e["value"] > 3, e
assert e["startsAt"] < e["endsAt"], e
assert e["generatorURL"].startswith("http://sluice.test:2020/graph?g0.expr=increase%28app_errors_total"), e
alerts = [m for m in evs if m.get("name") == "ALERTS"]
states = {m["tags"]["alertstate"] for m in alerts}
assert states == {"pending", "firing"}, states
assert all(m["tags"]["alertname"] == "ApiErrors" and m["fields"]["value"] == 1 for m in alerts)
PY
pass "a burst of errors fires ApiErrors after its for: labels, annotations, generatorURL, ALERTS pending then firing"

# kill -9 while it fires: the restart restores it, and does not send it as new.
kill -KILL "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
ls "$T"/state/alert/*.state >/dev/null 2>&1 || fail "no alert state file: $(ls -R "$T/state")"
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "restored 1 alerts" "$T/sluice.log" || fail "state not restored: $(cat "$T/sluice.log")"
echo '{"level":"error","service":"api","msg":"still failing"}' >>"$T/app.log"
sleep 2
[ "$(events firing)" = 1 ] || fail "the firing alert was sent again after the restart ($(events firing) firing events)"
pass "kill -9 while firing: state restored, the alert is not sent again as new"

# No more errors: the increase over 6s falls to 0 and the alert resolves.
wait_for 30 at_least resolved 1 || fail "never resolved: $(tail -3 "$T/alerts.json")"
sleep 1.5
[ "$(events resolved)" = 1 ] || fail "$(events resolved) resolved events (resend_delay is 1h)"
stop_sluice || fail "exit code $?"
python3 - "$T/alerts.json" <<'PY' || fail "the resolved event is not right"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if '"status"' in l]
r = [e for e in evs if e["status"] == "resolved"][0]
f = [e for e in evs if e["status"] == "firing"][0]
assert r["labels"] == f["labels"] and r["startsAt"] == f["startsAt"], (r, f)
assert r["endsAt"] > r["startsAt"], r
PY
pass "once errors stop the alert resolves, once, with the identity and start it fired with"

#!/usr/bin/env bash
# Alerts reach a real Alertmanager 0.25 (Debian's prometheus-alertmanager):
# tail -> log_to_metrics -> alert -> alertmanager output. Alertmanager's
# webhook receiver, a loopback server here, gets a firing notification with
# the alert's labels and annotations, and later a resolved one;
# GET /api/v2/alerts shows the alert active, then not.
source "$(dirname "$0")/lib.sh"
command -v prometheus-alertmanager >/dev/null ||
    fail "prometheus-alertmanager not found (Debian package prometheus-alertmanager)"

HOOK=$(free_port)
python3 - "$HOOK" "$T/hook.jsonl" <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
out = sys.argv[2]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
HOOK_PID=$!
PIDS+=("$HOOK_PID")

AM=$(free_port)
cat >"$T/am.yml" <<YAML
route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: hook
    webhook_configs: [{url: 'http://127.0.0.1:$HOOK/hook', send_resolved: true}]
YAML
prometheus-alertmanager --config.file="$T/am.yml" --storage.path="$T/am" \
    --web.listen-address="127.0.0.1:$AM" --cluster.listen-address= --log.level=warn \
    >"$T/am.log" 2>&1 &
AM_PID=$!
PIDS+=("$AM_PID")
wait_for 30 curl -fs -o /dev/null "http://127.0.0.1:$AM/-/ready" || fail "alertmanager: $(cat "$T/am.log")"

cat >"$T/rules.yml" <<'YAML'
groups:
  - name: logs
    rules:
      - alert: ApiErrors
        expr: increase(app_errors_total{service="api"}[5s]) > 3
        for: 1s
        labels: {severity: page}
        annotations:
          summary: '{{ $labels.service }} is failing'
YAML
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
        resend_delay: 2s
        emit_to: notify
        external_url: http://sluice.test:2020
    outputs: [{type: null}]
  notify:
    outputs: [{type: alertmanager, url: "http://127.0.0.1:$AM"}]
YAML
echo '{"level":"error","service":"api"}' >"$T/app.log"
start_sluice -c "$T/sluice.yaml"
sleep 1.5
for i in $(seq 10); do echo '{"level":"error","service":"api"}' >>"$T/app.log"; done

hook() { # STATUS -> notifications of that status received so far
    python3 - "$T/hook.jsonl" "$1" <<'PY'
import json, sys
try:
    print(sum(json.loads(l)["status"] == sys.argv[2] for l in open(sys.argv[1])))
except FileNotFoundError:
    print(0)
PY
}
hook_has() { [ "$(hook "$1")" -ge 1 ]; }
am_active() { curl -fs "http://127.0.0.1:$AM/api/v2/alerts?active=true" | grep -q '"alertname":"ApiErrors"'; }

wait_for 30 hook_has firing || fail "no firing notification: $(cat "$T/am.log" "$T/sluice.log" | tail -20)"
am_active || fail "GET /api/v2/alerts does not show ApiErrors"
python3 - "$T/hook.jsonl" <<'PY' || fail "the firing notification is not right: $(head -1 "$T/hook.jsonl")"
import json, sys
n = [json.loads(l) for l in open(sys.argv[1])]
f = [x for x in n if x["status"] == "firing"][0]
a = f["alerts"][0]
assert a["labels"] == {"alertname": "ApiErrors", "service": "api", "severity": "page"}, a
assert a["annotations"] == {"summary": "api is failing"}, a
assert a["generatorURL"].startswith("http://sluice.test:2020/graph?g0.expr="), a
assert a["status"] == "firing", a
PY
pass "Alertmanager received the firing alert (labels, annotations, generatorURL) and its webhook fired"

wait_for 40 hook_has resolved || fail "no resolved notification: $(tail -3 "$T/hook.jsonl")"
am_active && fail "GET /api/v2/alerts still shows ApiErrors active after it resolved"
stop_sluice || fail "exit code $?"
kill -TERM "$AM_PID" "$HOOK_PID"
wait "$AM_PID" "$HOOK_PID" 2>/dev/null
pass "once errors stop, the webhook gets the resolved notification and the alert is no longer active"

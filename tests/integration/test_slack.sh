#!/usr/bin/env bash
# Alerts from logs to Slack, end to end, against the loopback Slack double
# (tests/slack_test_server.py: one message a second per channel, Slack's
# size limits): tail -> regex -> log_to_metrics -> alert -> slack (Web
# API). A burst of 5,000 error lines fires HighErrorRate once, in a thread
# whose first message is edited when it resolves; the resolved message is a
# reply in the same thread. The same lines also go, as log events, to a
# webhook: one grouped message per group interval, whose counts add up to
# 5,000. Nothing goes over Slack's limits or its rate, and the token and
# the webhook's path appear nowhere (log, /api/v1/pipelines).
source "$(dirname "$0")/lib.sh"

SPORT=$(free_port)
MPORT=$(free_port)
python3 "$SLUICE_SOURCE_DIR/tests/slack_test_server.py" --port "$SPORT" --token xoxb-e2e-secret \
    >"$T/slack.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$SPORT/_stats" || fail "the Slack double did not start"

export SLACK_TOKEN=xoxb-e2e-secret
export SLACK_WEBHOOK_URL=http://127.0.0.1:$SPORT/services/T0SECRET/B0SECRET/hookpath
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/app.log"], read_from_head: true}]
    filters:
      - type: regex
        pattern: '^(?<level>[A-Z]+) service=(?<service>\w+) (?<message>.*)$'
      - type: log_to_metrics
        interval: 250ms
        metrics:
          - {name: app_errors_total, type: counter, labels: [service], when: {level: '^ERROR$'}}
      - type: alert
        evaluation_interval: 250ms
        emit_to: alerts
        groups:
          - name: logs
            rules:
              - alert: HighErrorRate
                expr: increase(app_errors_total[3s]) > 10
                labels: {severity: critical}
                annotations:
                  summary: '{{ \$labels.service }}: {{ \$value | humanize }} errors in 3s'
    outputs:
      - type: slack
        webhook_url: \${SLACK_WEBHOOK_URL}
        group_by: [service]
        group_wait: 1s
        group_interval: 3s
  alerts:
    outputs:
      - type: slack
        token: \${SLACK_TOKEN}
        channel: "#alerts"
        api_url: http://127.0.0.1:$SPORT/api
        group_by: [alertname, service]
        group_wait: 1s
        group_interval: 2s
        update_firing: true
        dead_letter: {path: $T/dead.jsonl}
YAML
"$SLUICE_BIN" validate -c "$T/sluice.yaml" >/dev/null 2>"$T/err" || fail "does not validate: $(cat "$T/err")"
SLACK_WEBHOOK_URL=hooks.example/T0SECRET/B0SECRET/hookpath "$SLUICE_BIN" validate -c "$T/sluice.yaml" \
    >/dev/null 2>"$T/err" && fail "a webhook_url that is no URL validates"
grep -q "sluice.yaml:25:22: pipelines.app.outputs\[0\].webhook_url: expected an http:// or https:// URL with a host (the value is a secret and is not shown)" "$T/err" ||
    fail "the bad webhook_url is not placed: $(cat "$T/err")"
grep -q SECRET "$T/err" && fail "the error shows the secret"
# A first error makes the counter's series; then the burst (a counter
# born at 5000 would show no increase, in Prometheus as here).
echo "ERROR service=api upstream timed out, request 0" >"$T/app.log"
start_sluice -c "$T/sluice.yaml"
messages() { curl -fs "http://127.0.0.1:$SPORT/_messages"; }
first_told() { messages | grep -q 'LOGS:1\]'; }
wait_for 20 first_told || fail "the first line was not told"
python3 - "$T/app.log" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(1, 5000):
        f.write(f"ERROR service=api upstream timed out, request {i}\n")
PY
burst_at=$(date +%s.%N)

resolved() { messages | grep -q 'RESOLVED\] HighErrorRate'; }
wait_for 40 resolved || fail "no resolved message: $(messages | head -c 2000)"
logs_told() {
    messages | python3 -c '
import json, re, sys
n = sum(int(re.match(r"\[LOGS:(\d+)\]", m["message"]["text"]).group(1))
        for m in json.load(sys.stdin) if m["path"].startswith("/services/"))
sys.exit(n != 5000)'
}
wait_for 20 logs_told || fail "the log events were not all told: $(messages | head -c 2000)"
curl -fs "http://127.0.0.1:$MPORT/api/v1/pipelines" >"$T/pipelines.json" || fail "/api/v1/pipelines"
sleep 2.5 # a group interval: nothing more may come
stop_sluice || fail "exit code $?"

messages >"$T/messages.json"
curl -fs "http://127.0.0.1:$SPORT/_stats" >"$T/stats.json"
python3 - "$T/messages.json" "$T/stats.json" "$burst_at" <<'PY' || fail "the messages are not what they should be"
import json, re, sys
msgs = json.load(open(sys.argv[1]))
stats = json.load(open(sys.argv[2]))
burst = float(sys.argv[3])
alerts = [m for m in msgs if m["path"].startswith("/api/")]
posts = [m for m in alerts if not m["update"]]
updates = [m for m in alerts if m["update"]]
texts = [m["message"]["text"] for m in posts]
print("alert messages:", [t.splitlines()[0] for t in texts])
assert len(posts) == 2, texts
first, second = posts
assert first["thread_ts"] is None and first["channel"] == "#alerts"
assert first["message"]["text"].startswith("[FIRING:1] HighErrorRate service=api"), first
assert "api: " in first["message"]["text"] and "errors in 3s" in first["message"]["text"]
assert first["message"]["attachments"][0]["color"] == "#E01E5A"
assert second["thread_ts"] == first["ts"], "the resolved message is not in the thread"
assert second["message"]["text"].startswith("[RESOLVED] HighErrorRate service=api"), second
assert second["message"]["attachments"][0]["color"] == "#2EB67D"
assert len(updates) == 1 and updates[0]["ts"] == first["ts"], updates
assert updates[0]["message"]["text"].startswith("[RESOLVED]")

logs = [m for m in msgs if m["path"].startswith("/services/")]
counts = [int(re.match(r"\[LOGS:(\d+)\] service=api", m["message"]["text"]).group(1)) for m in logs]
gaps = [b["time"] - a["time"] for a, b in zip(logs, logs[1:])]
print("log messages:", counts, "gaps (s):", [round(g, 2) for g in gaps])
assert counts[0] == 1 and sum(counts) == 5000, counts
assert gaps == [] or min(gaps) >= 2.9, gaps
span = logs[-1]["time"] - burst
assert len(logs) - 1 <= span / 3 + 1, (len(logs), span)
assert "upstream timed out, request 1\n" in logs[1]["message"]["text"]
assert logs[1]["message"]["attachments"][0]["color"] == "#E01E5A"
print("double:", stats)
assert stats["rate_limited"] == 0 and stats["over_limits"] == 0 and stats["refused"] == 0, stats
PY
pass "5000 error lines: one firing message, the resolved one in its thread (first message edited), and $(python3 -c "import json; print(sum(1 for m in json.load(open('$T/messages.json')) if m['path'].startswith('/services/')))") grouped log messages counting 5000"

for secret in xoxb-e2e-secret T0SECRET hookpath; do
    grep -q "$secret" "$T/sluice.log" "$T/pipelines.json" && fail "the secret $secret shows"
    [ -f "$T/dead.jsonl" ] && grep -q "$secret" "$T/dead.jsonl" && fail "the secret $secret is in the dead letters"
done
pass "the token and the webhook URL appear neither in the log nor in /api/v1/pipelines"

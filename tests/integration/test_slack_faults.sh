#!/usr/bin/env bash
# The slack output against Slack's faults and limits, with the loopback
# Slack double (tests/slack_test_server.py). Alert events are written
# directly (JSON lines, as the alert filter emits them):
#   - 429 with Retry-After: 2, then a 500, then ok:false internal_error:
#     the message arrives once, no sooner than the Retry-After;
#   - permanent errors (channel_not_found, invalid_auth, a webhook's 404
#     no_service) are dead letters carrying Slack's error string;
#   - 120 alerts with long annotations in one group: one message within 50
#     blocks and 3,000 characters a section, the rest counted with a marker;
#   - five groups due at once reach the channel a second apart, never 429'd;
#   - kill -9 while a group waits: after the restart it is told, once.
source "$(dirname "$0")/lib.sh"

SPORT=$(free_port)
python3 "$SLUICE_SOURCE_DIR/tests/slack_test_server.py" --port "$SPORT" >"$T/slack.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$SPORT/_stats" || fail "the Slack double did not start"
control() { curl -fs -X POST -d "$1" "http://127.0.0.1:$SPORT/_control" >/dev/null || fail "control $1"; }
messages() { curl -fs "http://127.0.0.1:$SPORT/_messages"; }
stats() { curl -fs "http://127.0.0.1:$SPORT/_stats"; }
# told CHANNEL N: at least N messages posted to CHANNEL.
told() {
    messages | python3 -c "import json,sys; sys.exit(sum(1 for m in json.load(sys.stdin) if m['channel'] == '$1' and not m['update']) < $2)"
}

api="api_url: http://127.0.0.1:$SPORT/api, token: xoxb-test-token"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  retry:
    inputs: [{type: tail, path: ["$T/retry.log"], read_from_head: true, parser: json}]
    outputs: [{type: slack, $api, channel: "#retry", group_wait: 0s, dead_letter: {path: $T/dead.jsonl}}]
  gone:
    inputs: [{type: tail, path: ["$T/gone.log"], read_from_head: true, parser: json}]
    outputs: [{type: slack, $api, channel: "#gone", group_wait: 0s, dead_letter: {path: $T/dead.jsonl}}]
  badauth:
    inputs: [{type: tail, path: ["$T/badauth.log"], read_from_head: true, parser: json}]
    outputs:
      - {type: slack, api_url: "http://127.0.0.1:$SPORT/api", token: xoxb-wrong, channel: "#x",
         group_wait: 0s, dead_letter: {path: $T/dead.jsonl}}
  hook:
    inputs: [{type: tail, path: ["$T/hook.log"], read_from_head: true, parser: json}]
    outputs:
      - {type: slack, webhook_url: "http://127.0.0.1:$SPORT/services/T/B/hook", group_wait: 0s,
         dead_letter: {path: $T/dead.jsonl}}
  big:
    inputs: [{type: tail, path: ["$T/big.log"], read_from_head: true, parser: json}]
    outputs: [{type: slack, $api, channel: "#big", group_wait: 1s}]
  many:
    inputs: [{type: tail, path: ["$T/many.log"], read_from_head: true, parser: json}]
    outputs: [{type: slack, $api, channel: "#many", group_by: [instance], group_wait: 1s}]
  crash:
    inputs: [{type: tail, path: ["$T/crash.log"], read_from_head: true, parser: json}]
    outputs: [{type: slack, $api, channel: "#crash", group_wait: 3s}]
YAML
touch "$T"/{retry,gone,badauth,hook,big,many,crash}.log
# alert NAME INSTANCE [SUMMARY]: one firing alert event as a JSON line.
alert() {
    python3 -c 'import json,sys; print(json.dumps({"alertname": sys.argv[1], "status": "firing",
        "labels": {"alertname": sys.argv[1], "instance": sys.argv[2], "severity": "warning"},
        "annotations": {"summary": sys.argv[3]}, "startsAt": "2026-12-01T10:00:00Z",
        "value": 1}))' "$1" "$2" "${3:-$1 on $2}"
}
start_sluice -c "$T/sluice.yaml"

control '{"fail_next": [{"status": 429, "retry_after": 2}, {"status": 500}, {"error": "internal_error"}]}'
alert Retried a >>"$T/retry.log"
sent_at=$(date +%s.%N)
wait_for 30 told "#retry" 1 || fail "never delivered after 429, 500 and internal_error"
python3 - "$sent_at" "$(messages)" <<'PY' || fail "delivered before the Retry-After"
import json, sys
m = [m for m in json.loads(sys.argv[2]) if m["channel"] == "#retry"]
assert len(m) == 1, m
assert m[0]["time"] - float(sys.argv[1]) >= 2.0, m[0]["time"] - float(sys.argv[1])
PY
grep -q "429.*Retry-After" "$T/sluice.log" || fail "the 429 is not logged"
pass "429 (Retry-After 2), 500, ok:false internal_error: delivered once, after the Retry-After"

control '{"missing_channels": ["#gone"]}'
alert Gone a >>"$T/gone.log"
alert Unauthorised a >>"$T/badauth.log"
wait_for 20 grep -qs invalid_auth "$T/dead.jsonl" || fail "invalid_auth is not a dead letter"
control '{"fail_next": [{"error": "no_service"}]}'
alert Hooked a >>"$T/hook.log"
wait_for 20 grep -qs "HTTP 404 no_service" "$T/dead.jsonl" || fail "the webhook's 404 is not a dead letter"
grep -q '"error":"channel_not_found"' "$T/dead.jsonl" || fail "channel_not_found is not a dead letter"
python3 - "$T/dead.jsonl" <<'PY' || fail "the dead letters do not hold the messages"
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert d["event"]["message"]["text"].startswith("[FIRING:1]"), d
PY
pass "channel_not_found, invalid_auth and a webhook's 404 no_service are dead letters with Slack's error"

python3 - "$T/big.log" <<'PY'
import json, sys
with open(sys.argv[1], "a") as f:
    for i in range(120):
        print(json.dumps({"alertname": "Big", "status": "firing",
            "labels": {"alertname": "Big", "instance": f"host{i:03d}"},
            "annotations": {"summary": f"host{i:03d} is slow",
                            "description": "x" * (5000 if i < 3 else 50)},
            "value": i}), file=f)
PY
wait_for 20 told "#big" 1 || fail "the big group was not told"
python3 - "$(messages)" <<'PY' || fail "the big message is not within Slack's limits"
import json, sys
m = [m["message"] for m in json.loads(sys.argv[1]) if m["channel"] == "#big"]
assert len(m) == 1, len(m)
blocks = m[0]["attachments"][0]["blocks"]
assert len(blocks) == 50, len(blocks)
assert m[0]["text"].startswith("[FIRING:120] Big"), m[0]["text"][:80]
texts = [b["text"]["text"] for b in blocks]
assert all(len(t) <= 3000 for t in texts)
assert texts[1].endswith("…[truncated]"), texts[1][-40:]
assert texts[-1].startswith("…and 72 more alerts not shown"), texts[-1]
assert len(m[0]["text"]) <= 40000 and sum(map(len, texts)) <= 40000
PY
pass "120 alerts, 3 with 5000-character descriptions: 50 blocks, sections cut at 3000 with a marker, 72 counted"

for i in 1 2 3 4 5; do alert Many "host$i"; done >>"$T/many.log"
wait_for 20 told "#many" 5 || fail "five groups were not told"
python3 - "$(messages)" "$(stats)" <<'PY' || fail "the channel's rate was not kept"
import json, sys
t = [m["time"] for m in json.loads(sys.argv[1]) if m["channel"] == "#many"]
gaps = [b - a for a, b in zip(t, t[1:])]
print("gaps between the five messages (s):", [round(g, 2) for g in gaps])
assert min(gaps) >= 0.95, gaps
assert json.loads(sys.argv[2])["rate_limited"] == 1, sys.argv[2]  # the one asked for
PY
pass "five groups due at once: a message a second, no 429"

alert Crashed a >>"$T/crash.log"
sleep 1.5 # taken in and saved, waiting its group_wait of 3 s
told "#crash" 1 && fail "told before its group_wait"
kill -KILL "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
start_sluice -c "$T/sluice.yaml"
wait_for 20 told "#crash" 1 || fail "the waiting group was lost in the kill -9"
grep -q "restored 1 groups" "$T/sluice.log" || fail "no restored group in the log"
sleep 2
stop_sluice || fail "exit code $?"
python3 - "$(messages)" <<'PY' || fail "a message was told twice after the restart"
import json, sys
from collections import Counter
c = Counter(m["channel"] for m in json.loads(sys.argv[1]) if not m["update"])
assert c["#crash"] == 1 and c["#retry"] == 1 and c["#big"] == 1 and c["#many"] == 5, c
PY
pass "kill -9 while a group waited: told once after the restart, nothing told twice"

#!/usr/bin/env bash
# --watch-config: editing a rule file the alert filter reads, then the
# configuration itself, reloads sluice with no signal; what changed is
# rebuilt (the alert filter with the new rules, the output with the new
# path) and GET /api/v1/reload counts both.
. "$(dirname "$0")/lib.sh"

HTTP=$(free_port)
cat >"$T/rules.yml" <<'YAML'
groups:
  - name: g
    rules:
      - alert: First
        expr: vector(1) > 0
YAML
config() { # OUTPUT-FILE
    cat <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$HTTP}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 10}]
    filters:
      - {type: alert, id: rules, rule_files: ["$T/rules.yml"], evaluation_interval: 200ms,
         resend_delay: 200ms, emit_to: alerts}
    outputs: [{type: null}]
  alerts:
    outputs: [{type: file, id: out, path: $T/$1}]
YAML
}
config alerts1.json >"$T/sluice.yaml"
start_sluice -c "$T/sluice.yaml" --watch-config
wait_for 10 grep -q '"alertname":"First"' "$T/alerts1.json" 2>/dev/null ||
    fail "no alert from the first rules: $(tail -5 "$T/sluice.log")"

sed -i 's/alert: First/alert: Second/' "$T/rules.yml"
wait_for 10 grep -q "configuration file changed: reloaded: .*replaced: rules" "$T/sluice.log" ||
    fail "editing the rule file did not reload the alert filter: $(grep reload "$T/sluice.log")"
wait_for 10 grep -q '"alertname":"Second"' "$T/alerts1.json" || fail "the new rule does not fire"
pass "a changed rule file reloads the alert filter, with no signal"

config alerts2.json >"$T/next.yaml"
mv "$T/next.yaml" "$T/sluice.yaml"
wait_for 10 grep -q '"alertname":"Second"' "$T/alerts2.json" 2>/dev/null ||
    fail "the output's new path gets nothing: $(grep reload "$T/sluice.log")"
grep -q "configuration file changed: reloaded: .*replaced: out" "$T/sluice.log" ||
    fail "the output was not replaced: $(grep reload "$T/sluice.log")"
curl -fs "http://127.0.0.1:$HTTP/api/v1/reload" | python3 -c '
import json, sys
st = json.load(sys.stdin)
assert st["watching"] is True and st["reloads"] == 2 and st["failures"] == 0, st
assert st["last"]["result"] == "ok" and "1 replaced" in st["last"]["changes"], st
' || fail "GET /api/v1/reload: $(curl -fs "http://127.0.0.1:$HTTP/api/v1/reload")"
stop_sluice || fail "exit code $?"
pass "editing the configuration reloads it; GET /api/v1/reload counts both"

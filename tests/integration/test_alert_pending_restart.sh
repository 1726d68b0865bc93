#!/usr/bin/env bash
# An alert pending when sluice is killed (-9) keeps its `for` clock: after
# the restart it fires when it would have fired without the restart (its
# active-since time is on disk), not a whole `for` after the restart. The
# rules are written inline (`groups:`); a broken inline rule is refused at
# its place.
source "$(dirname "$0")/lib.sh"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: ["$T/app.log"], read_from_head: true, parser: json}]
    filters:
      - type: log_to_metrics
        interval: 250ms
        discard_logs: true
        metrics:
          - {name: app_errors_total, type: counter, labels: [service], when: {level: '^error$'}}
      - type: alert
        groups:
          - name: logs
            rules:
              - alert: ApiErrors
                expr: increase(app_errors_total{service="api"}[3s]) > 2
                for: 8s
        evaluation_interval: 250ms
        emit_to: alerts
    outputs: [{type: null}]
  alerts:
    outputs: [{type: file, path: $T/alerts.json}]
YAML
sed 's/> 2$/> rate(x)/; s/for: 8s/for: 8s\n                labels: {s: "{{ $value"}/' "$T/sluice.yaml" >"$T/bad.yaml"
"$SLUICE_BIN" validate -c "$T/bad.yaml" >/dev/null 2>"$T/err" && fail "a broken inline rule validates"
grep -q "bad.yaml:16:23: pipelines.app.filters\[1\].groups\[0\].rules\[0\].expr: rate(): argument 1 must be a range vector, not an instant vector (at character 54 of the expression)" "$T/err" ||
    fail "the broken expression is not placed: $(cat "$T/err")"
grep -q "bad.yaml:18:25: pipelines.app.filters\[1\].groups\[0\].rules\[0\].labels: s: template: unclosed action" "$T/err" ||
    fail "the broken template is not placed: $(cat "$T/err")"
pass "inline rules: a broken expression and a broken template are refused at their file:line:col"

echo '{"level":"error","service":"api"}' >"$T/app.log"
# Errors keep coming, 10 a second, for at most 60 s.
(for i in $(seq 600); do echo '{"level":"error","service":"api"}' >>"$T/app.log"; sleep 0.1; done) &
WRITER=$!
PIDS+=("$WRITER")
start_sluice -c "$T/sluice.yaml"
pending() { grep -q '"alertstate":"pending"' "$T/alerts.json" 2>/dev/null; }
wait_for 20 pending || fail "never pending: $(tail -5 "$T/sluice.log")"
pending_at=$(date +%s.%N)
sleep 3
grep -q '"status":"firing"' "$T/alerts.json" && fail "fired before its for of 8s"
kill -KILL "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
restart_at=$(date +%s.%N)
start_sluice -c "$T/sluice.yaml"
firing() { grep -q '"status":"firing"' "$T/alerts.json"; }
wait_for 30 firing || fail "never fired after the restart: $(tail -5 "$T/sluice.log")"
fired_at=$(date +%s.%N)
kill -TERM "$WRITER"
wait "$WRITER" 2>/dev/null
stop_sluice || fail "exit code $?"
python3 - "$pending_at" "$restart_at" "$fired_at" <<'PY' || fail "the for clock did not survive the restart"
import sys
pending, restart, fired = map(float, sys.argv[1:])
# Without the saved state it would fire 8 s after the restart at the
# earliest; with it, 8 s after it first went pending (plus evaluation and
# the samples a restart needs).
print(f"pending at 0, killed and restarted at {restart - pending:.1f}s, fired at {fired - pending:.1f}s")
assert fired - restart < 7.0, (fired - restart)
assert fired - pending >= 7.5, (fired - pending)
PY
grep -q "restored 1 alerts" "$T/sluice.log" || fail "no restored alert in the log"
pass "killed while pending, restarted: it fired $(python3 -c "print(f'{$fired_at - $restart_at:.1f}')")s after the restart, $(python3 -c "print(f'{$fired_at - $pending_at:.1f}')")s after it went pending (for: 8s)"

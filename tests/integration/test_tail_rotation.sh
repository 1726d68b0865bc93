#!/usr/bin/env bash
# tail with real logrotate, both ways: `create` (rename, then a new file) and
# `copytruncate` (copy, then truncate in place). Lines written before and
# after each rotation arrive exactly once, and offsets survive a restart.
. "$(dirname "$0")/lib.sh"
command -v logrotate >/dev/null || fail "logrotate is not installed (.ci/run installs it)"

mkdir -p "$T/logs"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/logs/*.log"], refresh_interval: 100ms, rotate_wait: 1s}]
    outputs: [{type: file, path: $T/out.json}]
YAML
write() { # FILE FROM TO
    for i in $(seq "$2" "$3"); do echo "line $i"; done >>"$1"
}

: >"$T/logs/create.log"
: >"$T/logs/copy.log"
start_sluice -c "$T/sluice.yaml"
sleep 0.5
write "$T/logs/create.log" 1 1000
write "$T/logs/copy.log" 1 1000
wait_for 20 lines_at_least "$T/out.json" 2000 || fail "before rotation: $(line_count "$T/out.json")"
# create: rename away, new empty file; copytruncate: copy, truncate.
cat >"$T/lr.conf" <<CONF
$T/logs/create.log {
    create
    rotate 100
}
$T/logs/copy.log {
    copytruncate
    rotate 100
}
CONF
logrotate -f -s "$T/lr.state" "$T/lr.conf" || fail "logrotate"
[ -f "$T/logs/create.log.1" ] && [ -f "$T/logs/copy.log.1" ] || fail "logrotate did not rotate"
write "$T/logs/create.log" 1001 2000
write "$T/logs/copy.log" 1001 2000
wait_for 20 lines_at_least "$T/out.json" 4000 || fail "after rotation: $(line_count "$T/out.json")"
stop_sluice || fail "exit code $?"
grep -q "copy.log was truncated" "$T/sluice.log" || fail "truncation not seen"

# Offsets survive a restart: only new lines are read.
write "$T/logs/create.log" 2001 2500
write "$T/logs/copy.log" 2001 2500
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/out.json" 5000 || fail "after restart: $(line_count "$T/out.json")"
sleep 0.5
stop_sluice || fail "exit code $?"

python3 - "$T/out.json" <<'PY' || fail "content"
import collections, json, sys
c = collections.Counter(json.loads(l)["message"] for l in open(sys.argv[1]))
want = {f"line {i}" for i in range(1, 2501)}
assert set(c) == want, sorted(want - set(c))[:5]
assert all(v == 2 for v in c.values()), [k for k, v in c.items() if v != 2][:5]
PY
pass "logrotate create and copytruncate: every line of both files exactly once, across a restart"

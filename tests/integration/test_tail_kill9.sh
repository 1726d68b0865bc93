#!/usr/bin/env bash
# tail under fire. First, a kill -9 right after a first start that found
# no file must not make the next start a "first start" that skips to the
# end of files. Then a writer appends numbered lines at 5000 lines/s while
# logrotate (create) rotates the file every 100 ms, and sluice is killed
# with -9 at random moments three times and restarted. Every line number
# must arrive at least once; duplicates (lines read again because their
# acknowledgement had not been saved when the process died) are reported.
. "$(dirname "$0")/lib.sh"
command -v logrotate >/dev/null || fail "logrotate is not installed (.ci/run installs it)"

N=40000
mkdir -p "$T/logs"
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    # app.log* also matches rotated files: a file rotated away while
    # sluice is down is then read after the restart.
    inputs: [{type: tail, path: ["$T/logs/app.log*"], refresh_interval: 200ms, rotate_wait: 2s}]
    outputs: [{type: file, path: $T/out.json}]
YAML
cat >"$T/lr.conf" <<CONF
$T/logs/app.log {
    create
    rotate 1000
    missingok
}
CONF

# A first start that finds no file, then kill -9: a file that appears
# before the restart is new, read from its head (not from its end, as
# files that existed at the very first start are).
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "following 0 files" "$T/sluice.log" || fail "sluice did not start"
kill -KILL "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
seq -f 'before %g' 3 >"$T/logs/app.log"
start_sluice -c "$T/sluice.yaml"
wait_for 10 lines_at_least "$T/out.json" 3 ||
    fail "the lines of a file that appeared after a kill -9 at the first start were not read"
grep -q "1 from their start" "$T/sluice.log" || fail "app.log was not read from its start"
stop_sluice || fail "exit code $?"
rm -rf "$T/state" "$T/out.json" "$T/logs"/*
: >"$T/logs/app.log"

start_sluice -c "$T/sluice.yaml"
sleep 0.3
python3 "$SLUICE_SOURCE_DIR/tests/integration/log_writer.py" "$T/logs/app.log" \
    --rate 5000 --count $N --done "$T/writer.done" &
WRITER=$!
PIDS+=($WRITER)
(
    while [ ! -f "$T/writer.done" ]; do
        logrotate -f -s "$T/lr.state" "$T/lr.conf" 2>/dev/null
        sleep 0.1
    done
) &
PIDS+=($!)

for kill in 1 2 3; do
    sleep "$(python3 -c "import random; print(round(random.uniform(1.0, 2.0), 2))")"
    kill -KILL "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null
    sleep 0.3
    start_sluice -c "$T/sluice.yaml"
done
wait "$WRITER"
rotations=$(ls "$T/logs" | grep -c 'app.log\.')

done_reading() {
    python3 -c "
import json
seen = {json.loads(l)['message'] for l in open('$T/out.json')}
raise SystemExit(0 if len(seen) >= $N else 1)" 2>/dev/null
}
wait_for 30 done_reading || true
stop_sluice || fail "exit code $?"

python3 - "$T/out.json" "$N" "$rotations" <<'PY' || fail "lost lines"
import collections, json, sys
n = int(sys.argv[2])
c = collections.Counter(json.loads(l)["message"] for l in open(sys.argv[1]))
missing = [i for i in range(n) if c[f"line {i}"] == 0]
dups = sum(v - 1 for v in c.values())
print(f"{n} lines written across {sys.argv[3]} rotations, 3 kill -9: "
      f"{len(missing)} missing, {dups} delivered twice")
assert not missing, f"missing line numbers: {missing[:10]}"
PY
pass "kill -9 three times during 100 ms rotations: every line arrived at least once"

#!/usr/bin/env bash
# copytruncate, the way logrotate does it: the file is copied away and
# truncated in place while the application keeps appending.
#  1. Copies outside the glob, a filesystem buffer, kill -9 twice: every
#     line arrives (what sluice had read was in its buffer or delivered);
#     duplicates, only for lines read but not yet in a chunk file, are
#     counted and reported.
#  2. Copies inside the glob (app.log*, as the README recommends, named
#     app.log.1, app.log.2 ...): each copy is recognised as the stream
#     already read and only its unread end is read: every line exactly once.
. "$(dirname "$0")/lib.sh"
W=$SLUICE_SOURCE_DIR/tests/integration/copytruncate_writer.py

check_counts() { # OUT N -> "missing dups"
    python3 - "$1" "$2" <<'PY'
import collections, json, sys
n = int(sys.argv[2])
c = collections.Counter(json.loads(l)["message"] for l in open(sys.argv[1]))
missing = sum(1 for i in range(n) if c[f"line {i}"] == 0)
print(missing, sum(v - 1 for v in c.values()), len(c) - sum(1 for i in range(n) if c[f"line {i}"]))
PY
}
all_read() { lines_at_least "$1" "$2" && [ "$(check_counts "$1" "$2" | cut -d' ' -f1)" -eq 0 ]; }

# ==== 1. kill -9 twice, copies outside the glob ====
N=100000
mkdir -p "$T/logs" "$T/copies"
: >"$T/logs/app.log"
cat >"$T/kill.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true}]
    outputs: [{type: file, path: $T/out1.json, buffer: {type: filesystem}}]
YAML
start_sluice -c "$T/kill.yaml"
wait_for 10 grep -q "following 1 files" "$T/sluice.log" || fail "sluice did not start"
python3 "$W" "$T/logs/app.log" --rate 20000 --count $N --every 5000 --copy-dir "$T/copies" \
    --settle 0.05 --done "$T/w1.done" &
WRITER=$!
PIDS+=($WRITER)
for kill in 1 2; do
    sleep "$(python3 -c "import random; print(round(random.uniform(1.0, 1.8), 2))")"
    # Lines written and truncated away while no sluice runs are beyond any
    # reader (copytruncate's own gap): hold the writer while sluice
    # restarts, so that every missing line would be sluice's fault.
    kill -STOP "$WRITER"
    kill -KILL "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null
    mv "$T/sluice.log" "$T/sluice.$kill.log"
    start_sluice -c "$T/kill.yaml"
    wait_for 10 grep -q "following 1 files" "$T/sluice.log" || fail "restart $kill"
    kill -CONT "$WRITER"
done
wait "$WRITER" || fail "writer failed"
wait_for 30 all_read "$T/out1.json" $N || true
stop_sluice || fail "exit $?"
read -r missing dups junk <<<"$(check_counts "$T/out1.json" $N)"
[ "$junk" -eq 0 ] || fail "$junk events are not lines the writer wrote"
[ "$missing" -eq 0 ] || fail "copytruncate + kill -9: $missing of $N lines missing"
pass "copytruncate every 5000 lines at 20000 lines/s, kill -9 twice: 0 of $N lines lost, $dups delivered twice (read but not yet in a chunk file when killed)"

# ==== 2. copies inside the glob ====
rm -rf "$T/logs" "$T/state"
mkdir -p "$T/logs"
: >"$T/logs/app.log"
N=60000
cat >"$T/glob.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/logs/app.log*"], read_from_head: true}]
    outputs: [{type: file, path: $T/out2.json}]
YAML
start_sluice -c "$T/glob.yaml"
wait_for 10 grep -q "following 1 files" "$T/sluice.log" || fail "sluice did not start"
python3 "$W" "$T/logs/app.log" --rate 20000 --count $N --every 5000 --numbered --done "$T/w2.done" ||
    fail "writer failed"
wait_for 30 all_read "$T/out2.json" $N || true
sleep 1
stop_sluice || fail "exit $?"
read -r missing dups junk <<<"$(check_counts "$T/out2.json" $N)"
copies=$(ls "$T/logs" | grep -c 'app.log\.')
recognised=$(grep -c "is a copy of what" "$T/sluice.log")
[ "$missing" -eq 0 ] && [ "$dups" -eq 0 ] && [ "$junk" -eq 0 ] ||
    fail "copies in the glob: $missing missing, $dups duplicated, $junk unexpected"
[ "$recognised" -eq "$copies" ] || fail "$recognised of $copies copies recognised"
pass "copytruncate with app.log*: $copies copies recognised, each of $N lines delivered exactly once"

# ==== 3. Files that only look alike are read whole ====
# Two CSV files with the same 300-byte header, and a rename rotation whose
# new file starts with the same 300-byte banner as the old one: same first
# bytes, different streams.
rm -rf "$T/state"
mkdir -p "$T/alike"
header=$(python3 -c "print('col_' + ','.join(f'c{i:03d}' for i in range(60)))")
banner=$(python3 -c "print('=' * 100 + ' app 1.2.3 starting; config /etc/app.conf; ' + '=' * 160)")
{ echo "$header"; for i in $(seq 1 100); do echo "a,$i"; done; } >"$T/alike/a.csv"
{ echo "$header"; for i in $(seq 1 100); do echo "b,$i"; done; } >"$T/alike/b.csv"
{ echo "$banner"; for i in $(seq 1 100); do echo "old $i"; done; } >"$T/alike/app.log"
cat >"$T/alike.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/alike/*"], read_from_head: true, refresh_interval: 200ms}]
    outputs: [{type: file, path: $T/out3.json}]
YAML
start_sluice -c "$T/alike.yaml"
wait_for 10 lines_at_least "$T/out3.json" 303 || fail "alike: $(line_count "$T/out3.json") of 303"
mv "$T/alike/app.log" "$T/alike/app.log.1"
{ echo "$banner"; for i in $(seq 1 100); do echo "new $i"; done; } >"$T/alike/app.log"
wait_for 10 lines_at_least "$T/out3.json" 404 || fail "banner: $(line_count "$T/out3.json") of 404"
sleep 1
stop_sluice || fail "exit $?"
python3 - "$T/out3.json" <<'PY' || fail "look-alikes"
import collections, json, sys
c = collections.Counter(json.loads(l)["message"] for l in open(sys.argv[1]))
for p in ("a", "b"):
    assert all(c[f"{p},{i}"] == 1 for i in range(1, 101)), p
assert all(c[f"old {i}"] == 1 and c[f"new {i}"] == 1 for i in range(1, 101))
header = [k for k in c if k.startswith("col_")][0]
banner = [k for k in c if k.startswith("====")][0]
assert c[header] == 2 and c[banner] == 2, (c[header], c[banner])
assert sum(c.values()) == 404, sum(c.values())
PY
pass "files with the same header, and a new file with the old one's banner, are each read whole"

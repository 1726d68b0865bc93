#!/usr/bin/env bash
# tail: what a line is. CRLF, a last line without a newline (held until it is
# completed), long lines split or skipped (and counted), invalid UTF-8 kept
# byte-exact in the event, path_key and offset_key, read_from_head, **
# globs and exclude_path, and files created after the start.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs/a/b" "$T/logs/c"
printf 'one\r\ntwo\nthree' >"$T/logs/a/b/app.log"
printf 'bad \xff\xfe utf8\n' >"$T/logs/c/bytes.log"
printf 'excluded\n' >"$T/logs/c/skip.log"
python3 -c "print('L' * 3000)" >"$T/logs/c/long.log"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  split:
    inputs:
      - type: tail
        path: ["$T/logs/**/*.log"]
        exclude_path: ["*/skip.log"]
        read_from_head: true
        max_line_size: 1000
        path_key: file
        offset_key: offset
    outputs: [{type: file, path: $T/out.json}, {type: file, path: $T/out.msgpack, format: msgpack}]
  skip:
    inputs:
      - type: tail
        path: ["$T/logs/c/long.log"]
        read_from_head: true
        max_line_size: 1000
        long_lines: skip
    outputs: [{type: file, path: $T/skip.json}]
  poll:
    inputs: [{type: tail, path: ["$T/polled/*.log"], watch: poll, refresh_interval: 100ms}]
    outputs: [{type: file, path: $T/poll.json}]
YAML
mkdir -p "$T/polled"
printf 'before start\n' >"$T/polled/p.log"
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/out.json" 6 || fail "$(line_count "$T/out.json") events"
printf ' and four\n' >>"$T/logs/a/b/app.log"
printf 'polled 1\npolled 2\n' >>"$T/polled/p.log"
wait_for 20 lines_at_least "$T/poll.json" 2 || fail "watch: poll read nothing"
printf 'late file\n' >"$T/logs/a/new.log"
wait_for 20 lines_at_least "$T/out.json" 8 || fail "completed line / new file: $(cat "$T/out.json")"
stop_sluice || fail "exit code $?"

python3 - "$T" <<'PY' || fail "content"
import json, sys
t = sys.argv[1]
evs = [json.loads(l) for l in open(f"{t}/out.json")]
by = {}
for e in evs:
    by.setdefault(e["file"].split("/logs/")[1], []).append(e)
app = [e["message"] for e in by["a/b/app.log"]]
assert app == ["one", "two", "three and four"], app
assert [e["offset"] for e in by["a/b/app.log"]] == [5, 9, 24], by["a/b/app.log"]
assert by["c/bytes.log"][0]["message"] == "bad \ufffd\ufffd utf8", by["c/bytes.log"]
longs = [e["message"] for e in by["c/long.log"]]
assert longs == ["L" * 1000] * 3, [len(x) for x in longs]
assert [e["message"] for e in by["a/new.log"]] == ["late file"]
assert "c/skip.log" not in by
assert len(evs) == 8, len(evs)
PY
grep -c $'bad \xff\xfe utf8' "$T/out.msgpack" | grep -q 1 || fail "invalid UTF-8 not byte-exact in the event"
[ "$(line_count "$T/skip.json")" -eq 0 ] || fail "a skipped long line was emitted"
grep -q '"message":"polled 1"' "$T/poll.json" && grep -q '"message":"polled 2"' "$T/poll.json" &&
    ! grep -q "before start" "$T/poll.json" || fail "watch: poll content: $(cat "$T/poll.json")"
grep -q "split.tail.0: read 8 lines; 1 long lines split" "$T/sluice.log" || fail "split count: $(grep 'read ' "$T/sluice.log")"
grep -q "skip.tail.0: read 0 lines; 0 long lines split, 1 skipped" "$T/sluice.log" || fail "skip count"
pass "watch: poll, CRLF, held last line, long lines split/skipped, invalid UTF-8 byte-exact, path/offset keys, ** and exclude, new files"

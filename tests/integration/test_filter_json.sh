#!/usr/bin/env bash
# filter json: merge into the event (parsed keys win, the source field
# removed), target, keep_original, a nested field path, and bad input: not a
# string, invalid JSON kept with parse_error or dropped (counted), a missing
# field passed unchanged, invalid UTF-8 and a huge value.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
python3 - "$T/logs/app.log" <<'PY'
import json, sys
with open(sys.argv[1], "wb") as f:
    f.write(b'{"level":"info","n":18446744073709551615,"nested":{"k":[1,2.5,null]}}\n')
    f.write(b'not json at all\n')
    f.write(b'{"bad utf8":"\xff"}\n')
    f.write(b'[1,2,3]\n')
    f.write(json.dumps({"big": "x" * 200000}).encode() + b"\n")
PY
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  merge:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true, path_key: file}]
    filters: [{type: json}]
    outputs: [{type: file, path: $T/merge.json}]
  target:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true}]
    filters: [{type: json, target: parsed, keep_original: true, on_error: drop}]
    outputs: [{type: file, path: $T/target.json}]
  nested:
    inputs: [{type: dummy, count: 3, rate: 0, record: {outer: {inner: '{"x":1}'}, other: 5}}]
    filters: [{type: json, field: outer.inner}, {type: json, field: other}]
    outputs: [{type: file, path: $T/nested.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/merge.json" 5 || fail "merge: $(line_count "$T/merge.json")"
wait_for 20 lines_at_least "$T/target.json" 4 || fail "target"
wait_for 20 lines_at_least "$T/nested.json" 3 || fail "nested"
stop_sluice || fail "exit code $?"

python3 - "$T" <<'PY' || fail "events"
import json, sys
t = sys.argv[1]
rd = lambda n: [json.loads(l) for l in open(f"{t}/{n}.json")]
m = rd("merge")
assert m[0]["level"] == "info" and m[0]["n"] == 18446744073709551615, m[0]
assert m[0]["nested"] == {"k": [1, 2.5, None]} and "message" not in m[0] and m[0]["file"].endswith("app.log")
assert m[1] == {**m[1], "message": "not json at all", "parse_error": True}, m[1]
assert m[2]["bad utf8"] == "\ufffd", m[2]
assert m[3]["message"] == "[1,2,3]" and m[3]["parse_error"] is True, m[3]  # not an object
assert len(m[4]["big"]) == 200000 and "message" not in m[4]
tg = rd("target")
assert len(tg) == 4, len(tg)  # the invalid line was dropped
assert tg[0]["parsed"]["level"] == "info" and tg[0]["message"].startswith("{")
assert tg[2]["parsed"] == [1, 2, 3]  # under a target anything goes
n = rd("nested")
assert n[0]["outer"]["inner"] == '{"x":1}' and n[0]["x"] == 1, n[0]  # nested source kept
assert n[0]["other"] == 5 and "parse_error" in n[0], n[0]             # not a string
PY
grep -q "merge.json.0: parsed 3; 2 failed (0 not a string), 0 of them dropped" "$T/sluice.log" || fail "merge counts: $(grep 'json.0: parsed' "$T/sluice.log")"
grep -q "target.json.0: parsed 4; 1 failed (0 not a string), 1 of them dropped" "$T/sluice.log" || fail "target counts"
grep -q "nested.json.1: parsed 0; 3 failed (3 not a string), 0 of them dropped" "$T/sluice.log" || fail "nested counts"
pass "json filter: merge, target, keep_original, nested path, bad input kept or dropped and counted"

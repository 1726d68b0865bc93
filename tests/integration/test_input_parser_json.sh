#!/usr/bin/env bash
# parser: json in the inputs themselves: tail lines and syslog MSGs that are
# JSON objects become fields (the input's own fields, such as path_key,
# after them, replacing members of their names: no key twice); a line or
# MSG that is not an object is kept with parse_error: true and counted.
. "$(dirname "$0")/lib.sh"
command -v logger >/dev/null || fail "logger is not installed"

mkdir -p "$T/logs"
printf '%s\n' '{"level":"info","n":18446744073709551615,"msg":"a"}' 'plain text' '[1,2]' \
    '{"deep":{"x":[1,{"y":null}]}}' '{"file":"mine","k":1}' >"$T/logs/app.log"
UDP=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  files:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true, parser: json, path_key: file}]
    outputs: [{type: file, path: $T/tail.json}]
  net:
    inputs: [{type: syslog, listen: [udp://127.0.0.1:$UDP], parser: json}]
    outputs: [{type: file, path: $T/syslog.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 10 grep -q "listening on udp" "$T/sluice.log" || fail "not listening"
logger --server 127.0.0.1 --port $UDP --udp --rfc5424 -t app '{"event":"login","user":"bob","ok":true}'
logger --server 127.0.0.1 --port $UDP --udp --rfc5424 -t app 'not json'
logger --server 127.0.0.1 --port $UDP --udp --rfc5424 -t app '{"appname":"fake","severity":"x","z":2}'
wait_for 10 lines_at_least "$T/tail.json" 5 || fail "tail: $(line_count "$T/tail.json")"
wait_for 10 lines_at_least "$T/syslog.json" 3 || fail "syslog: $(line_count "$T/syslog.json")"
stop_sluice || fail "exit code $?"

PYTHONPATH=$SLUICE_SOURCE_DIR/tests/integration python3 - "$T" <<'PY' || fail "events"
import json, sys
t = sys.argv[1]
import jsonl
def load(name):
    return jsonl.read(f"{t}/{name}.json")
tl = load("tail")
assert tl[0]["level"] == "info" and tl[0]["n"] == 18446744073709551615 and "message" not in tl[0], tl[0]
assert tl[0]["file"].endswith("app.log"), tl[0]
assert tl[1]["message"] == "plain text" and tl[1]["parse_error"] is True, tl[1]
assert tl[2]["message"] == "[1,2]" and tl[2]["parse_error"] is True, tl[2]
assert tl[3]["deep"] == {"x": [1, {"y": None}]}, tl[3]
assert tl[4]["k"] == 1 and tl[4]["file"].endswith("app.log"), tl[4]
sl = load("syslog")
assert sl[0]["event"] == "login" and sl[0]["user"] == "bob" and sl[0]["ok"] is True, sl[0]
assert sl[0]["appname"] == "app" and "message" not in sl[0] and "parse_error" not in sl[0], sl[0]
assert sl[1]["message"] == "not json" and sl[1]["parse_error"] is True, sl[1]
assert sl[2]["z"] == 2 and sl[2]["appname"] == "app" and sl[2]["severity"] == "notice", sl[2]
PY
grep -q "2 not JSON" "$T/sluice.log" || fail "tail did not count 2 lines that are not JSON"
grep -q "(1 not JSON)" "$T/sluice.log" || fail "syslog did not count the message that is not JSON"
pass "tail and syslog parser: json: objects become fields, the rest kept with parse_error"

#!/usr/bin/env bash
# filter grep: include rules (and/or), exclude rules, numbers matched as
# text, nested field paths, a missing field matching nothing, exact kept
# sets and counts; a bad regex refused by `sluice validate` with its place.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
cat >"$T/logs/app.log" <<'LOG'
{"id":1,"level":"INFO","service":"api","status":200,"req":{"path":"/health"}}
{"id":2,"level":"ERROR","service":"api","status":500,"req":{"path":"/orders"}}
{"id":3,"level":"WARN","service":"worker","status":429,"req":{"path":"/jobs"}}
{"id":4,"level":"INFO","service":"worker","status":204,"req":{"path":"/health/deep"}}
{"id":5,"level":"INFO","service":"api","status":201,"req":{"path":"/orders"}}
LOG
pipe() { # NAME GREP-OPTIONS
    cat <<YAML
  $1:
    inputs: [{type: tail, path: ["$T/logs/app.log"], read_from_head: true}]
    filters: [{type: json}, {type: grep, $2}]
    outputs: [{type: file, path: $T/$1.json}]
YAML
}
{
    echo "service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}"
    echo "pipelines:"
    pipe errors 'include: {level: "^(ERROR|WARN)$"}'
    pipe both 'include: {level: "^INFO$", service: "^api$"}'
    pipe either 'include: {level: "^ERROR$", service: "^worker$"}, include_op: or'
    pipe no2xx 'exclude: {status: "^2\\d\\d$"}'
    pipe nohealth 'exclude: {req.path: "^/health"}'
    pipe missing 'include: {nope: "."}'
} >"$T/sluice.yaml"
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/nohealth.json" 3 || fail "no output"
sleep 0.3
stop_sluice || fail "exit code $?"

python3 - "$T" <<'PY' || fail "kept sets"
import json, os, sys
t = sys.argv[1]
def ids(name):
    p = f"{t}/{name}.json"
    return [json.loads(l)["id"] for l in open(p)] if os.path.exists(p) else []
assert ids("errors") == [2, 3], ids("errors")
assert ids("both") == [1, 5], ids("both")
assert ids("either") == [2, 3, 4], ids("either")
assert ids("no2xx") == [2, 3], ids("no2xx")
assert ids("nohealth") == [2, 3, 5], ids("nohealth")
assert ids("missing") == [], ids("missing")
PY
grep -q "errors.grep.0: kept 2 events, dropped 3" "$T/sluice.log" || fail "counts"
grep -q "missing.grep.0: kept 0 events, dropped 5" "$T/sluice.log" || fail "missing counts"

printf 'pipelines:\n  p:\n    inputs: [{type: dummy}]\n    filters: [{type: grep, include: {level: "(unclosed"}}]\n    outputs: [{type: null}]\n' >"$T/bad.yaml"
"$SLUICE_BIN" validate -c "$T/bad.yaml" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a bad regex must fail validate"
grep -q "bad.yaml:4:45: pipelines.p.filters\[0\].include.level: bad regex '(unclosed' at offset 9: missing closing parenthesis" "$T/err" || fail "regex error: $(cat "$T/err")"
pass "grep: include and/or, exclude, numbers as text, nested paths, missing fields; bad regexes refused"

#!/usr/bin/env bash
# The command line contract: commands, exit codes 0/1/2, validate on every
# file in conf/, plugins --json, and docs/configuration.md up to date.
. "$(dirname "$0")/lib.sh"

for f in "$SLUICE_SOURCE_DIR"/conf/*.yaml; do
    "$SLUICE_BIN" validate -c "$f" >/dev/null 2>"$T/err" || fail "validate $f: $(cat "$T/err")"
done
pass "sluice validate passes on every file in conf/"

"$SLUICE_BIN" version | grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI [0-9]+\.[0-9]+\)$' || fail "version"
"$SLUICE_BIN" -h | grep -q '^usage: sluice' || fail "-h"

printf 'pipelines:\n  p:\n    inputs: [{type: dummy, rate: x}]\n    outputs: [{type: nul}]\n' >"$T/bad.yaml"
"$SLUICE_BIN" validate -c "$T/bad.yaml" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "broken config: exit $rc, want 1"
grep -q "^$T/bad.yaml:3:34: pipelines.p.inputs\[0\].rate: expected an integer, found 'x'$" "$T/err" || fail "validate error text: $(cat "$T/err")"
grep -q "^$T/bad.yaml:4:22: pipelines.p.outputs\[0\].type: unknown output plugin 'nul' (searched .*); did you mean 'null'?$" "$T/err" || fail "validate lists every error: $(cat "$T/err")"
grep -q "2 errors in the configuration" "$T/err" || fail "error count"
"$SLUICE_BIN" -c "$T/bad.yaml" 2>/dev/null
[ $? -eq 1 ] || fail "run with a broken config must exit 1"
pass "a broken config exits 1 listing every error with file:line:col"

"$SLUICE_BIN" validate >/dev/null 2>&1
[ $? -eq 2 ] || fail "validate without -c must exit 2"
"$SLUICE_BIN" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown command must exit 2"
"$SLUICE_BIN" --no-such-flag >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown flag must exit 2"
"$SLUICE_BIN" -c "$T/missing.yaml" 2>"$T/err"
[ $? -eq 1 ] || fail "missing config file must exit 1"
pass "usage errors exit 2, a missing file exits 1"

"$SLUICE_BIN" plugins --json >"$T/plugins.json" || fail "plugins --json"
python3 - "$T/plugins.json" <<'PY' || fail "plugins --json content"
import json, sys
doc = json.load(open(sys.argv[1]))
names = {(p["kind"], p["name"]) for p in doc["plugins"]}
for want in [("input", "dummy"), ("output", "file"), ("output", "stdout"), ("output", "null")]:
    assert want in names, f"missing {want}"
dummy = next(p for p in doc["plugins"] if p["name"] == "dummy")
opts = {o["name"]: o for o in dummy["options"]}
assert opts["rate"]["type"] == "integer" and opts["rate"]["default"] == "1", opts["rate"]
assert opts["record"]["help"], "help text"
PY
pass "plugins --json lists every plugin with options, types, defaults and help"

"$SLUICE_BIN" plugins --markdown >"$T/configuration.md" || fail "plugins --markdown"
diff -u "$SLUICE_SOURCE_DIR/docs/configuration.md" "$T/configuration.md" >"$T/diff" ||
    fail "docs/configuration.md is stale; run 'cmake --build build --target docs': $(head -20 "$T/diff")"
pass "docs/configuration.md matches the plugin schemas"

"$SLUICE_BIN" -c "$T/bad.yaml" --log-format json 2>/dev/null; [ $? -eq 1 ] || fail "log-format"
printf 'service: {http: off}\npipelines:\n  p:\n    inputs: [{type: dummy, rate: 0, count: 10}]\n    outputs: [{type: null}]\n' >"$T/ok.yaml"
start_sluice -c "$T/ok.yaml" --log-format json
wait_for 10 grep -q 'emitted 10 events' "$T/sluice.log" || fail "json log run"
stop_sluice || fail "exit code $?"
python3 - "$T/sluice.log" <<'PY' || fail "--log-format json lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all({"time", "level", "msg"} <= set(l) for l in lines), lines
assert any(l.get("id") == "p.dummy.0" for l in lines), lines
PY
pass "--log-format json writes one JSON object per line naming the instance"

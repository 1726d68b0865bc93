#!/usr/bin/env bash
# Prometheus itself is the oracle: every rule unit-test file of
# tests/promql runs through `promtool test rules` (Prometheus 2.42, Debian's)
# and `sluice rules test`, and every rule file through both checkers; the
# verdicts must be the same. Right files (tests/promql/*.test.yml) pass in
# both, wrong ones (wrong/) fail in both, bad rule files (bad/) are refused
# by both; then what sluice refuses and promtool accepts (the constructs
# outside sluice's subset) is refused by name and place.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not found (Debian package prometheus)"
SLUICE_BIN=$(realpath "$SLUICE_BIN")
cd "$SLUICE_SOURCE_DIR/tests/promql"

verdict() { "$@" >"$T/out" 2>&1; echo $?; }
cases=0 files=0
for f in *.test.yml wrong/*.test.yml; do
    want=0
    case $f in wrong/*) want=1 ;; esac
    p=$(verdict promtool test rules "$f")
    s=$(verdict "$SLUICE_BIN" rules test "$f")
    [ "$p" = "$want" ] || fail "$f: promtool says $p, the file says $want: fix the file"
    [ "$s" = "$p" ] || fail "$f: promtool says $p, sluice says $s: $(cat "$T/out")"
    files=$((files + 1))
    cases=$((cases + $(grep -cE '^ *- \{?(expr|eval_time):' "$f")))
done
pass "$files unit-test files, $cases expression and alert cases: sluice's verdicts are promtool's"

for f in alerts.rules.yml bad/*.rules.yml; do
    p=$(verdict promtool check rules "$f")
    s=$(verdict "$SLUICE_BIN" rules check "$f")
    [ "$s" = "$p" ] || fail "$f: promtool check says $p, sluice rules check says $s: $(cat "$T/out")"
done
pass "rule files: $(ls bad/*.rules.yml | wc -l) refused by both checkers, alerts.rules.yml accepted by both"

# Outside the subset: promtool accepts, sluice refuses by name, at its place.
cat >"$T/outside.yml" <<'YAML'
groups:
  - name: g
    rules:
      - alert: Predict
        expr: predict_linear(disk_free[1h], 3600) < 0
      - record: top
        expr: topk(3, rate(x[5m]))
      - alert: Sub
        expr: max_over_time(rate(x[1m])[10m:1m]) > 1
YAML
[ "$(verdict promtool check rules "$T/outside.yml")" = 0 ] || fail "promtool refuses outside.yml"
[ "$(verdict "$SLUICE_BIN" rules check "$T/outside.yml")" = 1 ] || fail "sluice accepts outside.yml"
for want in "outside.yml:5:15: Predict: the function 'predict_linear' is not supported by sluice" \
            "outside.yml:7:15: top: the aggregation 'topk' is not supported by sluice" \
            "outside.yml:9:40: Sub: subqueries ([range:step]) are not supported by sluice"; do
    grep -qF "$want" "$T/out" || fail "sluice rules check does not say: $want
$(cat "$T/out")"
done
pass "constructs outside the subset are refused by name, at file:line:col"

#!/usr/bin/env bash
# Rule evaluation cost: 10,000 series and 50 rules (10 of them over
# 5-minute ranges) evaluated every 15 s, through `sluice rules test` on a
# generated promtool-format file: 41 evaluations (0 to 10 minutes) of 41
# samples per series. Reported: CPU per evaluation (the run with the rules
# minus the same run without them, divided by the evaluations), and peak
# RSS per stored sample. Median of RUNS.
#
# usage: bench/rules_eval.sh [SERIES] [RUNS]     (default 10000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-10000}
RUNS=${2:-3}
BIN=${SLUICE_BIN:-build/bin/sluice}
T=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$T"' EXIT
python3 - "$T" "$SERIES" <<'PY'
import sys
t, n = sys.argv[1], int(sys.argv[2])
rules = ["groups:", "  - name: bench", "    interval: 15s", "    rules:"]
for i in range(10):
    rules += [f"      - alert: Rate{i}",
              f"        expr: sum by (job) (rate(req_total{{job=\"j{i}\"}}[5m])) > {i}",
              "        for: 1m"]
for i in range(40):
    rules += [f"      - alert: Level{i}",
              f"        expr: level{{job=\"j{i % 10}\"}} > {1000 + i}",
              "        labels: {severity: warning}",
              "        annotations: {summary: '{{ $labels.instance }} at {{ $value }}'}"]
open(f"{t}/rules.yml", "w").write("\n".join(rules) + "\n")
open(f"{t}/none.yml", "w").write("groups: []\n")
for name, rf in (("with", "rules.yml"), ("without", "none.yml")):
    out = [f"rule_files: [{rf}]", "evaluation_interval: 15s", "tests:", "  - interval: 15s",
           "    input_series:"]
    for k in range(n // 2):
        out += [f"      - series: 'req_total{{job=\"j{k % 10}\", instance=\"i{k}\"}}'",
                "        values: '0+15x40'",
                f"      - series: 'level{{job=\"j{k % 10}\", instance=\"i{k}\"}}'",
                f"        values: '{k % 2000}+0x40'"]
    out += ["    alert_rule_test:", "      - eval_time: 10m", "        alertname: Nothing"]
    open(f"{t}/{name}.test.yml", "w").write("\n".join(out) + "\n")
PY
measure() { # FILE -> "cpu_seconds max_rss_kib"
    /usr/bin/time -f "%U %S %M" "$BIN" rules test "$1" >/dev/null 2>"$T/time" || true
    awk 'END {printf "%.3f %d\n", $1 + $2, $3}' "$T/time"
}
for run in $(seq "$RUNS"); do
    read -r cw rw <<<"$(measure "$T/with.test.yml")"
    read -r co ro <<<"$(measure "$T/without.test.yml")"
    echo "$cw $co $rw $ro" >>"$T/results"
done
python3 - "$T/results" "$SERIES" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
n = int(sys.argv[2]); evals = 41; samples = n * 41
cpu = statistics.median(r[0] - r[1] for r in rows)
rss = statistics.median(r[3] for r in rows)
print(f"rules: {n} series, 50 rules (10 over 5m ranges), {evals} evaluations every 15s, median of {len(rows)}:")
print(f"  {cpu / evals * 1000:.2f} ms CPU per evaluation = {cpu / evals / 15 * 100:.3f}% of a core at a 15s interval")
print(f"  peak RSS {rss / 1024:.1f} MiB with {samples} samples stored: {rss * 1024 / samples:.0f} bytes per sample (an upper bound: the parsed test file is in it)")
PY

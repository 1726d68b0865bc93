#!/usr/bin/env bash
# tail on 1000 files: every line of every file arrives once, lines appended
# later to any of them too; reports CPU seconds and peak RSS for the whole
# run and the CPU used while idle (nothing to read) over 5 s.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
python3 - "$T/logs" <<'PY'
import sys
for f in range(1000):
    with open(f"{sys.argv[1]}/f{f:04d}.log", "w") as out:
        out.write("".join(f"file {f} line {i}\n" for i in range(20)))
PY
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: off, storage: {path: $T/state}}
pipelines:
  it:
    inputs: [{type: tail, path: ["$T/logs/*.log"], read_from_head: true}]
    outputs: [{type: file, path: $T/out.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 60 lines_at_least "$T/out.json" 20000 || fail "$(line_count "$T/out.json") of 20000"
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.3f", ($14 + $15) / t}' "/proc/$SLUICE_PID/stat"; }
c0=$(cpu)
sleep 5
c1=$(cpu)
for f in 0 499 999; do echo "file $f line 20" >>"$T/logs/f$(printf %04d $f).log"; done
wait_for 20 lines_at_least "$T/out.json" 20003 || fail "appended lines"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SLUICE_PID/status")
total=$(cpu)
stop_sluice || fail "exit code $?"
python3 - "$T/out.json" <<'PY' || fail "content"
import collections, json, sys
c = collections.Counter(json.loads(l)["message"] for l in open(sys.argv[1]))
want = {f"file {f} line {i}" for f in range(1000) for i in range(20)}
want |= {"file 0 line 20", "file 499 line 20", "file 999 line 20"}
assert set(c) == want and all(v == 1 for v in c.values()), len(c)
PY
echo "1000 files: $total CPU seconds in all, $(python3 -c "print(f'{($c1 - $c0) / 5 * 100:.2f}')")% of a core while idle, peak RSS $((hwm / 1024)) MiB"
pass "1000 files tailed: 20003 lines each exactly once"

#!/usr/bin/env bash
# dummy(count=100000) -> file(json): exactly 100000 lines with seq 0..99999
# each once, and exit code 0 on SIGTERM once all are written.
. "$(dirname "$0")/lib.sh"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off}
pipelines:
  it:
    inputs:
      - type: dummy
        rate: 0
        count: 100000
        record: {message: "integration line", n: 1}
    outputs:
      - type: file
        path: $T/out.json
        format: json
YAML

start_sluice -c "$T/sluice.yaml"
wait_for 60 lines_at_least "$T/out.json" 100000 || fail "only $(line_count "$T/out.json") lines after 60 s"
stop_sluice
rc=$?
[ "$rc" -eq 0 ] || fail "exit code $rc on SIGTERM"

python3 - "$T/out.json" <<'PY' || fail "content check"
import json, sys
seqs = []
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        ev = json.loads(line)
        assert ev["message"] == "integration line" and ev["n"] == 1, f"line {n}: {line!r}"
        assert ev["time"].endswith("Z"), f"line {n}: time {ev['time']}"
        seqs.append(ev["seq"])
assert len(seqs) == 100000, f"{len(seqs)} lines"
assert sorted(seqs) == list(range(100000)), "seq values are not 0..99999 each once"
print("100000 lines, seq 0..99999 each exactly once")
PY
grep -q "it.file.0: delivered 100000 events" "$T/sluice.log" || fail "no delivery summary"
pass "dummy -> file(json) delivered 100000 events exactly once and exited 0"

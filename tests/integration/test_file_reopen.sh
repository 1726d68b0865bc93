#!/usr/bin/env bash
# The file output reopens its file on SIGUSR1, as logrotate's postrotate
# does: nothing is lost or written twice across the rename.
. "$(dirname "$0")/lib.sh"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off}
pipelines:
  it:
    inputs: [{type: dummy, rate: 2000}]
    outputs: [{type: file, path: $T/out.log, format: logfmt}]
YAML

start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/out.log" 500 || fail "no output"
mv "$T/out.log" "$T/out.log.1"
kill -USR1 "$SLUICE_PID"
wait_for 20 lines_at_least "$T/out.log" 500 || fail "file not reopened after SIGUSR1"
stop_sluice || fail "exit code $?"

cat "$T/out.log.1" "$T/out.log" | grep -o ' seq=[0-9]*' | cut -d= -f2 | sort -n >"$T/seqs"
total=$(wc -l <"$T/seqs")
unique=$(uniq "$T/seqs" | wc -l)
last=$(tail -1 "$T/seqs")
[ "$total" -eq "$unique" ] || fail "$((total - unique)) duplicate lines"
[ "$total" -eq $((last + 1)) ] || fail "gap: $total lines for seq 0..$last"
grep -q "reopening $T/out.log" "$T/sluice.log" || fail "no reopen log line"
pass "SIGUSR1 reopened the file; $total lines across both files, no gap, no duplicate"

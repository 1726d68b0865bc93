#!/usr/bin/env bash
# Filesystem buffer: chunks written while the backend is down survive a stop
# and are sent after the next start; a chunk with flipped bytes is moved to
# corrupt/ with a log line, a chunk truncated mid-record keeps its complete
# events (the torn tail is cut and counted), and everything else arrives
# exactly once.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
N=3000
config() { # RUN COUNT
    cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, chunk_size: 16KiB, http: off, grace: 1s, storage: {path: $T/storage}}
pipelines:
  it:
    inputs: [{type: dummy, rate: 0, count: $2, record: {run: $1, message: "buffered while the backend is down"}}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/ingest
        buffer: {type: filesystem}
        retry: {initial_backoff: 100ms, max_backoff: 300ms}
YAML
}
DIR=$T/storage/it/it.http.0

config 1 $N
start_sluice -c "$T/sluice.yaml"
wait_for 20 grep -q "emitted $N events" "$T/sluice.log" || fail "dummy did not finish"
sleep 0.5
stop_sluice || fail "exit code $?"
grep -q "$N events stay in the filesystem buffer for the next start" "$T/sluice.log" || fail "not persisted: $(tail -3 "$T/sluice.log")"
files=$(ls "$DIR"/*.chunk | wc -l)
[ "$files" -ge 4 ] || fail "only $files chunk files"
pass "backend down: $N events persisted in $files chunk files at stop"

# Damage two files: flip payload bytes of one, cut another mid-record.
set -- $(ls "$DIR"/*.chunk)
flipped=$2 truncated=$3
count_of() { python3 -c "import sys; d=open(sys.argv[1],'rb').read(); print(int.from_bytes(d[8:12],'big'))" "$1"; }
flipped_count=$(count_of "$flipped")
truncated_count=$(count_of "$truncated")
python3 - "$flipped" "$truncated" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(32 + 1000); b = f.read(4); f.seek(32 + 1000); f.write(bytes(x ^ 0x5A for x in b))
size = os.path.getsize(sys.argv[2])
os.truncate(sys.argv[2], size - 37)
PY

start_http_server "$PORT"
config 2 1
start_sluice -c "$T/sluice.yaml"
kept=""
wait_for 20 grep -q "cut a torn tail" "$T/sluice.log" || fail "torn tail not reported"
kept=$(grep -o "kept [0-9]* events, cut a torn tail" "$T/sluice.log" | grep -o '[0-9]*' | head -1)
expected=$((N - flipped_count - (truncated_count - kept)))
wait_for 30 http_events_at_least "$PORT" $((expected + 1)) || fail "$(http_events "$PORT") events, want $((expected + 1))"
sleep 0.5
stop_sluice || fail "exit code $?"

grep -q "is corrupt (corrupt payload); moved to $DIR/corrupt/" "$T/sluice.log" || fail "corrupt chunk not set aside"
[ "$(ls "$DIR/corrupt" | wc -l)" -eq 1 ] || fail "corrupt/ should hold one file"
[ "$(ls "$DIR"/*.chunk 2>/dev/null | wc -l)" -eq 0 ] || fail "delivered chunk files were not deleted"
http_stats "$PORT" | python3 -c "
import json, sys
runs = json.load(sys.stdin)['by_run']
seqs = runs['1']
assert len(seqs) == len(set(seqs)), 'duplicates'
assert len(seqs) == $expected, f'{len(seqs)} delivered, want $expected'
assert runs['2'] == [0]
" || fail "delivered counts"
pass "restart: $expected of $N delivered exactly once; $flipped_count in the corrupt chunk set aside; $((truncated_count - kept)) cut with the torn tail"

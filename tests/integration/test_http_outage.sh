#!/usr/bin/env bash
# Backend outage: dummy(count=200000, rate 50k/s) -> http with the server
# down for the first 20 s. With buffer.max_memory 8MiB the input pauses
# instead of growing, peak RSS stays under 64 MiB, and once the server is up
# every seq arrives. Reports duplicates (a refused connection delivers
# nothing, so there should be none) and pauses.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
N=200000
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 200ms, http: off, grace: 30s}
pipelines:
  it:
    inputs: [{type: dummy, rate: 50000, count: $N, record: {message: "outage test event with some text"}}]
    outputs:
      - type: http
        url: http://127.0.0.1:$PORT/ingest
        buffer: {type: memory, max_memory: 8MiB}
        retry: {initial_backoff: 200ms, max_backoff: 2s}
YAML
start_sluice -c "$T/sluice.yaml"
sleep 20
kill -0 "$SLUICE_PID" || fail "sluice died during the outage"
rss_outage=$(awk '/VmHWM/ {print $2}' "/proc/$SLUICE_PID/status")
start_http_server "$PORT"
wait_for 120 http_events_at_least "$PORT" $N || fail "only $(http_events "$PORT") of $N events after the outage"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$SLUICE_PID/status")
stop_sluice || fail "exit code $?"

http_stats "$PORT" | python3 -c "
import json, sys
seqs = json.load(sys.stdin)['by_run']['0']
assert set(seqs) == set(range($N)), f'{len(set(seqs))} distinct of $N'
print(f'all $N seqs arrived; {len(seqs) - len(set(seqs))} duplicates')
" || fail "missing events"
pauses=$(grep -o 'paused [0-9]* times' "$T/sluice.log" | grep -o '[0-9]*')
[ "${pauses:-0}" -gt 0 ] || fail "the input never paused"
# Under AddressSanitizer RSS measures the sanitizer's quarantine, not sluice.
if [ "${SLUICE_SANITIZED:-0}" != 1 ]; then
    [ "$rss_outage" -lt 65536 ] || fail "peak RSS during the outage $rss_outage KiB >= 64 MiB"
    [ "$rss" -lt 65536 ] || fail "peak RSS $rss KiB >= 64 MiB"
fi
echo "peak RSS during the 20 s outage: $((rss_outage / 1024)) MiB; over the whole run: $((rss / 1024)) MiB; input paused $pauses times"
pass "20 s outage: all $N events delivered, RSS bounded, input paused $pauses times"

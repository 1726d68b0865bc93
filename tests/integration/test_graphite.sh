#!/usr/bin/env bash
# graphite output into a real carbon-cache: metric events (exec's line
# protocol input, 5 points every 100 ms, one second apart in event time)
# become whisper datapoints under a templated path with sanitised tag
# values; a string field is skipped and counted. carbon-cache is stopped
# and started again mid-stream, while points keep coming: sluice notices the
# closed connection, retries until carbon is back, and every one of the 300
# values is in the whisper file, exact.
#
# carbon-cache 1.1.7 itself drops what is still in its memory cache when it
# stops (its writer thread sleeps a second between passes and exits with
# the reactor), so the producer pauses until carbon has written everything
# it received, then resumes as soon as carbon is stopped.
. "$(dirname "$0")/lib.sh"
command -v whisper-fetch >/dev/null || fail "whisper-fetch is not installed (python3-whisper)"

BASE=$(( $(date +%s) - 900 ))
cat >"$T/points.sh" <<SH
[ -e "$T/pause" ] && exit 0
i=\$(cat "$T/i" 2>/dev/null || echo 0)
[ "\$i" -ge 300 ] && exit 0
for k in 1 2 3 4 5; do
    printf 'requests,host=web.1,dc=eu value=%d,ratio=%d.5,note="x" %d000000000\n' "\$i" "\$i" \$(( $BASE + i ))
    i=\$((i + 1))
done
echo "\$i" >"$T/i"
SH
start_carbon
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  metrics:
    inputs: [{type: exec, command: [sh, $T/points.sh], format: influx, interval: 100ms}]
    outputs:
      - type: graphite
        address: 127.0.0.1:$CARBON_PORT
        path: 'it.{tag:dc}.{tag:host}.{name}.{field}'
        retry: {initial_backoff: 100ms, max_backoff: 500ms}
  udp:
    inputs: [{type: exec, command: [sh, $T/udp.sh], format: influx, oneshot: true}]
    outputs: [{type: graphite, protocol: udp, address: 127.0.0.1:$CARBON_PORT, path: 'udp.{name}'}]
YAML
cat >"$T/udp.sh" <<SH
for i in 0 1 2 3 4 5 6 7 8 9; do printf 'dgram v=%d %d000000000\n' "\$i" \$(( $BASE + i )); done
SH
start_sluice -c "$T/sluice.yaml"
W=$CARBON_WHISPER/it/eu/web_1/requests
wait_for 30 test -f "$W/value.wsp" || fail "no whisper file $W/value.wsp"
wait_for 30 bash -c "[ \$(cat $T/i) -ge 100 ]" || fail "exec stalled"
touch "$T/pause"
sleep 0.3
n=$(cat "$T/i")
persisted() { [ "$(whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) "$W/value.wsp" | grep -vc None)" -ge "$n" ]; }
wait_for 30 persisted || fail "carbon did not write the first $n points"
stop_carbon
rm "$T/pause"
echo "carbon stopped at point $n"
sleep 1
start_carbon "$CARBON_PORT"
echo "carbon started again at point $(cat "$T/i")"
wait_for 60 bash -c "[ \$(cat $T/i) -ge 300 ]" || fail "exec stalled after the restart"
sleep 1
stop_sluice || fail "exit code $?"

count_values() {
    whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) "$W/$1.wsp" | grep -vc None
}
wait_for 30 bash -c "[ \$(whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) $W/value.wsp | grep -vc None) -ge 300 ]" \
    || { whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) "$W/value.wsp" |
             awk -v b="$BASE" '$2 == "None" {printf "%d ", $1 - b}' >&2
         fail "value.wsp has $(count_values value) of 300 points"; }
wait_for 30 bash -c "[ \$(whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) $W/ratio.wsp | grep -vc None) -ge 300 ]" \
    || fail "ratio.wsp has $(count_values ratio) of 300 points"
wait_for 30 test -f "$CARBON_WHISPER/udp/dgram.wsp" || fail "no UDP datapoints"
whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 11)) "$CARBON_WHISPER/udp/dgram.wsp" >"$T/udp.txt"
whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) "$W/value.wsp" >"$T/value.txt"
whisper-fetch --from=$((BASE - 1)) --until=$((BASE + 301)) "$W/ratio.wsp" >"$T/ratio.txt"
stop_carbon
python3 - "$T" "$BASE" <<'PY' || fail "whisper values"
import sys
t, base = sys.argv[1], int(sys.argv[2])
for name, f in (("value", lambda i: float(i)), ("ratio", lambda i: i + 0.5)):
    got = {int(ts): float(v) for ts, v in (l.split() for l in open(f"{t}/{name}.txt")) if v != "None"}
    want = {base + i: f(i) for i in range(300)}
    assert got == want, (name, sorted(set(want) - set(got))[:5], len(got))
udp = {int(ts): float(v) for ts, v in (l.split() for l in open(f"{t}/udp.txt")) if v != "None"}
assert udp == {base + i: float(i) for i in range(10)}, udp
print("300 values of each field exact in whisper; 10 over UDP")
PY
[ ! -e "$W/note.wsp" ] || fail "a string field reached carbon"
grep -Eq "metrics.graphite.0: 600 lines sent; 300 fields skipped \(not numbers\); [1-9][0-9]* reconnects" "$T/sluice.log" \
    || fail "counts: $(grep 'lines sent' "$T/sluice.log")"
grep -q "cannot connect to 127.0.0.1:$CARBON_PORT" "$T/sluice.log" || fail "no retry while carbon was down"
pass "carbon restarted mid-stream: all 300 points of each field in whisper, exact; strings skipped"

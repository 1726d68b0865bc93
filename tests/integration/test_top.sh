#!/usr/bin/env bash
# sluice top: --once prints the pipelines with the rates and tail's own
# metrics that /api/v1/pipelines serves; the interactive view, driven in a
# tmux pane of 80x24, retries while sluice is unreachable, shows the
# pipelines, ids and rates, sorts on keys, follows a resize and quits on q;
# with stdout not a terminal it prints a snapshot a second; -c FILE finds
# the address in the configuration.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is not installed (.ci/run installs it)"

BIN=$(readlink -f "$SLUICE_BIN")
MPORT=$(free_port)
HPORT=$(free_port)
URL="http://127.0.0.1:$MPORT"
TMUX_SOCK="$T/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
stop_tmux() { tm kill-server 2>/dev/null; }
trap 'stop_tmux; cleanup' EXIT

# The backend hangs: the logs pipeline fills its 1 MiB buffer and pauses
# tail with bytes left unread (the lag).
start_http_server "$HPORT" hang
mkdir "$T/logs"
python3 -c "
with open('$T/logs/a.log', 'w') as f:
    f.write(''.join(f'line {i} ' + 'x' * 200 + chr(10) for i in range(20000)))"
size=$(stat -c %s "$T/logs/a.log")
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, grace: 1s, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 200, id: gen}]
    outputs: [{type: null, id: sink}]
  logs:
    inputs: [{type: tail, id: tailer, path: ["$T/logs/*.log"], read_from_head: true}]
    outputs:
      - {type: http, id: hung, url: "http://127.0.0.1:$HPORT/", timeout: 30s, buffer: {max_memory: 1MiB}}
YAML

# Nothing listens yet.
"$BIN" top --once --url "$URL" >"$T/once.out" 2>"$T/once.err" && fail "--once against nothing exited 0"
grep -q "^sluice: top: $URL/api/v1/pipelines: Couldn't connect to server$" "$T/once.err" ||
    fail "--once error: $(cat "$T/once.err")"
pass "--once against nothing: exit 1, the error on stderr"

# The interactive view starts first and keeps retrying.
tm -f /dev/null new-session -d -s top -x 80 -y 24 \
    "'$BIN' top --url '$URL'; echo \$? >'$T/top.rc'" \; \
    set-window-option -t top remain-on-exit on || fail "tmux new-session"
PIDS+=("$(tm display-message -p -t top '#{pid}')")
pane() { tm capture-pane -p -t top; }
pane_has() { pane | grep -q -- "$1"; }
wait_for 10 pane_has "Couldn't connect to server (retrying)" || fail "no retry line: $(pane)"
pass "interactive view shows the error while sluice is unreachable"

start_sluice -c "$T/sluice.yaml"
wait_for 20 curl -fs -o /dev/null "$URL/health" || fail "no /health"
api() { curl -fs "$URL/api/v1/pipelines"; }
# jq-less field reading: api_field PIPELINE KIND ID FIELD
api_field() {
    api | python3 -c "
import json, sys
doc = json.load(sys.stdin)
p = next(p for p in doc['pipelines'] if p['name'] == '$1')
i = next(i for i in p['$2'] if i['id'] == '$3')
v = i['$4']
print(int(v) if float(v).is_integer() else v)"
}
paused() { [ "$(api_field logs inputs tailer paused)" = 1 ]; }
wait_for 20 paused || fail "tail was not paused by the hung backend"
# The rate window holds at least 3 s of the dummy's 200 events a second.
sleep 3
lag=$(api_field logs inputs tailer lag_bytes)
[ "$lag" -gt 0 ] && [ "$lag" -lt "$size" ] || fail "lag $lag (file: $size bytes)"

# (a) --once against the JSON.
"$BIN" top --once --url "$URL" >"$T/top.txt" 2>"$T/top.err" || fail "top --once: $(cat "$T/top.err")"
rate_json=$(api_field app inputs gen events_per_second)
cat "$T/top.txt"
row() { awk -v id="$1" '$2 == id { print; exit }' "$T/top.txt"; }
[ "$(row gen | awk '{print $1, $3}')" = "app in" ] || fail "gen row: $(row gen)"
[ "$(row sink | awk '{print $1, $3, $4, $8, $9, $10}')" = "app out - - 0 0" ] || fail "sink row: $(row sink)"
[ "$(row tailer | awk '{print $1, $3, $11}')" = "logs in paused" ] || fail "tailer row: $(row tailer)"
[ "$(row hung | awk '{print $1, $3, $4}')" = "logs out -" ] || fail "hung row: $(row hung)"
rate_top=$(row gen | awk '{print $4}')
python3 -c "
t, j = float('$rate_top'), float('$rate_json')
assert 150 <= t <= 250 and 150 <= j <= 250 and abs(t - j) <= 20, (t, j)" ||
    fail "dummy at 200/s: top says $rate_top, /api/v1/pipelines $rate_json"
grep -qE "^app +running +0 +0$" "$T/top.txt" || fail "app pipeline line"
grep -qE "^logs +PAUSED +1 +0$" "$T/top.txt" || fail "logs pipeline line"
# The hung output's buffer: its memory fill against max_memory, as /api/v1/pipelines has it.
mem=$(api_field logs outputs hung buffer_memory_bytes)
want=$(python3 -c "print('%.0f%%' % (100 * $mem / 1048576))")
[ "$(row hung | awk '{print $7, $8}')" = "$want -" ] || fail "hung buffer: $(row hung), want $want ($mem bytes)"
grep -qE "^ +tail: files=1 lag_bytes=$lag rotations=0 truncations=0 long_lines_split=0 long_lines_skipped=0$" \
    "$T/top.txt" || fail "tail's own metrics (lag $lag): $(grep tail: "$T/top.txt")"
grep -q "rates over [0-9]*s: $URL/api/v1/pipelines" "$T/top.txt" || fail "header: $(head -1 "$T/top.txt")"
pass "--once: 2 pipelines, 4 rows, dummy $rate_top/s (JSON $rate_json/s), buffer $want, tail lag $lag"

# (b) the interactive view caught up.
wait_for 10 pane_has "^app        gen " || fail "pane: $(pane)"
pane >"$T/pane1.txt"
cat "$T/pane1.txt"
[ "$(awk 'END { print NR }' "$T/pane1.txt")" -le 24 ] || fail "more than 24 lines"
[ "$(awk 'length > 80' "$T/pane1.txt" | wc -l)" = 0 ] || fail "a line wider than 80"
grep -q "^sort: PIPELINE asc" "$T/pane1.txt" || fail "sort line: $(sed -n 2p "$T/pane1.txt")"
grep -qE "^PIPELINE   ID             KIND    IN/s   OUT/s BYTES/s  MEM% DISK%  RETRY  DEAD$" \
    "$T/pane1.txt" || fail "header at 80 columns"
pane_rate=$(awk '$2 == "gen" { print $4 }' "$T/pane1.txt")
python3 -c "assert 150 <= float('$pane_rate') <= 250" || fail "pane rate $pane_rate"
order() { pane | awk '$2 ~ /^(gen|sink|tailer|hung)$/ { printf "%s ", $2 }'; }
order_is() { [ "$(order)" = "$1" ]; }
order_is "gen sink tailer hung " || fail "first order: $(order)"
pass "pane at 80x24: pipelines, ids, gen at $pane_rate/s, config order"

tm send-keys -t top i
wait_for 5 order_is "gen hung sink tailer " || fail "after i: $(order)"
wait_for 5 pane_has "^sort: ID asc" || fail "sort line after i"
tm send-keys -t top R
wait_for 5 order_is "tailer sink hung gen " || fail "after R: $(order)"
tm send-keys -t top s
wait_for 5 order_is "gen tailer sink hung " || fail "after s (KIND): $(order)"
pass "keys: i sorts by id, R reverses, s moves on to KIND"

tm resize-window -t top -x 100 -y 30
wide() { pane | grep -qE "^PIPELINE {13}ID {23}KIND"; }
wait_for 5 wide || fail "after resize to 100: $(pane | sed -n 6p)"
pass "SIGWINCH: at 100 columns the names widen"

tm send-keys -t top q
dead() { [ "$(tm list-panes -t top -F '#{pane_dead}')" = 1 ] && [ -s "$T/top.rc" ]; }
wait_for 5 dead || fail "q: the pane's process did not end"
[ "$(cat "$T/top.rc")" = 0 ] || fail "q: exit $(cat "$T/top.rc")"
pass "q exits 0"
stop_tmux

# stdout not a terminal: a snapshot a second.
"$BIN" top --url "$URL" >"$T/batch.txt" 2>&1 &
BATCH_PID=$!
PIDS+=("$BATCH_PID")
two() { [ "$(grep -c '^sluice top ' "$T/batch.txt")" -ge 2 ]; }
wait_for 5 two || fail "batch: $(cat "$T/batch.txt")"
kill -TERM "$BATCH_PID"
wait "$BATCH_PID" 2>/dev/null
grep -q $'\x1b' "$T/batch.txt" && fail "escape codes in plain output"
pass "not a terminal: plain snapshots every second"

"$BIN" top --once -c "$T/sluice.yaml" >"$T/c.txt" 2>&1 || fail "top -c: $(cat "$T/c.txt")"
grep -qE "^app +gen +in " "$T/c.txt" || fail "top -c: $(cat "$T/c.txt")"
pass "-c FILE: service.http.listen of the configuration"

stop_sluice || fail "sluice exit $?"

#!/usr/bin/env bash
# Starting works or says why and exits: a listener that cannot bind stops
# everything with exit 1 and one line naming the pipeline, the option and
# the cause; a UDP port in use is refused; validate lists what plugins find
# wrong at their place; a busy self-monitoring port names the key and the
# flag. Signals: SIGHUP reloads an unchanged file keeping everything, --once
# exits when the inputs are done,
# a closed stdout is said once. Start-up says what runs and where tail
# resumes.
. "$(dirname "$0")/lib.sh"

# ==== A listener that cannot bind ====
UDP=$(free_port) TCP=$(free_port)
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', $TCP)); s.listen(); time.sleep(30)" &
HOLDER=$!
PIDS+=("$HOLDER")
wait_for 10 python3 -c "
import socket; s = socket.socket()
s.connect(('127.0.0.1', $TCP))" || fail "port holder did not start"
cat >"$T/half.yaml" <<YAML
service: {http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs:
      - type: syslog
        listen: [udp://127.0.0.1:$UDP, tcp://127.0.0.1:$TCP]
    outputs: [{type: null}]
YAML
timeout 20 "$SLUICE_BIN" -c "$T/half.yaml" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "a listener that cannot bind: exit $rc, want 1: $(cat "$T/err")"
grep -q "half.yaml:6:[0-9]*: pipelines.app.inputs\[0\].listen\[1\]: syslog cannot listen on tcp://127.0.0.1:$TCP: address already in use" "$T/err" ||
    fail "the error names no place: $(cat "$T/err")"
python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $UDP))" || fail "the UDP port was not released"
kill "$HOLDER"
pass "a listener that cannot bind stops sluice with exit 1, naming the option and the cause"

cat >"$T/udp.yaml" <<YAML
service: {http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: syslog, listen: udp://127.0.0.1:$UDP}]
    outputs: [{type: null}]
YAML
start_sluice -c "$T/udp.yaml"
wait_for 10 grep -q "listening on udp" "$T/sluice.log" || fail "first sluice did not listen"
timeout 20 "$SLUICE_BIN" -c "$T/udp.yaml" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a second sluice on the same UDP port must exit 1"
grep -q "syslog cannot listen on udp://127.0.0.1:$UDP: address already in use" "$T/err" ||
    fail "UDP port in use: $(cat "$T/err")"
stop_sluice || fail "exit $?"
pass "a UDP port already in use is refused, as TCP is"

# ==== validate lists what plugins find, at its place ====
touch "$T/a-file"
cat >"$T/v.yaml" <<YAML
service: {http: {listen: localhost}, storage: {path: $T/a-file/state}}
pipelines:
  web:
    inputs:
      - {type: tail, path: $T/x.log}
      - {type: syslog, listen: 'tcp://localhost'}
    filters:
      - {type: regex, pattern: '%{nginx_combind}'}
      - type: log_to_metrics
        emit_to: metricz
        metrics:
          - {name: 9bad, type: counter}
          - {name: h, type: histogram, field: x, buckets: [1, 5, 2]}
    outputs:
      - {type: influxdb, url: 'htp://x'}
      - {type: file, path: $T/a-file/out.json}
      - {type: influxdb, url: 'http://127.0.0.1:1'}
  metrics:
    inputs: [{type: dummy}]
    outputs: [{type: graphite, address: '127.0.0.1:2003'}]
YAML
"$SLUICE_BIN" validate -c "$T/v.yaml" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "validate must fail"
expect() { grep -qF -- "$1" "$T/err" || fail "validate does not say: $1
$(cat "$T/err")"; }
expect "v.yaml:1:54: service.storage.path: pipelines.web.inputs[0] (tail) keeps its state in '$T/a-file/state/tail', which cannot be created: Not a directory"
expect "v.yaml:6:32: pipelines.web.inputs[1].listen: no port in 'localhost': write HOST:PORT, e.g. 127.0.0.1:5140"
expect "v.yaml:8:32: pipelines.web.filters[0].pattern: unknown pattern %{nginx_combind} (did you mean %{nginx_combined}?)"
expect "v.yaml:10:18: pipelines.web.filters[1].emit_to: there is no pipeline 'metricz' (did you mean 'metrics'?)"
expect "v.yaml:12:20: pipelines.web.filters[1].metrics[0].name: '9bad' is not a metric name"
expect "v.yaml:13:66: pipelines.web.filters[1].metrics[1].buckets[2]: buckets must ascend: 2 follows 5"
expect "v.yaml:15:31: pipelines.web.outputs[0].url: expected an http:// or https:// URL, found 'htp://x'"
expect "v.yaml:17:9: pipelines.web.outputs[2]: api v1 needs a \`database\`"
expect "v.yaml:16:28: pipelines.web.outputs[1].path: cannot create the directory of '$T/a-file/out.json': Not a directory"
expect "v.yaml:20:22: pipelines.metrics.outputs[0]: graphite takes metric events only, and pipeline 'metrics' carries log events only (from dummy)"
expect "v.yaml:1:26: service.http.listen: no port in 'localhost'"
expect "11 errors in the configuration"
pass "validate lists every error plugins find, each at its file:line:col, with suggestions"

# ==== Two fields of one name ====
# An input adding two fields of one name would give every event a key
# twice (which Elasticsearch, for one, refuses): the options are refused.
cat >"$T/twice.yaml" <<YAML
service: {http: off, storage: {path: $T/state}}
pipelines:
  p:
    inputs:
      - {type: tail, path_key: message, path: $T/x.log}
      - {type: syslog, listen: ['udp://127.0.0.1:1'], source_key: hostname}
      - {type: kafka, brokers: ['127.0.0.1:1'], group_id: g, topics: [t], topic_key: k, offset_key: k}
      - {type: http, listen: '127.0.0.1:1', path_key: via, headers: [x-a, via]}
      - {type: exec, command: 'true', stderr_key: code, exit_code_key: code}
      - {type: tail, path_key: file, offset_key: offset, path: $T/y.log}
    outputs: [{type: null}]
YAML
"$SLUICE_BIN" validate -c "$T/twice.yaml" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "validate must refuse two fields of one name"
expect "twice.yaml:5:32: pipelines.p.inputs[0].path_key: 'message' already names the field of key: an event cannot hold two fields of one name"
expect "twice.yaml:6:67: pipelines.p.inputs[1].source_key: 'hostname' is a field syslog adds itself: name another"
expect "twice.yaml:7:101: pipelines.p.inputs[2].offset_key: 'k' already names the field of topic_key"
expect "twice.yaml:8:75: pipelines.p.inputs[3].headers[1]: 'via' already names the field of path_key"
expect "twice.yaml:9:51: pipelines.p.inputs[4].stderr_key: 'code' already names the field of exit_code_key"
expect "5 errors in the configuration"
pass "two fields of one name are refused at their option"

# ==== The self-monitoring port ====
MPORT=$(free_port)
cat >"$T/m.yaml" <<YAML
service: {http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 10}]
    outputs: [{type: file, path: $T/m.out}]
YAML
start_sluice -c "$T/m.yaml"
FIRST=$SLUICE_PID
wait_for 10 curl -fs -o /dev/null "http://127.0.0.1:$MPORT/health" || fail "no /health"
timeout 20 "$SLUICE_BIN" -c "$T/m.yaml" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a busy monitoring port must exit 1"
grep -q "self-monitoring cannot listen on 127.0.0.1:$MPORT: Address already in use; set service.http.listen.*--http-listen ADDR:PORT or --http-listen off" "$T/err" ||
    fail "busy port message: $(cat "$T/err")"
OTHER=$(free_port)
"$SLUICE_BIN" -c "$T/m.yaml" --http-listen "127.0.0.1:$OTHER" >/dev/null 2>"$T/second.log" &
SECOND=$!
PIDS+=("$SECOND")
wait_for 10 curl -fs -o /dev/null "http://127.0.0.1:$OTHER/health" || fail "--http-listen ADDR: $(cat "$T/second.log")"
kill -TERM "$SECOND"; wait "$SECOND" || fail "--http-listen run exit $?"
timeout 3 "$SLUICE_BIN" -c "$T/m.yaml" --http-listen off >/dev/null 2>"$T/err"
[ $? -eq 124 ] || fail "--http-listen off must run: $(cat "$T/err")"
pass "a busy monitoring port names service.http.listen and --http-listen; the flag moves or disables it"

# ==== SIGHUP with the file unchanged keeps everything ====
SLUICE_PID=$FIRST
kill -HUP "$SLUICE_PID"
wait_for 10 grep -q "SIGHUP: reloaded: 2 kept, 0 reconfigured in place, 0 replaced, 0 added, 0 removed" \
    "$T/sluice.log" || fail "SIGHUP did not reload: $(grep SIGHUP "$T/sluice.log")"
kill -0 "$SLUICE_PID" || fail "SIGHUP killed sluice"
before=$(line_count "$T/m.out")
wait_for 10 lines_at_least "$T/m.out" $((before + 5)) || fail "no events after SIGHUP"
stop_sluice || fail "exit after SIGHUP: $?"
pass "SIGHUP with an unchanged file reloads keeping every instance; sluice exits 0 on SIGTERM"

# ==== --once and service.exit_when_done ====
cat >"$T/once.yaml" <<YAML
service: {http: off, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 0, count: 5000}, {type: exec, command: 'echo hi', oneshot: true}]
    outputs: [{type: file, path: $T/once.out}]
YAML
timeout 30 "$SLUICE_BIN" -c "$T/once.yaml" --once >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] || fail "--once: exit $rc: $(tail -5 "$T/err")"
[ "$(line_count "$T/once.out")" -eq 5001 ] || fail "--once delivered $(line_count "$T/once.out") of 5001"
printf 'service: {http: off, exit_when_done: true, storage: {path: %s/state}}\n' "$T" >"$T/once2.yaml"
tail -n +2 "$T/once.yaml" | sed "s|once.out|once2.out|" >>"$T/once2.yaml"
timeout 30 "$SLUICE_BIN" -c "$T/once2.yaml" >/dev/null 2>"$T/err" || fail "exit_when_done: $(tail -5 "$T/err")"
[ "$(line_count "$T/once2.out")" -eq 5001 ] || fail "exit_when_done delivered $(line_count "$T/once2.out")"
pass "--once and service.exit_when_done exit 0 once every input is done and delivered"

# ==== A closed stdout ====
cat >"$T/pipe.yaml" <<YAML
service: {http: off, flush_interval: 50ms, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: dummy, rate: 200}]
    outputs: [{type: stdout}, {type: file, path: $T/pipe.out}]
YAML
("$SLUICE_BIN" -c "$T/pipe.yaml" 2>"$T/pipe.log"; echo $? >"$T/pipe.rc") | head -1 >/dev/null &
wait_for 10 grep -q "standard output is closed" "$T/pipe.log" || fail "closed stdout not said"
sleep 2
PIPE_PID=$(pgrep -f -- "-c $T/pipe.yaml" | head -1)
[ -n "$PIPE_PID" ] || fail "sluice exited when stdout closed"
before=$(line_count "$T/pipe.out")
wait_for 10 lines_at_least "$T/pipe.out" $((before + 50)) || fail "the file output stopped too"
kill -TERM "$PIPE_PID"
wait_for 20 test -s "$T/pipe.rc" || fail "sluice did not stop"
[ "$(cat "$T/pipe.rc")" = 0 ] || fail "exit $(cat "$T/pipe.rc")"
[ "$(grep -c "standard output is closed: its reader went away" "$T/pipe.log")" -eq 1 ] || fail "said more than once"
[ "$(grep -c "failed permanently" "$T/pipe.log")" -eq 1 ] || fail "permanent failure logged more than once: $(grep -c "failed permanently" "$T/pipe.log")"
grep -q "app.stdout.0: delivered .* events failed (no dead_letter path set: they were logged only)" "$T/pipe.log" ||
    fail "shutdown summary: $(grep delivered "$T/pipe.log")"
pass "a closed stdout is said once, its events fail and are counted, the other output keeps going"

# ==== What start-up says ====
printf 'line %d\n' $(seq 1 10) >"$T/app.log"
cat >"$T/tail.yaml" <<YAML
service: {http: off, storage: {path: $T/tstate}}
pipelines:
  app:
    inputs: [{type: tail, path: $T/app.log, read_from_head: true}]
    outputs: [{type: file, path: $T/tail.out}]
YAML
start_sluice -c "$T/tail.yaml"
wait_for 10 lines_at_least "$T/tail.out" 10 || fail "tail did not read"
stop_sluice
grep -q "sluice [0-9.]* (plugin ABI [0-9.]*), configuration $T/tail.yaml, storage $T/tstate" "$T/sluice.log" || fail "no version/config line"
grep -q "pipeline app: inputs tail (app.tail.0); outputs file (app.file.0)" "$T/sluice.log" || fail "no pipeline line"
grep -q "reading $T/app.log from its start: offset 0 of" "$T/sluice.log" || fail "first start: $(grep reading "$T/sluice.log")"
start_sluice -c "$T/tail.yaml"
wait_for 10 grep -q "following 1 files" "$T/sluice.log" || fail "second start"
stop_sluice
grep -q "reading $T/app.log at the offset an earlier run acknowledged: offset 71 of 71" "$T/sluice.log" ||
    fail "resumed offset not said: $(grep reading "$T/sluice.log")"
pass "start-up logs the version, the config, each pipeline, and where tail resumes each file"

"$SLUICE_BIN" --version | grep -q '^sluice ' || fail "--version"
"$SLUICE_BIN" -V | grep -q '^sluice ' || fail "-V"
"$SLUICE_BIN" plugins | grep -q '^every output also takes:' || fail "plugins: the output options"
"$SLUICE_BIN" plugins | grep -q '^    retry.max_attempts' || fail "plugins: retry"
pass "--version and -V; plain 'sluice plugins' shows the options every output takes"

#!/usr/bin/env bash
# tail multiline: the java, python and go presets on real-looking stack
# traces, and a custom `start` regex, each record exact; the last record is
# emitted after the timeout though no further line arrives.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/logs"
cat >"$T/logs/java.log" <<'LOG'
2026-11-26 08:00:00.123 INFO  [main] c.e.App - starting
2026-11-26 08:00:01.456 ERROR [main] c.e.App - request failed
java.lang.IllegalStateException: connection pool exhausted
	at com.example.db.Pool.borrow(Pool.java:88)
	at com.example.App.handle(App.java:41)
Caused by: java.net.SocketTimeoutException: connect timed out
	at java.base/java.net.Socket.connect(Socket.java:633)
	... 12 more
2026-11-26 08:00:02.000 INFO  [main] c.e.App - recovered
LOG
cat >"$T/logs/python.log" <<'LOG'
INFO:app:handling request 42
ERROR:app:unhandled exception
Traceback (most recent call last):
  File "/srv/app/handlers.py", line 17, in handle
    total = compute(order)
  File "/srv/app/orders.py", line 9, in compute
    return sum(i.price for i in order.items) / order.count
ZeroDivisionError: division by zero
INFO:app:handling request 43
LOG
cat >"$T/logs/go.log" <<'LOG'
2026/11/26 08:00:00 listening on :8080
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
main.lookup(...)
	/src/app/main.go:12
main.main()
	/src/app/main.go:20 +0x1d
exit status 2
2026/11/26 08:00:05 restarted
LOG
cat >"$T/logs/custom.log" <<'LOG'
[2026-11-26 08:00:00] first record
  continued here
  and here
[2026-11-26 08:00:01] second record
LOG

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 50ms, http: off, storage: {path: $T/state}}
pipelines:
  java:
    inputs: [{type: tail, path: ["$T/logs/java.log"], read_from_head: true, multiline: {preset: java, timeout: 300ms}}]
    outputs: [{type: file, path: $T/java.json}]
  python:
    inputs: [{type: tail, path: ["$T/logs/python.log"], read_from_head: true, multiline: {preset: python, timeout: 300ms}}]
    outputs: [{type: file, path: $T/python.json}]
  go:
    inputs: [{type: tail, path: ["$T/logs/go.log"], read_from_head: true, multiline: {preset: go, timeout: 300ms}}]
    outputs: [{type: file, path: $T/go.json}]
  custom:
    inputs: [{type: tail, path: ["$T/logs/custom.log"], read_from_head: true, multiline: {start: '^\[\d{4}-', timeout: 300ms}}]
    outputs: [{type: file, path: $T/custom.json}]
YAML
start_sluice -c "$T/sluice.yaml"
wait_for 20 lines_at_least "$T/java.json" 3 || fail "java: $(cat "$T/java.json" 2>/dev/null)"
wait_for 20 lines_at_least "$T/python.json" 3 || fail "python"
wait_for 20 lines_at_least "$T/go.json" 3 || fail "go"
wait_for 20 lines_at_least "$T/custom.json" 2 || fail "custom"
stop_sluice || fail "exit code $?"

python3 - "$T" <<'PY' || fail "records"
import json, sys
t = sys.argv[1]
def records(name):
    return [json.loads(l)["message"] for l in open(f"{t}/{name}.json")]
def source(name):
    return open(f"{t}/logs/{name}.log").read().rstrip("\n").split("\n")
j = source("java")
assert records("java") == [j[0], "\n".join(j[1:8]), j[8]], records("java")
p = source("python")
assert records("python") == [p[0], "\n".join(p[1:8]), p[8]], records("python")
g = source("go")
assert records("go") == [g[0], "\n".join(g[1:9]), g[9]], records("go")
c = source("custom")
assert records("custom") == ["\n".join(c[0:3]), c[3]], records("custom")
print("java 3, python 3, go 3, custom 2 records, each exact")
PY
pass "multiline presets java, python, go and a custom start regex; the last record emitted by the timeout"

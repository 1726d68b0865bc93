#!/usr/bin/env bash
# Every counter of /metrics against a run whose answers are known: 600
# lines through regex (20 values that do not convert, 40 lines that do not
# match) and grep (60 dropped), into a file and into an HTTP output whose
# server does not exist (every event fails once, for good). The JSON API
# must say the same, and the process metrics must use the standard names
# and make sense (peak RSS >= RSS).
. "$(dirname "$0")/lib.sh"

python3 - "$T/in.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(600):
        k = i % 30
        if k < 24:   f.write(f"GET /a 200 {i}\n")      # 480 match
        elif k < 25: f.write("GET /b 200 x12\n")       # 20 match, size does not convert
        elif k < 28: f.write(f"GET /c 404 {i}\n")      # 60 match, grep drops them
        else:        f.write(f"garbage line {i}\n")    # 40 do not match
PY
MPORT=$(free_port)
cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  app:
    inputs: [{type: tail, path: $T/in.log, read_from_head: true}]
    filters:
      - type: regex
        pattern: '^(?<method>\S+) (?<path>\S+) (?<status>\d+) (?<size>\S+)$'
        types: {status: int, size: int}
        on_no_match: tag
      - {type: grep, exclude: {status: '^404$'}}
    outputs:
      - {type: file, path: $T/out.jsonl}
      - type: http
        url: http://127.0.0.1:$(free_port)/nothing-listens
        retry: {max_attempts: 1}
        dead_letter: {path: $T/dead.jsonl}
YAML
start_sluice -c "$T/sluice.yaml"
done_() { [ "$(line_count "$T/dead.jsonl")" -ge 540 ] && [ "$(line_count "$T/out.jsonl")" -ge 540 ]; }
wait_for 30 done_ || fail "delivered $(line_count "$T/out.jsonl"), dead-lettered $(line_count "$T/dead.jsonl")"
curl -fs "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt" || fail "/metrics"
curl -fs "http://127.0.0.1:$MPORT/api/v1/pipelines" >"$T/api.json" || fail "/api/v1/pipelines"
stop_sluice || fail "exit code $?"

python3 - "$T/metrics.txt" "$T/api.json" <<'PY' || fail "counters (see above)"
import json, sys, time
metrics = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    metrics[name] = float(value)

def m(scope, name, pid, plugin, pipeline="app"):
    key = f'sluice_{scope}_{name}{{pipeline="{pipeline}",plugin="{plugin}",id="{pid}"}}'
    assert key in metrics, f"missing {key}"
    return metrics[key]

want = {
    ("input", "events_total", "app.tail.0", "tail"): 600,
    ("input", "paused", "app.tail.0", "tail"): 0,
    ("filter", "events_in_total", "app.regex.0", "regex"): 600,
    ("filter", "events_out_total", "app.regex.0", "regex"): 600,
    ("filter", "failed_events_total", "app.regex.0", "regex"): 20,
    ("filter", "dropped_total", "app.regex.0", "regex"): 0,
    ("filter", "errors_total", "app.regex.0", "regex"): 0,
    ("filter", "events_in_total", "app.grep.0", "grep"): 600,
    ("filter", "events_out_total", "app.grep.0", "grep"): 540,
    ("filter", "dropped_total", "app.grep.0", "grep"): 60,
    ("filter", "failed_events_total", "app.grep.0", "grep"): 0,
    ("output", "events_total", "app.file.0", "file"): 540,
    ("output", "errors_total", "app.file.0", "file"): 0,
    ("output", "retries_total", "app.file.0", "file"): 0,
    ("output", "dead_lettered_total", "app.file.0", "file"): 0,
    ("output", "pending_chunks", "app.file.0", "file"): 0,
    ("output", "buffer_memory_bytes", "app.file.0", "file"): 0,
    ("output", "events_total", "app.http.0", "http"): 0,
    ("output", "errors_total", "app.http.0", "http"): 540,
    ("output", "dead_lettered_total", "app.http.0", "http"): 540,
    ("output", "retried_events_total", "app.http.0", "http"): 540,
    ("output", "dropped_total", "app.http.0", "http"): 0,
}
bad = []
for (scope, name, pid, plugin), v in want.items():
    got = m(scope, name, pid, plugin)
    if got != v:
        bad.append(f"sluice_{scope}_{name}[{pid}] = {got:g}, want {v}")
if m("input", "bytes_total", "app.tail.0", "tail") < 600 * 10:
    bad.append("input bytes_total too small")
if m("output", "chunks_total", "app.file.0", "file") < 1:
    bad.append("file chunks_total")
if m("output", "retries_total", "app.http.0", "http") < 1:
    bad.append("http retries_total")
p = lambda k: metrics['sluice_pipeline_' + k + '{pipeline="app"}']
if p("unrouted_events_total") != 0 or p("paused") != 0:
    bad.append("pipeline counters")
rss, peak = metrics["process_resident_memory_bytes"], metrics["sluice_resident_memory_peak_bytes"]
if not (0 < rss <= peak):
    bad.append(f"RSS {rss:g} and peak {peak:g}")
if not (0 < metrics["process_cpu_seconds_total"] < 60):
    bad.append("process_cpu_seconds_total")
if abs(metrics["process_start_time_seconds"] - time.time()) > 120:
    bad.append("process_start_time_seconds")
if not (3 <= metrics["process_open_fds"] <= metrics["process_max_fds"]):
    bad.append("process_open_fds / process_max_fds")
if not metrics["process_virtual_memory_bytes"] > rss:
    bad.append("process_virtual_memory_bytes")

api = json.load(open(sys.argv[2]))
app = next(x for x in api["pipelines"] if x["name"] == "app")
if [f["events_out_total"] for f in app["filters"]] != [600, 540]:
    bad.append(f"API filters: {app['filters']}")
if [o["events_total"] for o in app["outputs"]] != [540, 0] or app["outputs"][1]["errors_total"] != 540:
    bad.append(f"API outputs: {app['outputs']}")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
[ "$(line_count "$T/out.jsonl")" -eq 540 ] || fail "file has $(line_count "$T/out.jsonl") lines"
pass "every sluice_* counter matches the known run; process metrics use the standard names"

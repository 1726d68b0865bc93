#!/usr/bin/env bash
# The prometheus_scrape input: sluice scrapes a real Prometheus 2.42's own
# /metrics, its own /metrics, and three loopback servers with fixed
# expositions (the text format, OpenMetrics, and one with a bad line 3).
# The events are checked against the expositions: names, kinds, labels
# (job, instance, labels; exported_job unless honor_labels), values and
# timestamps; histograms as one event with count, sum and buckets; up,
# scrape_duration_seconds and scrape_samples_scraped per target; the bad
# exposition gives up 0 and a log line naming line 3, and nothing of it.
source "$(dirname "$0")/lib.sh"

TEXT=$(free_port)
OM=$(free_port)
BAD=$(free_port)
MPORT=$(free_port)
PPORT=$(free_port)
cat >"$T/text.prom" <<'EOF'
# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200",job="app"} 1027 1395066363000
http_requests_total{method="post",code="400",job="app"} 3 1395066363000
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/",le="0.05"} 24054
http_request_duration_seconds_bucket{handler="/",le="0.1"} 33444
http_request_duration_seconds_bucket{handler="/",le="+Inf"} 144320
http_request_duration_seconds_sum{handler="/"} 53423
http_request_duration_seconds_count{handler="/"} 144320
EOF
cat >"$T/om.prom" <<'EOF'
# TYPE acme_request_seconds histogram
# UNIT acme_request_seconds seconds
acme_request_seconds_bucket{path="/api",le="0.1"} 94 # {trace_id="KOO5S4vxi0o"} 0.067
acme_request_seconds_bucket{path="/api",le="+Inf"} 100
acme_request_seconds_sum{path="/api"} 9.5
acme_request_seconds_count{path="/api"} 100
acme_request_seconds_created{path="/api"} 1605281325.0
# TYPE foo counter
foo_total 17.0 1796100000.5
foo_created 1520430000.123
# EOF
EOF
printf 'ok_metric 1\nok_metric{a="2"} 2\nbroken{a="3" 3\n' >"$T/bad.prom"
python3 - "$T" "$TEXT" "$OM" "$BAD" >"$T/fixtures.log" 2>&1 <<'PY' &
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
t = sys.argv[1]
serve = {int(sys.argv[2]): ("text.prom", "text/plain; version=0.0.4; charset=utf-8"),
         int(sys.argv[3]): ("om.prom", "application/openmetrics-text; version=1.0.0; charset=utf-8"),
         int(sys.argv[4]): ("bad.prom", "text/plain; version=0.0.4")}
def handler(port):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            name, ctype = serve[port]
            body = open(f"{t}/{name}", "rb").read()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return H
servers = [ThreadingHTTPServer(("127.0.0.1", p), handler(p)) for p in serve]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
PY
PIDS+=($!)
wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$BAD/metrics" || fail "the fixture servers did not start"

printf 'global: {}\n' >"$T/prometheus.yml"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)
wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$PPORT/-/ready" || fail "prometheus not ready"

cat >"$T/sluice.yaml" <<YAML
service: {flush_interval: 100ms, http: {listen: 127.0.0.1:$MPORT}, storage: {path: $T/state}}
pipelines:
  scraped:
    inputs:
      - type: prometheus_scrape
        targets: [http://127.0.0.1:$TEXT/metrics, http://127.0.0.1:$OM/metrics,
                  http://127.0.0.1:$BAD/metrics, http://127.0.0.1:$PPORT/metrics,
                  http://127.0.0.1:$MPORT/metrics]
        interval: 1s
        timeout: 900ms
        job: fixtures
        labels: {env: test}
      - {type: prometheus_scrape, id: honoring, targets: [http://127.0.0.1:$TEXT/metrics],
         interval: 1s, timeout: 900ms, job: honoring, honor_labels: true}
    outputs: [{type: file, path: $T/events.jsonl}]
YAML
start_sluice -c "$T/sluice.yaml"
scraped_twice() { [ "$(grep -c '"name":"up"' "$T/events.jsonl" 2>/dev/null || echo 0)" -ge 12 ]; }
wait_for 30 scraped_twice || fail "no scrapes: $(tail -5 "$T/sluice.log")"
curl -fs "http://127.0.0.1:$PPORT/metrics" >"$T/prometheus.prom"
stop_sluice || fail "exit code $?"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null

python3 - "$T/events.jsonl" "$TEXT" "$OM" "$BAD" "$PPORT" "$MPORT" "$T/prometheus.prom" <<'PY' || fail "the events do not match the expositions"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
text, om, bad, prom, own = (f"127.0.0.1:{p}" for p in sys.argv[2:7])
def of(instance, job="fixtures"):
    return [e for e in events if e["tags"].get("instance") == instance and e["tags"].get("job") == job]
def one(evs, name, **tags):
    got = [e for e in evs if e["name"] == name and all(e["tags"].get(k) == v for k, v in tags.items())]
    assert got, f"no {name} {tags}"
    return got[0]

t = of(text)
e = one(t, "http_requests_total", code="200")
assert e["kind"] == "counter" and e["fields"] == {"value": 1027}, e
assert e["tags"] == {"method": "post", "code": "200", "exported_job": "app", "job": "fixtures",
                     "instance": text, "env": "test"}, e["tags"]
assert e["time"].startswith("2014-03-17T14:26:03"), e["time"]  # the exposition's timestamp
e = one(t, "msdos_file_access_time_seconds")
assert e["tags"]["path"] == "C:\\DIR\\FILE.TXT" and e["tags"]["error"] == 'Cannot find file:\n"FILE.TXT"', e
assert e["kind"] == "untyped" and e["fields"]["value"] == 1.458255915e9
e = one(t, "rpc_duration_seconds", quantile="0.5")
assert e["kind"] == "summary" and e["fields"] == {"value": 4773}
assert one(t, "rpc_duration_seconds_count")["fields"] == {"value": 2693}
e = one(t, "http_request_duration_seconds", handler="/")
assert e["kind"] == "histogram" and "le" not in e["tags"], e
assert e["fields"] == {"count": 144320, "sum": 53423, "bucket_0.05": 24054, "bucket_0.1": 33444,
                       "bucket_+Inf": 144320}, e["fields"]
names = {e["name"] for e in t}
assert names == {"http_requests_total", "msdos_file_access_time_seconds", "rpc_duration_seconds",
                 "rpc_duration_seconds_sum", "rpc_duration_seconds_count",
                 "http_request_duration_seconds", "up", "scrape_duration_seconds",
                 "scrape_samples_scraped"}, names
assert one(t, "scrape_samples_scraped")["fields"]["value"] == 11
assert one(t, "up")["fields"]["value"] == 1

# honor_labels: the scraped job wins, the target's job is not added.
h = of(text, job="app")
e = one(h, "http_requests_total", code="400")
assert e["tags"] == {"method": "post", "code": "400", "job": "app", "instance": text}, e["tags"]
assert one(of(text, job="honoring"), "rpc_duration_seconds_sum")["fields"] == {"value": 1.7560473e+07}

o = of(om)
e = one(o, "acme_request_seconds", path="/api")
assert e["fields"] == {"count": 100, "sum": 9.5, "bucket_0.1": 94, "bucket_+Inf": 100}, e
e = one(o, "foo_total")
assert e["kind"] == "counter" and e["fields"] == {"value": 17}
assert e["time"].startswith("2026-12-01T04:40:00.5"), e["time"]  # OpenMetrics: seconds
assert not any(e["name"].endswith("_created") for e in o)

b = of(bad)
assert {e["name"] for e in b} == {"up", "scrape_duration_seconds", "scrape_samples_scraped"}, b
assert all(e["fields"]["value"] == 0 for e in b if e["name"] == "up")

p = of(prom)
assert one(p, "up")["fields"]["value"] == 1
e = one(p, "prometheus_build_info")
assert e["fields"]["value"] == 1 and e["tags"]["version"].startswith("2.42"), e
hists = [e for e in p if e["kind"] == "histogram"]
assert hists, "no histogram from Prometheus"
for e in hists:
    f = e["fields"]
    assert f["bucket_+Inf"] == f["count"], e
# As many samples as the exposition fetched next to it (a few may come and go).
lines = [l for l in open(sys.argv[7]) if l.strip() and not l.startswith("#")]
n = [e for e in p if e["name"] == "scrape_samples_scraped"][-1]["fields"]["value"]
assert abs(n - len(lines)) <= 0.1 * len(lines), (n, len(lines))
print(f"Prometheus: {int(n)} samples in a scrape ({len(lines)} lines in the exposition), "
      f"{len(hists)} histogram events")

s = of(own)
assert one(s, "process_resident_memory_bytes")["kind"] == "gauge"
assert one(s, "sluice_input_events_total", id="scraped.prometheus_scrape.0")["kind"] == "counter"
PY
grep -q "target http://127.0.0.1:$BAD/metrics is down: line 3: ',' or '}' expected after label a" "$T/sluice.log" ||
    fail "the bad line is not named: $(grep down "$T/sluice.log")"
pass "events match the expositions: text format, OpenMetrics, Prometheus 2.42's and sluice's own /metrics; honor_labels; a bad line 3 gives up 0 and is named"

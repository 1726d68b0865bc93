#!/usr/bin/env bash
# The compose stack (docker/compose.yaml) without containers: what it runs,
# natively on loopback ports. sluice runs docker/stack/sluice.yaml with
# every address from the environment; Prometheus runs
# docker/prometheus/prometheus.yml with its targets moved to the test's
# ports and 1 s intervals, and docker/prometheus/rules.yml as it is, plus a
# copy of ApacheErrorRatioHigh with for: 0s and the label copy="for-0s"
# (the real one's for: 2m is too long to wait for); Alertmanager runs
# docker/alertmanager/alertmanager.yml with its webhook moved to sluice's
# port and group_wait 1s; InfluxDB and carbon-cache are Debian's;
# Elasticsearch is tests/es_test_server.py. The demo app
# (docker/stack/demo.py) writes 360 access lines at 60 a second, every 12th
# a 5xx, sends a syslog message per 5xx and exports over OTLP every 60
# requests. Every store must hold exactly what the demo did; the real
# ApacheErrorRatioHigh goes pending, its copy fires, reaches Alertmanager,
# and Alertmanager's webhook brings it back through sluice into
# Elasticsearch.
source "$(dirname "$0")/lib.sh"
S=$SLUICE_SOURCE_DIR

# within SECONDS COMMAND...: poll every 200 ms until COMMAND succeeds, for
# SECONDS of wall time (each check here takes a curl and a python).
within() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

PY=/usr/bin/python3 # Debian's python3-yaml and python3-whisper
for c in prometheus promtool prometheus-alertmanager; do
    command -v "$c" >/dev/null || fail "$c is not installed (.ci/run installs prometheus and prometheus-alertmanager)"
done
$PY -c 'import yaml, whisper' 2>/dev/null || fail "python3-yaml and python3-whisper are needed (Debian packages)"

N=360
ERROR_EVERY=12
OTLP_EVERY=60
ERRORS=$(((N + ERROR_EVERY - 1) / ERROR_EVERY))
EXPORTS=$(((N + OTLP_EVERY - 1) / OTLP_EVERY))

promtool check rules "$S/docker/prometheus/rules.yml" >"$T/promtool.out" 2>&1 &&
    grep -q 'SUCCESS: 2 rules found' "$T/promtool.out" || fail "promtool: $(cat "$T/promtool.out")"

ES=$(free_port)
AM=$(free_port)
PROM=$(free_port)
SELF=$(free_port)
EXPORTER=$(free_port)
OTLP=$(free_port)
SYSLOG=$(free_port)
HOOK=$(free_port)

start_es_server "$ES"
start_influxd
curl -fsS -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode 'q=CREATE DATABASE apache' >/dev/null ||
    fail "CREATE DATABASE apache"
start_carbon

# Alertmanager: the stack's file, its webhook pointed at sluice here.
$PY - "$S/docker/alertmanager/alertmanager.yml" "$T/alertmanager.yml" "$HOOK" <<'PY' || fail "cannot adapt alertmanager.yml"
import sys, yaml
from urllib.parse import urlsplit, urlunsplit
src, dst, hook = sys.argv[1:]
c = yaml.safe_load(open(src))
hooks = [w for r in c["receivers"] for w in r.get("webhook_configs", [])]
assert len(hooks) == 1, hooks
u = urlsplit(hooks[0]["url"])
assert u.netloc == "sluice:9880", u.netloc
hooks[0]["url"] = urlunsplit(u._replace(netloc="127.0.0.1:" + hook))
c["route"]["group_wait"] = "1s"
yaml.safe_dump(c, open(dst, "w"))
PY
prometheus-alertmanager --config.file="$T/alertmanager.yml" --storage.path="$T/am" \
    --web.listen-address="127.0.0.1:$AM" --cluster.listen-address= --log.level=warn >"$T/am.log" 2>&1 &
AM_PID=$!
PIDS+=("$AM_PID")

# Prometheus: the stack's file with the test's addresses and 1 s intervals;
# the real rules, and the copy that fires at once.
$PY - "$S/docker/prometheus/prometheus.yml" "$T/prometheus.yml" "$S/docker/prometheus/rules.yml" \
    "$T/rules-for-0s.yml" "sluice:2020=127.0.0.1:$SELF" "sluice:2021=127.0.0.1:$EXPORTER" \
    "localhost:9090=127.0.0.1:$PROM" "alertmanager:9093=127.0.0.1:$AM" <<'PY' || fail "cannot adapt prometheus.yml"
import sys, yaml
src, dst, rules, copy_path = sys.argv[1:5]
where = dict(a.split("=") for a in sys.argv[5:])
c = yaml.safe_load(open(src))
c["global"]["scrape_interval"] = c["global"]["evaluation_interval"] = "1s"
assert c["rule_files"] == ["rules.yml"], c["rule_files"]
c["rule_files"] = [rules, copy_path]
configs = [sc for am in c["alerting"]["alertmanagers"] for sc in am["static_configs"]]
configs += [sc for job in c["scrape_configs"] for sc in job["static_configs"]]
for sc in configs:
    sc["targets"] = [where[t] for t in sc["targets"]]
assert {j["job_name"] for j in c["scrape_configs"]} == {"sluice", "sluice_exporter", "prometheus"}
yaml.safe_dump(c, open(dst, "w"))
r = yaml.safe_load(open(rules))
rule = [x for g in r["groups"] for x in g["rules"] if x.get("alert") == "ApacheErrorRatioHigh"][0]
copy = dict(rule, **{"for": "0s", "labels": dict(rule.get("labels") or {}, copy="for-0s")})
yaml.safe_dump({"groups": [{"name": "apache-for-0s", "rules": [copy]}]}, open(copy_path, "w"))
PY
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PROM" --web.enable-remote-write-receiver --log.level=warn \
    >"$T/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=("$PROM_PID")
wait_for 30 curl -fs -o /dev/null "http://127.0.0.1:$AM/-/ready" || fail "alertmanager: $(cat "$T/am.log")"
wait_for 30 curl -fs -o /dev/null "http://127.0.0.1:$PROM/-/ready" || fail "prometheus: $(cat "$T/prom.log")"

export ES_URL=http://127.0.0.1:$ES INFLUX_URL=http://127.0.0.1:$INFLUX_PORT CARBON=127.0.0.1:$CARBON_PORT
export SLUICE_HTTP_LISTEN=127.0.0.1:$SELF EXPORTER_LISTEN=127.0.0.1:$EXPORTER OTLP_LISTEN=127.0.0.1:$OTLP
export SYSLOG_LISTEN=127.0.0.1:$SYSLOG ALERT_WEBHOOK_LISTEN=127.0.0.1:$HOOK
export PROM_REMOTE_WRITE_URL=http://127.0.0.1:$PROM/api/v1/write
export APACHE_LOGS=$T/logs SLUICE_STATE=$T/state METRICS_INTERVAL=1s SLUICE_FLUSH_INTERVAL=200ms
mkdir -p "$T/logs"
start_sluice -c "$S/docker/stack/sluice.yaml"
within 15 curl -fs -o /dev/null "http://127.0.0.1:$SELF/health" || fail "sluice is not healthy"
# The image's HEALTHCHECK command, with this file.
"$SLUICE_BIN" healthcheck -c "$S/docker/stack/sluice.yaml" >"$T/healthcheck.out" 2>&1 ||
    fail "sluice healthcheck: $(cat "$T/healthcheck.out")"

DEMO_LOG_DIR=$T/logs DEMO_RATE=60 DEMO_COUNT=$N DEMO_ERROR_EVERY=$ERROR_EVERY \
    DEMO_SYSLOG=127.0.0.1:$SYSLOG DEMO_OTLP_URL=http://127.0.0.1:$OTLP DEMO_OTLP_EVERY=$OTLP_EVERY \
    python3 "$S/docker/stack/demo.py" >"$T/demo.json" 2>"$T/demo.err" || fail "demo: $(cat "$T/demo.err")"
python3 - "$T/demo.json" "$N" "$ERRORS" "$EXPORTS" <<'PY' || fail "demo: $(cat "$T/demo.json" "$T/demo.err")"
import json, sys
d = json.load(open(sys.argv[1]))
n, errors, exports = map(int, sys.argv[2:])
assert d["requests"] == n and d["errors"] == errors and d["syslog_sent"] == errors, d
assert d["otlp_logs"] == exports and d["otlp_metrics"] == exports and d["otlp_failed"] == 0, d
assert sum(d["statuses"].values()) == n and d["statuses"]["500"] + d["statuses"]["503"] == errors, d
PY
[ "$(wc -l <"$T/logs/access.log")" -eq "$N" ] || fail "the demo wrote $(wc -l <"$T/logs/access.log") lines"
STATUSES=$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["statuses"])))' "$T/demo.json")

# Elasticsearch: the access lines, the syslog messages and the OTLP logs.
es_by_prefix() {
    curl -fs "http://127.0.0.1:$ES/_test/docs" | python3 -c '
import collections, json, sys
n = collections.Counter()
for index, docs in json.load(sys.stdin).items():
    n[index.split("-")[0]] += len(docs)
print(" ".join(f"{k}={n[k]}" for k in ("apache", "syslog", "otel")))'
}
es_has() { [ "$(es_by_prefix)" = "$1" ]; }
WANT="apache=$N syslog=$ERRORS otel=$EXPORTS"
within 15 es_has "$WANT" || fail "Elasticsearch has $(es_by_prefix), not $WANT"
curl -fs "http://127.0.0.1:$ES/_test/docs" >"$T/es.json"
python3 - "$T/es.json" "$T/demo.json" "$T/logs/access.log" <<'PY' || fail "the Elasticsearch documents are not right"
import json, sys
docs = json.load(open(sys.argv[1]))
demo = json.load(open(sys.argv[2]))
def of(prefix):
    return [d for i, ds in docs.items() if i.startswith(prefix + "-") for d in ds.values()]
apache = of("apache")
offsets = sorted(d["offset"] for d in apache)
lines = open(sys.argv[3], "rb").read().splitlines(keepends=True)
ends = [sum(map(len, lines[:k + 1])) for k in range(len(lines))]
assert offsets == ends, "offsets are not those of the file's lines"
statuses = {}
for d in apache:
    assert "regex_no_match" not in d, d
    assert d["method"] in ("GET", "POST") and isinstance(d["duration_us"], int), d
    assert isinstance(d["status"], int) and d["file"].endswith("/access.log"), d
    statuses[str(d["status"])] = statuses.get(str(d["status"]), 0) + 1
assert statuses == demo["statuses"], (statuses, demo["statuses"])
syslog = of("syslog")
assert all(d["appname"] == "demo-app" and d["hostname"] == "demo" and d["severity"] in (3, "err")
           for d in syslog), syslog[0]
assert sorted(int(d["message"].split()[1]) for d in syslog) == list(range(0, demo["requests"], 12)), \
    [d["message"] for d in syslog]
otel = of("otel")
n, every = demo["requests"], 60
assert sorted(d["attributes"]["requests"] for d in otel) == list(range(every, n + 1, every)), otel
assert all(d["message"] == "served %d requests, %d errors" % (k, -(-k // 12))
           for d in otel for k in [d["attributes"]["requests"]]), otel
assert all(d["resource"]["service.name"] == "demo" and d["severity_text"] == "INFO" for d in otel), otel[0]
print(f"Elasticsearch: {len(apache)} access lines {statuses}, {len(syslog)} syslog, {len(otel)} OTLP logs")
PY

# InfluxDB: the last value of each http_requests_total series adds up to N.
influx_sum() {
    influx_query apache 'SELECT last("value") FROM "http_requests_total" GROUP BY "status","method"' | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"][0]
s = r.get("series", [])
print(sum(x["values"][0][1] for x in s), " ".join(sorted({x["tags"]["status"] for x in s})))'
}
influx_has() { [ "$(influx_sum 2>/dev/null)" = "$N $STATUSES" ]; }
within 15 influx_has || fail "InfluxDB: $(influx_sum) (want $N $STATUSES)"

# Graphite: a whisper file per status and method, whose last values add up to N.
carbon_sum() {
    $PY - "$CARBON_WHISPER/apache/http_requests_total" <<'PY'
import glob, os, sys, time, whisper
total, statuses = 0, set()
for f in glob.glob(os.path.join(sys.argv[1], "*", "*", "value.wsp")):
    values = [v for v in whisper.fetch(f, time.time() - 600)[1] if v is not None]
    total += values[-1] if values else 0
    statuses.add(f.split(os.sep)[-3])
print(int(total), " ".join(sorted(statuses)))
PY
}
carbon_has() { [ "$(carbon_sum 2>/dev/null)" = "$N $STATUSES" ]; }
within 15 carbon_has || fail "carbon: $(carbon_sum) (want $N $STATUSES)"
pass "the demo's $N lines are in Elasticsearch (with $ERRORS syslog messages and $EXPORTS OTLP logs), InfluxDB and Graphite, exactly"

# Prometheus: the exporter's series, sluice's own metrics, the OTLP metric
# written by remote write.
prom() { # QUERY -> the one result's value, or n=<results>
    curl -fsS -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "n=%d" % len(r))'
}
prom_is() { [ "$(prom "$1" 2>/dev/null)" = "$2" ]; }
expect() { within 15 prom_is "$1" "$2" || fail "Prometheus: $1 is $(prom "$1"), not $2"; }
expect 'sum(http_requests_total{job="sluice_exporter"})' "$N"
expect 'sum(http_requests_total{status=~"5.."})' "$ERRORS"
expect 'count(count by (status) (http_requests_total))' "$(wc -w <<<"$STATUSES")"
expect 'sum(http_request_duration_us_count)' "$N"
expect 'sluice_input_events_total{job="sluice",pipeline="access"}' "$N"
expect 'sluice_input_events_total{job="sluice",pipeline="syslog"}' "$ERRORS"
expect 'sluice_input_events_total{job="sluice",pipeline="otlp"}' "$((2 * EXPORTS))"
expect 'sluice_output_events_total{job="sluice",pipeline="access",plugin="elasticsearch"}' "$N"
expect 'demo_requests_total{job="demo"}' "$N"
expect 'sum(sluice_output_errors_total)' 0
expect 'sum(sluice_pipeline_unrouted_events_total)' 0
expect 'sum(up)' 3
expect 'count(up)' 3
pass "Prometheus scraped http_requests_total ($STATUSES) from the exporter and sluice's own metrics, and has the OTLP metric by remote write"

# The rules: both alerts of rules.yml loaded and evaluated; the error ratio
# (1 in 12) makes ApacheErrorRatioHigh pending; the copy fires.
alerts() {
    curl -fs "http://127.0.0.1:$PROM/api/v1/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    print(a["labels"]["alertname"], a["labels"].get("copy", "-"), a["state"], a["value"])'
}
alert_states() { [ "$(alerts | cut -d' ' -f1-3 | sort | tr '\n' ' ')" = "ApacheErrorRatioHigh - pending ApacheErrorRatioHigh for-0s firing " ]; }
within 15 alert_states || fail "alerts: $(alerts)"
python3 -c 'import sys; v = float(sys.argv[1]); assert 0.05 < v < 0.15, v' "$(alerts | awk '$2 == "-" {print $4}')" ||
    fail "error ratio: $(alerts)"
curl -fs "http://127.0.0.1:$PROM/api/v1/rules" >"$T/rules.json"
python3 - "$T/rules.json" <<'PY' || fail "rules: $(cat "$T/rules.json")"
import json, sys
groups = {g["name"]: g for g in json.load(open(sys.argv[1]))["data"]["groups"]}
assert set(groups) == {"apache", "sluice", "apache-for-0s"}, set(groups)
(a,) = groups["apache"]["rules"]
assert (a["name"], a["duration"], a["health"], a["state"]) == ("ApacheErrorRatioHigh", 120, "ok", "pending"), a
assert a["labels"] == {"severity": "warning"}, a
(s,) = groups["sluice"]["rules"]
assert (s["name"], s["duration"], s["health"], s["state"]) == ("SluiceOutputFailing", 60, "ok", "inactive"), s
assert s["labels"] == {"severity": "critical"}, s
PY
pass "rules.yml: ApacheErrorRatioHigh pending at ratio $(alerts | awk '$2 == "-" {printf "%.3f", $4}'), SluiceOutputFailing evaluated and inactive"

# Alertmanager: Prometheus knows it, has sent it the firing copy, and its
# webhook came back through sluice's http input into Elasticsearch.
curl -fs "http://127.0.0.1:$PROM/api/v1/alertmanagers" | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
assert [a["url"] for a in d["activeAlertmanagers"]] == ["http://127.0.0.1:%s/api/v2/alerts" % sys.argv[1]], d' "$AM" ||
    fail "Prometheus does not list Alertmanager"
am_has() { curl -fs "http://127.0.0.1:$AM/api/v2/alerts?active=true" | grep -q '"alertname":"ApacheErrorRatioHigh"'; }
within 15 am_has || fail "Alertmanager has no ApacheErrorRatioHigh: $(curl -fs "http://127.0.0.1:$AM/api/v2/alerts")"
alert_docs() {
    curl -fs "http://127.0.0.1:$ES/_test/docs" | python3 -c '
import json, sys
docs = [d for i, ds in json.load(sys.stdin).items() if i.startswith("alerts-") for d in ds.values()]
for d in docs:
    print(d["status"], d["receiver"], " ".join(a["labels"]["alertname"] + "/" + a["labels"].get("copy", "-") for a in d["alerts"]))'
}
alert_doc_came() { alert_docs | grep -q .; }
within 15 alert_doc_came || fail "no notification came back to Elasticsearch: $(tail -5 "$T/am.log")"
[ "$(alert_docs | sort -u)" = "firing sluice ApacheErrorRatioHigh/for-0s" ] || fail "notifications: $(alert_docs)"
pass "Prometheus sent the firing alert to Alertmanager, whose webhook brought it through sluice into Elasticsearch"

stop_sluice || fail "sluice exit code $?"
kill -TERM "$PROM_PID" "$AM_PID"
wait "$PROM_PID" "$AM_PID" 2>/dev/null
stop_carbon
stop_influxd
stop_es_server
! grep -E '\[(warn|error)\]' "$T/sluice.log" || fail "sluice logged warnings or errors"
pass "sluice stopped with exit code 0, without a warning or an error in its log"

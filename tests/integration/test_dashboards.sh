#!/usr/bin/env bash
# The Grafana provisioning and dashboards of docker/grafana, checked without
# Grafana (which cannot run here):
#  1. statically (tests/dashboards/check_dashboards.js): each dashboard valid
#     against a JSON Schema generated now, with ts-json-schema-generator, from
#     @grafana/schema's Dashboard type, each panel's options and field config
#     against its plugin's types; schemaVersion as @grafana/schema has it;
#     every panel and query names a provisioned data source by {type, uid};
#     compose.yaml runs that Grafana version and mounts the provisioning;
#     the panel naming alert ApacheErrorRatioHigh draws the rule's expression
#     and threshold. Twenty broken copies must each be refused (mutations.js);
#  2. live (live_check.js): sluice runs the Apache example
#     (conf/apache-to-stores.yaml, its metrics also on a prometheus_exporter)
#     over 30 access lines written in three batches, into InfluxDB 1.x, the
#     Elasticsearch test double and Prometheus 2.42 (which scrapes sluice's
#     /metrics and the exporter, and evaluates docker/prometheus/rules.yml).
#     Every PromQL query, Grafana's variables put in, is accepted and has
#     data; the variables resolve to the values put in; the InfluxQL query has
#     values; the Elasticsearch documents fit the data source; exact label
#     values, a 5xx ratio above the alert threshold, and the alert pending;
#     every sluice_* and process_* family sluice serves is on the health
#     dashboard (process_virtual_memory_bytes aside).
source "$(dirname "$0")/lib.sh"

D=$SLUICE_SOURCE_DIR/tests/dashboards
G=$SLUICE_SOURCE_DIR/docker/grafana
COMPOSE=$SLUICE_SOURCE_DIR/docker/compose.yaml
RULES=$SLUICE_SOURCE_DIR/docker/prometheus/rules.yml
[ -d "$SLUICE_SOURCE_DIR/tests/node/node_modules/ts-json-schema-generator" ] ||
    fail "the packages of tests/node are not installed (npm ci --prefix tests/node)"

# ---- 1. static checks
node "$D/gen_schema.js" "$T/schemas.json" "$T" >"$T/gen.out" 2>&1 || fail "schema generation: $(cat "$T/gen.out")"
cat "$T/gen.out"
node "$D/check_dashboards.js" --schemas "$T/schemas.json" --grafana "$G" --compose "$COMPOSE" \
    --rules "$RULES" >"$T/check.out" 2>&1 || fail "the dashboards do not pass:
$(cat "$T/check.out")"
cat "$T/check.out"
grep -Eq '^2 dashboards, .*; [1-9][0-9]* panels draw an alert of rules.yml$' "$T/check.out" ||
    fail "no panel draws an alert of rules.yml"
mkdir "$T/mutations"
node "$D/mutations.js" "$T/schemas.json" "$G" "$T/mutations" "$COMPOSE" "$RULES" >"$T/mutations.out" 2>&1 ||
    fail "a broken dashboard passes:
$(cat "$T/mutations.out")"
cat "$T/mutations.out"

# ---- 2. live: the stores, sluice, Prometheus
start_influxd
curl -fsS -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode 'q=CREATE DATABASE apache' >/dev/null ||
    fail "CREATE DATABASE apache"
ES_PORT=$(free_port)
start_es_server "$ES_PORT"

HTTP=$(free_port)
EXPORTER=$(free_port)
PPORT=$(free_port)
mkdir "$T/logs"
: >"$T/logs/access.log"
node "$D/apache_config.js" "$SLUICE_SOURCE_DIR/conf/apache-to-stores.yaml" "$T/sluice.yaml" \
    "127.0.0.1:$HTTP" "127.0.0.1:$EXPORTER" 1s || fail "apache_config.js"
APACHE_LOGS=$T/logs SLUICE_STATE=$T/state ES_URL=http://127.0.0.1:$ES_PORT \
    INFLUX_URL=http://127.0.0.1:$INFLUX_PORT start_sluice -c "$T/sluice.yaml"
sluice_serving() {
    kill -0 "$SLUICE_PID" 2>/dev/null || fail "sluice exited"
    curl -fs -o /dev/null "http://127.0.0.1:$EXPORTER/metrics"
}
wait_for 20 sluice_serving || fail "sluice does not serve its exporter"

# The job names of docker/prometheus/prometheus.yml.
cat >"$T/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$RULES']
scrape_configs:
  - {job_name: sluice, static_configs: [{targets: ['127.0.0.1:$HTTP']}]}
  - {job_name: sluice_exporter, static_configs: [{targets: ['127.0.0.1:$EXPORTER']}]}
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$T/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)
wait_for 60 curl -fs -o /dev/null "http://127.0.0.1:$PPORT/-/ready" || fail "prometheus not ready: $(cat "$T/prom.log")"

# promql EXPR: the first value of the answer, or nothing.
promql() {
    curl -fsS -G "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
requests_are() { [ "$(promql 'sum(http_requests_total{job="sluice_exporter"})')" = "$1" ]; }

# Ten lines a batch: seven 200s, a 404, a 500 and a 503, durations in each
# bucket of the histogram. Each batch waits until Prometheus has scraped
# the one before, so that every series increases between samples.
batch() {
    local t
    t=$(LC_ALL=C date -u '+%d/%b/%Y:%H:%M:%S +0000')
    {
        for d in 1200 3400 4999 12000 24000 60000 99000; do
            echo "10.0.0.$1 - - [$t] \"GET /page/$d HTTP/1.1\" 200 512 \"-\" \"it\" $d"
        done
        echo "10.0.0.$1 - - [$t] \"GET /missing HTTP/1.1\" 404 128 \"-\" \"it\" 300000"
        echo "10.0.0.$1 - - [$t] \"POST /api HTTP/1.1\" 500 64 \"-\" \"it\" 2000000"
        echo "10.0.0.$1 - - [$t] \"GET /slow HTTP/1.1\" 503 32 \"-\" \"it\" 4000000"
    } >>"$T/logs/access.log"
}
for k in 1 2 3; do
    batch "$k"
    wait_for 20 requests_are $((k * 10)) ||
        fail "Prometheus has $(promql 'sum(http_requests_total{job="sluice_exporter"})') requests, not $((k * 10))"
done
wait_for 20 es_count_at_least "$ES_PORT" 30 || fail "$(es_count "$ES_PORT") documents in Elasticsearch, not 30"
influx_points() {
    influx_query apache 'SELECT count("value") FROM "http_requests_total"' |
        python3 -c 'import json,sys; s=json.load(sys.stdin)["results"][0].get("series"); print(s[0]["values"][0][1] if s else 0)'
}
influx_has_points() { [ "$(influx_points)" -ge 12 ]; }
wait_for 20 influx_has_points || fail "$(influx_points) points of http_requests_total in InfluxDB"

cat >"$T/live.json" <<JSON
{
  "urls": {"prometheus": "http://127.0.0.1:$PPORT", "influxdb": "http://127.0.0.1:$INFLUX_PORT",
           "elasticsearch": "http://127.0.0.1:$ES_PORT"},
  "builtins": {"__rate_interval": "1m", "__interval": "1s", "__interval_ms": "1000", "__range": "5m",
               "__range_s": "300", "__range_ms": "300000", "timeFilter": "time > now() - 5m"},
  "values": {"sluice-health": {"job": "sluice", "instance": "127.0.0.1:$HTTP", "pipeline": "(access|scraped)"},
             "sluice-apache-metrics": {"job": "sluice_exporter"}},
  "expect": [
    {"dashboard": "sluice-health", "panel": "Input events /s", "refId": "A", "label": "id",
     "values": ["access.tail.0"]},
    {"dashboard": "sluice-health", "panel": "Output events /s", "refId": "A", "label": "id",
     "values": ["access.elasticsearch.0", "scraped.influxdb.0", "scraped.prometheus_exporter.0"]},
    {"dashboard": "sluice-health", "panel": "Filters /s", "refId": "A", "label": "id",
     "values": ["access.log_to_metrics.0", "access.regex.0"]},
    {"dashboard": "sluice-health", "panel": "Tail lag", "refId": "A", "label": "id", "values": ["access.tail.0"]},
    {"dashboard": "sluice-health", "panel": "Version", "refId": "A", "label": "instance", "values": ["127.0.0.1:$HTTP"]},
    {"dashboard": "sluice-apache-metrics", "panel": "Requests /s by status", "refId": "A", "label": "status",
     "values": ["200", "404", "500", "503"], "above": 0},
    {"dashboard": "sluice-apache-metrics", "panel": "Response bytes /s by status", "refId": "A", "label": "status",
     "values": ["200", "404", "500", "503"]},
    {"dashboard": "sluice-apache-metrics", "panel": "Request duration (heatmap)", "refId": "A", "label": "le",
     "values": ["5000.0", "25000.0", "100000.0", "500000.0", "2500000.0", "+Inf"]},
    {"dashboard": "sluice-apache-metrics", "panel": "5xx ratio, alert threshold 0.05", "refId": "A",
     "above": 0.05, "below": 0.5},
    {"dashboard": "sluice-apache-metrics", "panel": "Requests /s by status (InfluxDB)", "refId": "A",
     "label": "status", "values": ["200", "404", "500", "503"], "above": 0},
    {"dashboard": "sluice-apache-metrics", "panel": "5xx responses (Elasticsearch)", "refId": "A", "hits": 6}
  ],
  "coverage": {"dashboard": "sluice-health", "metrics": "http://127.0.0.1:$HTTP/metrics",
               "notShown": ["process_virtual_memory_bytes"]}
}
JSON
node "$D/live_check.js" "$G" "$T/live.json" >"$T/live.out" 2>&1 || fail "the dashboards' queries:
$(cat "$T/live.out")"
cat "$T/live.out"

# The live check has teeth too: a query Prometheus cannot parse, and one of
# a metric sluice does not serve, must each fail it.
cp -r "$G" "$T/live-broken"
node -e '
const fs = require("fs");
const f = process.argv[1];
const d = JSON.parse(fs.readFileSync(f, "utf8"));
const byTitle = (t) => d.panels.find((p) => p.title === t).targets[0];
byTitle("Input events /s").expr += ")";
byTitle("Output events /s").expr = byTitle("Output events /s").expr.replace("sluice_output_events_total", "sluice_output_event_total");
fs.writeFileSync(f, JSON.stringify(d));' "$T/live-broken/dashboards/sluice-health.json"
node "$D/live_check.js" "$T/live-broken" "$T/live.json" >"$T/live-broken.out" 2>&1 &&
    fail "broken queries pass the live check"
grep -q '"Input events /s" A: refused: .*unexpected' "$T/live-broken.out" &&
    grep -q '"Output events /s" A: no data' "$T/live-broken.out" ||
    fail "the broken queries are not named: $(cat "$T/live-broken.out")"

# The ratio the panel draws above its red line is the one the alert sees.
alert_pending() {
    curl -fsS "http://127.0.0.1:$PPORT/api/v1/alerts" | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin)["data"]["alerts"] if x["labels"]["alertname"] == "ApacheErrorRatioHigh"]
sys.exit(0 if a and a[0]["state"] in ("pending", "firing") else 1)'
}
wait_for 20 alert_pending || fail "ApacheErrorRatioHigh is not pending in Prometheus"
stop_sluice || fail "sluice exit code $?"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
stop_influxd
stop_es_server
pass "dashboards valid against @grafana/schema, broken copies refused, every query answered with data by Prometheus, InfluxDB and the Elasticsearch double, ApacheErrorRatioHigh pending"

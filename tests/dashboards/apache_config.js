// Writes the sluice configuration of test_dashboards.sh: the Apache example
// (conf/apache-to-stores.yaml) as it is, its tail, regex and log_to_metrics
// included, with the self-monitoring HTTP server on, metrics emitted every
// INTERVAL, and the pipeline that receives the metrics also serving them
// to Prometheus (prometheus_exporter on EXPORTER) instead of sending them
// to Graphite (no carbon here).
// Usage: node apache_config.js IN OUT HTTP_LISTEN EXPORTER_LISTEN INTERVAL
'use strict';
const fs = require('fs');
const { nodeRequire } = require('./dashlib');

const YAML = nodeRequire('yaml');
const [input, output, http, exporter, interval] = process.argv.slice(2);
const conf = YAML.parse(fs.readFileSync(input, 'utf8'));

conf.service = { ...conf.service, flush_interval: '200ms', http: { listen: http } };
const l2m = Object.values(conf.pipelines).flatMap((p) => p.filters || []).filter((f) => f.type === 'log_to_metrics');
if (l2m.length !== 1 || !conf.pipelines[l2m[0].emit_to]) {
    throw new Error(`${input}: expected one log_to_metrics filter with an emit_to pipeline`);
}
l2m[0].interval = interval;
const metrics = conf.pipelines[l2m[0].emit_to];
metrics.outputs = metrics.outputs.filter((o) => o.type !== 'graphite');
metrics.outputs.push({ type: 'prometheus_exporter', listen: exporter });
fs.writeFileSync(output, YAML.stringify(conf));

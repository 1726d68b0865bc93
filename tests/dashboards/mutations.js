// Proves that check_dashboards.js has teeth: breaks a copy of the Grafana
// directory in one way at a time and expects check() to name the problem.
// Usage: node mutations.js SCHEMAS.json GRAFANADIR WORKDIR COMPOSE RULES
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./dashlib');
const { compile, check } = require('./check_dashboards');

const [schemasFile, grafanaDir, work, compose, rules] = process.argv.slice(2);
const HEALTH = 'sluice-health.json';
const APACHE = 'logs-to-metrics.json';

const byType = (d, type) => lib.panels(d).find((p) => p.type === type);
const byTitle = (d, s) => lib.panels(d).find((p) => p.title.includes(s));

// [what, dashboard file, change, a problem it must cause]
const MUTATIONS = [
    ['a grid width that is no number', HEALTH,
     (d) => { byType(d, 'timeseries').gridPos.w = 'wide'; }, /schema: \/panels\/\d+\/gridPos\/w must be number/],
    ['a panel key Grafana does not have', HEALTH,
     (d) => { byType(d, 'stat').datasourceUid = 'prometheus'; }, /must NOT have additional properties \(datasourceUid\)/],
    ['no schemaVersion', APACHE, (d) => { delete d.schemaVersion; }, /must have required property 'schemaVersion'/],
    ['an older schemaVersion', APACHE, (d) => { d.schemaVersion -= 1; }, /schemaVersion \d+, @grafana\/schema/],
    ['a legend placement timeseries does not have', HEALTH,
     (d) => { byType(d, 'timeseries').options.legend.placement = 'top'; }, /options: schema: \/legend\/placement must be equal to one of/],
    ['a draw style timeseries does not have', HEALTH,
     (d) => { byType(d, 'timeseries').fieldConfig.defaults.custom.drawStyle = 'area'; },
     /fieldConfig\.defaults\.custom: schema: \/drawStyle must be equal to one of/],
    ['heatmap options without their color', APACHE,
     (d) => { delete byType(d, 'heatmap').options.color; }, /options: schema: \/ must have required property 'color'/],
    ['a heatmap query not in format heatmap', APACHE,
     (d) => { delete byType(d, 'heatmap').targets[0].format; }, /a heatmap query without format heatmap/],
    ['a logs query of an aggregation Elasticsearch does not have', APACHE,
     (d) => { byType(d, 'logs').targets[0].metrics[0].type = 'log'; }, /target A: schema: \/metrics\/0/],
    ['a query of a data source not provisioned', APACHE,
     (d) => { byType(d, 'timeseries').targets[0].datasource.uid = 'prom'; }, /datasource uid prom is not provisioned/],
    ['a panel without its datasource', HEALTH,
     (d) => { delete byType(d, 'timeseries').datasource; }, /"[^"]+": no datasource \{type, uid\}/],
    ['a datasource of the wrong type', APACHE,
     (d) => { byType(d, 'logs').datasource.type = 'prometheus'; }, /datasource elasticsearch is of type elasticsearch, not prometheus/],
    ['a variable that is not defined', HEALTH,
     (d) => { const t = byType(d, 'timeseries').targets[0]; t.expr = t.expr.replace('$pipeline', '$pipelines'); },
     /variable \$pipelines is not defined/],
    ['a misspelt Prometheus query key', HEALTH,
     (d) => { const t = byType(d, 'timeseries').targets[0]; t.exp = t.expr; delete t.expr; }, /unknown key exp in a prometheus query/],
    ['two panels in one place', HEALTH,
     (d) => { const [a, b] = lib.panels(d).filter((p) => p.type === 'timeseries'); b.gridPos = { ...a.gridPos }; }, /overlaps panel/],
    ['the alert threshold not where the rule has it', APACHE,
     (d) => { byTitle(d, 'alert threshold').fieldConfig.defaults.thresholds.steps[1].value = 0.5; },
     /\(alert ApacheErrorRatioHigh\): no threshold step at 0\.05/],
    ['the alert threshold not drawn', APACHE,
     (d) => { byTitle(d, 'alert threshold').fieldConfig.defaults.custom.thresholdsStyle.mode = 'off'; }, /the threshold is not drawn/],
    ['a ratio that is not the alert\'s', APACHE,
     (d) => { const t = byTitle(d, 'alert threshold').targets[0]; t.expr = t.expr.replace('[5m]', '[1m]'); },
     /no query is the alert's expression/],
    ['an Elasticsearch data source with another uid', null,
     (d, dir) => edit(dir, 'provisioning/datasources/datasources.yaml', (s) => s.replace('uid: elasticsearch', 'uid: es')),
     /no data source with uid elasticsearch/],
    ['an InfluxDB data source on another database', null,
     (d, dir) => edit(dir, 'provisioning/datasources/datasources.yaml', (s) => s.replace('dbName: apache', 'dbName: logs')),
     /influxdb: jsonData\.dbName is not apache/],
];

function edit(dir, file, change) {
    const f = path.join(dir, file);
    fs.writeFileSync(f, change(fs.readFileSync(f, 'utf8')));
}

const validators = compile(schemasFile);
let failed = 0;
MUTATIONS.forEach(([what, file, change, expected], i) => {
    const dir = path.join(work, `mutation-${i}`);
    fs.cpSync(grafanaDir, dir, { recursive: true });
    if (file) {
        const f = path.join(dir, 'dashboards', file);
        const d = JSON.parse(fs.readFileSync(f, 'utf8'));
        change(d, dir);
        fs.writeFileSync(f, JSON.stringify(d));
    } else {
        change(null, dir);
    }
    const { problems } = check(validators, dir, { compose, rules });
    if (!problems.some((p) => expected.test(p))) {
        failed++;
        console.log(`NOT CAUGHT: ${what}: expected ${expected}, got:\n  ${problems.join('\n  ') || '(no problem)'}`);
    }
});
if (failed) process.exit(1);
console.log(`${MUTATIONS.length} broken copies of the dashboards and provisioning: each one refused, naming the fault`);

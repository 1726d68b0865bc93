// Generates, with ts-json-schema-generator, the JSON Schemas that the
// dashboards are checked against, from the TypeScript types of the installed
// @grafana/schema: the Dashboard type (panels, rows, variables, field
// config), the Options and FieldConfig of each panel plugin the dashboards
// use, and the Elasticsearch query. Writes one JSON file:
//   {grafanaSchema, schemaVersion, dashboard, panels: {type: {options,
//    fieldConfig}}, queries: {elasticsearch}}
// Usage: node gen_schema.js OUT.json WORKDIR
'use strict';
const fs = require('fs');
const path = require('path');
const { nodeRequire } = require('./dashlib');

const PANELS = ['timeseries', 'stat', 'heatmap', 'logs'];

function dtsIn(dir) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.d.ts')) : [];
    if (files.length !== 1) throw new Error(`expected one .d.ts in ${dir}, found ${files.length}`);
    return path.join(dir, files[0]);
}

// The directory of @grafana/schema's declarations that holds index.gen.d.ts
// (dist/esm in 11.x, dist/types in later versions).
function typesRoot(pkgDir) {
    for (const sub of ['dist/esm', 'dist/types']) {
        if (fs.existsSync(path.join(pkgDir, sub, 'index.gen.d.ts'))) return path.join(pkgDir, sub);
    }
    throw new Error(`no index.gen.d.ts under ${pkgDir}/dist`);
}

function main() {
    const [out, work] = process.argv.slice(2);
    const started = Date.now();
    const pkgJson = nodeRequire.resolve('@grafana/schema/package.json');
    const pkgDir = path.dirname(pkgJson);
    const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
    const { defaultDashboard } = nodeRequire('@grafana/schema');
    const root = typesRoot(pkgDir);
    const imp = (f) => f.replace(/\.d\.ts$/, '');

    const lines = [`import type { Dashboard as GrafanaDashboard } from '${path.join(root, 'index.gen')}';`,
                   'export type Dashboard = GrafanaDashboard;'];
    const wanted = { panels: {}, queries: {} };
    for (const p of PANELS) {
        const file = dtsIn(path.join(root, 'raw/composable', p, 'panelcfg/x'));
        const text = fs.readFileSync(file, 'utf8');
        lines.push(`import type * as ${p} from '${imp(file)}';`);
        lines.push(`export type Panel_${p}_options = ${p}.Options;`);
        wanted.panels[p] = { options: `Panel_${p}_options` };
        if (/export interface FieldConfig\b/.test(text)) {
            lines.push(`export type Panel_${p}_fieldConfig = ${p}.FieldConfig;`);
            wanted.panels[p].fieldConfig = `Panel_${p}_fieldConfig`;
        }
    }
    const esDir = path.join(root, 'raw/composable/elasticsearch/dataquery/x');
    if (fs.existsSync(esDir)) {
        lines.push(`import type * as es from '${imp(dtsIn(esDir))}';`);
        lines.push('export type Query_elasticsearch = es.ElasticsearchDataQuery;');
        wanted.queries.elasticsearch = 'Query_elasticsearch';
    }
    const entry = path.join(work, 'grafana_types.ts');
    fs.writeFileSync(entry, lines.join('\n') + '\n');

    const tsj = nodeRequire('ts-json-schema-generator');
    // expose: 'none' inlines every type: @grafana/schema has two types named
    // DataSourceRef (common and dashboard), which would clash as definitions.
    const gen = tsj.createGenerator({ path: entry, skipTypeCheck: true, expose: 'none', jsDoc: 'none' });
    const schema = (type) => gen.createSchema(type);
    const result = {
        grafanaSchema: version,
        schemaVersion: defaultDashboard.schemaVersion,
        dashboard: schema('Dashboard'),
        panels: {},
        queries: {},
    };
    for (const [p, t] of Object.entries(wanted.panels)) {
        result.panels[p] = { options: schema(t.options) };
        if (t.fieldConfig) result.panels[p].fieldConfig = schema(t.fieldConfig);
    }
    for (const [q, t] of Object.entries(wanted.queries)) result.queries[q] = schema(t);
    fs.writeFileSync(out, JSON.stringify(result));
    const n = 1 + Object.values(result.panels).reduce((a, p) => a + Object.keys(p).length, 0) +
        Object.keys(result.queries).length;
    console.log(`@grafana/schema ${version} (schemaVersion ${result.schemaVersion}): ${n} JSON Schemas ` +
                `generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();

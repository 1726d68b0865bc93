// Runs every query of the dashboards against the real stores of
// test_dashboards.sh, Grafana's variables put in as Grafana would:
//  - PromQL: Prometheus's /api/v1/query must answer success, with data;
//  - query variables (label_values): the values put in must be among those
//    Prometheus has for them;
//  - InfluxQL: InfluxDB's /query must answer without error, with values;
//  - Elasticsearch (the Bulk API test double, which has no query DSL): the
//    stored documents must be in an index the data source's index pattern
//    matches and have its time field; the panel's query (field:[a TO b])
//    is counted over them.
// Then the expectations of the configuration (exact label values, ranges of
// values, document counts) are checked against the answers, and the
// metric families a running sluice serves against those a dashboard shows.
// Usage: node live_check.js GRAFANADIR LIVE.json, where LIVE.json is
//   {urls: {<datasource uid>: url}, builtins: {var: value},
//    values: {<dashboard uid>: {var: value}},
//    expect: [{dashboard, panel, refId, label?, values?, above?, below?, hits?}],
//    coverage: {dashboard, metrics: url, notShown: [family]}}
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./dashlib');

const [grafanaDir, liveFile] = process.argv.slice(2);
const live = JSON.parse(fs.readFileSync(liveFile, 'utf8'));
const datasources = Object.fromEntries(
    lib.readYaml(path.join(grafanaDir, 'provisioning/datasources/datasources.yaml')).datasources.map((d) => [d.uid, d]));
const problems = [];
const counts = { promql: 0, variables: 0, influxql: 0, elasticsearch: 0, expectations: 0 };
const answers = new Map(); // "dashboard/panel/refId" -> {type, result}

async function getJson(url) {
    const r = await fetch(url);
    const text = await r.text();
    try {
        return { status: r.status, body: JSON.parse(text) };
    } catch {
        return { status: r.status, body: { error: text.slice(0, 200) } };
    }
}

async function promql(expr) {
    const base = live.urls.prometheus;
    return getJson(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`);
}

// A variable's value as a list: Grafana's regex of a multi-value, (a|b), too.
const alternatives = (v) => v.replace(/^\((.*)\)$/, '$1').split('|');

async function checkVariable(where, v, values) {
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((?:(.*),\s*)?(\w+)\)$/.exec(q.trim());
    if (!m) { problems.push(`${where}: not a label_values() query: ${q}`); return; }
    const match = lib.substitute(m[1] || `{${m[2]}!=""}`, values);
    const start = Math.floor(Date.now() / 1000) - 600;
    const r = await getJson(`${live.urls.prometheus}/api/v1/series?${new URLSearchParams({ 'match[]': match, start })}`);
    counts.variables++;
    if (r.body.status !== 'success') { problems.push(`${where}: ${match}: ${r.body.error}`); return; }
    const found = new Set(r.body.data.map((s) => s[m[2]]).filter((x) => x !== undefined));
    for (const want of alternatives(values[v.name] || '')) {
        if (!found.has(want)) problems.push(`${where}: ${want} is not a value of ${q} (${[...found].join(', ') || 'none'})`);
    }
}

async function checkPrometheus(where, key, expr) {
    const r = await promql(expr);
    counts.promql++;
    if (r.body.status !== 'success') { problems.push(`${where}: refused: ${r.body.error}\n    ${expr}`); return; }
    if (r.body.data.result.length === 0) problems.push(`${where}: no data\n    ${expr}`);
    answers.set(key, { type: 'prometheus', result: r.body.data.result });
}

async function checkInflux(where, key, ds, query) {
    const url = `${live.urls[ds.uid]}/query?${new URLSearchParams({ db: ds.jsonData.dbName, q: query, epoch: 'ms' })}`;
    const r = await getJson(url);
    counts.influxql++;
    const res = (r.body.results || [])[0] || {};
    const error = r.body.error || res.error;
    if (r.status !== 200 || error) { problems.push(`${where}: ${error || r.status}\n    ${query}`); return; }
    const series = res.series || [];
    if (!series.some((s) => s.values.some((row) => row.slice(1).some((x) => x !== null)))) {
        problems.push(`${where}: no values\n    ${query}`);
    }
    answers.set(key, { type: 'influxdb', result: series });
}

const globToRe = (g) => new RegExp(`^${g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

async function checkElasticsearch(where, key, ds, t) {
    const r = await getJson(`${live.urls[ds.uid]}/_search?size=10000`);
    counts.elasticsearch++;
    const docs = (r.body.hits && r.body.hits.hits) || [];
    const index = globToRe(ds.jsonData.index);
    const mine = docs.filter((d) => index.test(d._index));
    if (mine.length === 0) { problems.push(`${where}: no document in an index matching ${ds.jsonData.index}`); return; }
    const timeField = ds.jsonData.timeField;
    const untimed = mine.filter((d) => !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(d._source[timeField] || ''));
    if (untimed.length) problems.push(`${where}: ${untimed.length} documents without an RFC 3339 ${timeField}`);
    const m = /^(\w+):\[(\S+) TO (\S+)\]$/.exec(t.query.trim());
    if (!m) { problems.push(`${where}: a query this check cannot count: ${t.query}`); return; }
    if (!mine.some((d) => m[1] in d._source)) problems.push(`${where}: no document has field ${m[1]}`);
    const hits = mine.filter((d) => d._source[m[1]] >= Number(m[2]) && d._source[m[1]] <= Number(m[3]));
    answers.set(key, { type: 'elasticsearch', result: hits, total: mine.length });
}

function checkExpectation(e) {
    counts.expectations++;
    const where = `expected ${e.dashboard} "${e.panel}" ${e.refId}`;
    const a = answers.get(`${e.dashboard}/${e.panel}/${e.refId}`);
    if (!a) { problems.push(`${where}: no such query answered`); return; }
    if (e.hits !== undefined && a.result.length !== e.hits) {
        problems.push(`${where}: ${a.result.length} documents match, not ${e.hits}`);
    }
    if (e.label) {
        const got = a.type === 'influxdb' ? a.result.map((s) => (s.tags || {})[e.label]) : a.result.map((s) => s.metric[e.label]);
        const g = [...new Set(got)].sort().join(',');
        const w = [...e.values].sort().join(',');
        if (g !== w) problems.push(`${where}: ${e.label} values ${g}, not ${w}`);
    }
    const values = a.type === 'influxdb' ? a.result.flatMap((s) => s.values.map((row) => row[1]).filter((x) => x !== null))
        : a.type === 'prometheus' ? a.result.map((s) => Number(s.value[1])) : [];
    if (e.above !== undefined && !values.some((x) => x > e.above)) problems.push(`${where}: no value above ${e.above} (${values})`);
    if (e.below !== undefined && !values.every((x) => x < e.below)) problems.push(`${where}: a value not below ${e.below} (${values})`);
}

// Every sluice_* and process_* family of the exposition at C.metrics is in
// a query of dashboard C.dashboard, or listed in C.notShown; every one the
// dashboard queries is served.
async function checkCoverage(c, dashboards) {
    const text = await (await fetch(c.metrics)).text();
    const served = new Set([...text.matchAll(/^# TYPE ((?:sluice|process)_\w+) /gm)].map((m) => m[1]));
    const d = dashboards.find((x) => x.json.uid === c.dashboard);
    if (!d) { problems.push(`coverage: no dashboard ${c.dashboard}`); return; }
    const shown = new Set();
    for (const p of lib.panels(d.json)) {
        for (const t of p.targets || []) for (const m of (t.expr || '').matchAll(/\b(?:sluice|process)_\w+/g)) shown.add(m[0]);
    }
    for (const f of served) {
        if (!shown.has(f) && !c.notShown.includes(f)) problems.push(`${d.file}: sluice serves ${f}, no panel shows it`);
    }
    for (const f of shown) if (!served.has(f)) problems.push(`${d.file}: queries ${f}, which sluice does not serve`);
    counts.coverage = `${shown.size} of the ${served.size} families sluice serves`;
}

async function main() {
    const dashboards = lib.loadDashboards(path.join(grafanaDir, 'dashboards'));
    for (const { file, json: d } of dashboards) {
        const values = { ...live.builtins, ...(live.values[d.uid] || {}) };
        for (const v of (d.templating && d.templating.list) || []) {
            if (v.type === 'query') await checkVariable(`${file}: variable ${v.name}`, v, values);
        }
        for (const p of lib.panels(d)) {
            for (const t of p.targets || []) {
                const ds = datasources[t.datasource.uid];
                const where = `${file}: "${p.title}" ${t.refId}`;
                const key = `${d.uid}/${p.title}/${t.refId}`;
                const text = lib.substitute(lib.queryText(t, ds.type) || '', values);
                if (ds.type === 'prometheus') await checkPrometheus(where, key, text);
                else if (ds.type === 'influxdb') await checkInflux(where, key, ds, text);
                else if (ds.type === 'elasticsearch') await checkElasticsearch(where, key, ds, t);
                else problems.push(`${where}: no live check for data source type ${ds.type}`);
            }
        }
    }
    for (const e of live.expect || []) checkExpectation(e);
    if (live.coverage) await checkCoverage(live.coverage, dashboards);
    for (const p of problems) console.log(p);
    if (problems.length) process.exit(1);
    console.log(`${counts.promql} PromQL queries accepted by Prometheus, each with data; ` +
                `${counts.variables} variables resolve to the values put in; ${counts.influxql} InfluxQL queries ` +
                `with values; ${counts.elasticsearch} Elasticsearch queries over the stored documents; ` +
                `${counts.expectations} expectations met` +
                (counts.coverage ? `; the health dashboard shows ${counts.coverage}` : ''));
}

main().catch((e) => { console.log(e.stack); process.exit(1); });

// Static checks of the Grafana provisioning and dashboards of docker/grafana:
// each dashboard against the JSON Schema of @grafana/schema's Dashboard type,
// each panel's options and custom field config against its plugin's types,
// Elasticsearch queries against their type; schemaVersion as the installed
// @grafana/schema has it; every panel and query names a provisioned data
// source by {type, uid}; variables used are defined; ids, uids and grid
// positions are sound. With --compose and --rules, also that the stack
// mounts what the provisioning expects and runs the Grafana whose schema is
// checked, and that panels naming an alert draw its expression and
// threshold.
// Usage: node check_dashboards.js --schemas S.json --grafana DIR
//        [--compose compose.yaml] [--rules rules.yml]
// Prints one line per problem and exits 1 if there is any; check() does the
// same for mutations.js.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./dashlib');

// The data sources the dashboards are written for.
const EXPECTED_DS = {
    prometheus: { type: 'prometheus', url: 'http://prometheus:9090', isDefault: true },
    influxdb: { type: 'influxdb', url: 'http://influxdb:8086', jsonData: { dbName: 'apache', version: 'InfluxQL' } },
    elasticsearch: { type: 'elasticsearch', url: 'http://elasticsearch:9200',
                     jsonData: { index: 'apache-*', timeField: '@timestamp' } },
};
const BUILTIN_VARS = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s',
                              '__range_ms', '__from', '__to', 'timeFilter', '__timeFilter']);
const TARGET_KEYS = {
    prometheus: ['refId', 'datasource', 'expr', 'legendFormat', 'range', 'instant', 'format', 'editorMode',
                 'interval', 'intervalFactor', 'exemplar', 'hide'],
    influxdb: ['refId', 'datasource', 'query', 'rawQuery', 'resultFormat', 'alias', 'hide'],
};

// The schemas of gen_schema.js, compiled.
function compile(schemasFile) {
    const schemas = JSON.parse(fs.readFileSync(schemasFile, 'utf8'));
    const Ajv = lib.nodeRequire('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false });
    return {
        schemas,
        dashboard: ajv.compile(schemas.dashboard),
        panels: Object.fromEntries(Object.entries(schemas.panels).map(([t, s]) =>
            [t, { options: ajv.compile(s.options), fieldConfig: s.fieldConfig && ajv.compile(s.fieldConfig) }])),
        queries: Object.fromEntries(Object.entries(schemas.queries).map(([t, s]) => [t, ajv.compile(s)])),
    };
}

class Checker {
    constructor(validators) {
        this.v = validators;
        this.problems = [];
        this.datasources = {};
        this.provider = { options: {} };
        this.dashboards = [];
        this.counts = { panels: 0, targets: 0, linked: 0 };
    }

    problem(where, what) {
        this.problems.push(`${where}: ${what}`);
    }

    schemaErrors(where, validate, value) {
        if (validate(value)) return;
        for (const e of validate.errors.slice(0, 10)) {
            const extra = e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : '';
            this.problem(where, `schema: ${e.instancePath || '/'} ${e.message}${extra}`);
        }
    }

    provisioning(dir) {
        const where = 'datasources.yaml';
        const y = lib.readYaml(path.join(dir, 'provisioning/datasources/datasources.yaml'));
        if (y.apiVersion !== 1) this.problem(where, 'apiVersion is not 1');
        for (const ds of y.datasources || []) {
            for (const k of ['name', 'type', 'uid', 'url']) if (!ds[k]) this.problem(where, `${ds.name || '?'}: no ${k}`);
            if (this.datasources[ds.uid]) this.problem(where, `uid ${ds.uid} twice`);
            if (ds.access !== 'proxy') this.problem(where, `${ds.uid}: access is not proxy`);
            this.datasources[ds.uid] = ds;
        }
        if ((y.datasources || []).filter((d) => d.isDefault).length !== 1) this.problem(where, 'not exactly one default');
        for (const [uid, want] of Object.entries(EXPECTED_DS)) {
            const ds = this.datasources[uid];
            if (!ds) { this.problem(where, `no data source with uid ${uid}`); continue; }
            for (const k of ['type', 'url', 'isDefault']) {
                if (k in want && ds[k] !== want[k]) this.problem(where, `${uid}: ${k} is ${ds[k]}, not ${want[k]}`);
            }
            for (const [k, v] of Object.entries(want.jsonData || {})) {
                if (!ds.jsonData || ds.jsonData[k] !== v) this.problem(where, `${uid}: jsonData.${k} is not ${v}`);
            }
        }
        const p = lib.readYaml(path.join(dir, 'provisioning/dashboards/dashboards.yaml'));
        const providers = (p.providers || []).filter((x) => x.type === 'file');
        if (p.apiVersion !== 1 || providers.length !== 1) this.problem('dashboards.yaml', 'not apiVersion 1 with one file provider');
        this.provider = providers[0] || this.provider;
        if (this.provider.options.path !== '/var/lib/grafana/dashboards') this.problem('dashboards.yaml', 'path is not /var/lib/grafana/dashboards');
        if (this.provider.folder !== 'sluice') this.problem('dashboards.yaml', 'folder is not sluice');
    }

    // The provisioned data source REF names, or undefined.
    ref(where, ref) {
        if (!ref || typeof ref !== 'object' || typeof ref.type !== 'string' || typeof ref.uid !== 'string') {
            this.problem(where, 'no datasource {type, uid}');
            return undefined;
        }
        const ds = this.datasources[ref.uid];
        if (!ds) this.problem(where, `datasource uid ${ref.uid} is not provisioned`);
        else if (ds.type !== ref.type) this.problem(where, `datasource ${ref.uid} is of type ${ds.type}, not ${ref.type}`);
        return ds;
    }

    dashboard(file, d) {
        const s = this.v.schemas;
        this.schemaErrors(file, this.v.dashboard, d);
        if (d.schemaVersion !== s.schemaVersion) {
            this.problem(file, `schemaVersion ${d.schemaVersion}, @grafana/schema ${s.grafanaSchema} has ${s.schemaVersion}`);
        }
        if (!d.uid || d.uid.length > 40) this.problem(file, 'no uid, or longer than 40');
        if (!d.title) this.problem(file, 'no title');
        for (const o of this.dashboards) {
            if (o.json.uid === d.uid) this.problem(file, `uid ${d.uid} also in ${o.file}`);
            if (o.json.title === d.title) this.problem(file, `title also in ${o.file}`);
        }
        this.dashboards.push({ file, json: d });

        const defined = new Set();
        for (const v of (d.templating && d.templating.list) || []) {
            const where = `${file}: variable ${v.name}`;
            if (defined.has(v.name)) this.problem(where, 'defined twice');
            if (v.type === 'query') {
                this.ref(where, v.datasource);
                const q = typeof v.query === 'string' ? v.query : (v.query && v.query.query) || '';
                if (!q) this.problem(where, 'no query');
                for (const u of lib.variablesIn(q)) if (!defined.has(u)) this.problem(where, `uses $${u}, not defined before it`);
            }
            defined.add(v.name);
        }
        for (const a of (d.annotations && d.annotations.list) || []) {
            if (a.builtIn === 1 && a.datasource && a.datasource.type === 'grafana') continue;
            this.ref(`${file}: annotation ${a.name}`, a.datasource);
        }
        const ids = new Set();
        const placed = [];
        for (const p of lib.panels(d)) {
            const where = `${file}: panel ${p.id} "${p.title}"`;
            if (typeof p.id !== 'number' || ids.has(p.id)) this.problem(where, 'no id, or an id used twice');
            ids.add(p.id);
            const g = p.gridPos;
            if (!g || g.x < 0 || g.w <= 0 || g.h <= 0 || g.x + g.w > 24) this.problem(where, 'gridPos off the 24 columns');
            else {
                for (const o of placed) if (overlaps(g, o.g)) this.problem(where, `overlaps panel ${o.id}`);
                placed.push({ g, id: p.id });
            }
            this.panel(where, p, defined);
        }
    }

    panel(where, p, defined) {
        this.counts.panels++;
        if (!p.title) this.problem(where, 'no title');
        if (p.type === 'row') return;
        const v = this.v.panels[p.type];
        if (!v) { this.problem(where, `panel type ${p.type} has no schema here (add it to gen_schema.js)`); return; }
        this.schemaErrors(`${where} options`, v.options, p.options || {});
        const custom = p.fieldConfig && p.fieldConfig.defaults && p.fieldConfig.defaults.custom;
        if (custom !== undefined) {
            if (v.fieldConfig) this.schemaErrors(`${where} fieldConfig.defaults.custom`, v.fieldConfig, custom);
            else this.problem(where, `fieldConfig.defaults.custom, which ${p.type} has no type for`);
        }
        this.ref(where, p.datasource);
        if (!Array.isArray(p.targets) || p.targets.length === 0) this.problem(where, 'no targets');
        const refIds = new Set();
        for (const t of p.targets || []) {
            if (refIds.has(t.refId)) this.problem(where, `refId ${t.refId} twice`);
            refIds.add(t.refId);
            this.target(`${where} target ${t.refId}`, t, p, defined);
        }
    }

    target(where, t, panel, defined) {
        this.counts.targets++;
        if (!t.refId) this.problem(where, 'no refId');
        const ds = this.ref(where, t.datasource);
        if (t.datasource && panel.datasource && t.datasource.uid !== panel.datasource.uid) {
            this.problem(where, 'datasource differs from the panel\'s');
        }
        if (!ds) return;
        const keys = TARGET_KEYS[ds.type];
        if (keys) for (const k of Object.keys(t)) if (!keys.includes(k)) this.problem(where, `unknown key ${k} in a ${ds.type} query`);
        if (ds.type === 'prometheus') {
            if (typeof t.expr !== 'string' || !t.expr.trim()) this.problem(where, 'no expr');
            if (t.format && !['time_series', 'table', 'heatmap'].includes(t.format)) this.problem(where, `format ${t.format}`);
            if (panel.type === 'heatmap' && t.format !== 'heatmap') this.problem(where, 'a heatmap query without format heatmap');
        } else if (ds.type === 'influxdb') {
            if (t.rawQuery !== true || typeof t.query !== 'string' || !t.query.trim()) this.problem(where, 'not a raw InfluxQL query');
            if (!['time_series', 'table', 'logs'].includes(t.resultFormat)) this.problem(where, `resultFormat ${t.resultFormat}`);
        } else if (ds.type === 'elasticsearch') {
            if (this.v.queries.elasticsearch) this.schemaErrors(where, this.v.queries.elasticsearch, t);
            if (t.timeField !== ds.jsonData.timeField) this.problem(where, `timeField ${t.timeField}, not the data source's`);
            if (panel.type === 'logs' && !(t.metrics || []).some((m) => m.type === 'logs')) this.problem(where, 'a logs panel without a logs query');
        }
        for (const name of lib.variablesIn(lib.queryText(t, ds.type) || '')) {
            if (!BUILTIN_VARS.has(name) && !defined.has(name)) this.problem(where, `variable $${name} is not defined`);
        }
    }

    // docker/compose.yaml: Grafana's image and mounts, the data sources'
    // services and ports.
    stack(file) {
        const services = lib.readYaml(file).services || {};
        const grafana = services.grafana || {};
        const schemaVersion = this.v.schemas.grafanaSchema;
        if (String(grafana.image || '').split(':').pop() !== schemaVersion) {
            this.problem('compose', `Grafana image ${grafana.image}, the dashboards are checked against @grafana/schema ${schemaVersion}`);
        }
        const mounts = (grafana.volumes || []).map((v) => String(v).split(':'));
        const mounted = (src, dst) => mounts.some(([s, d]) => s === src && d === dst);
        if (!mounted('./grafana/provisioning', '/etc/grafana/provisioning')) {
            this.problem('compose', 'grafana does not mount ./grafana/provisioning at /etc/grafana/provisioning');
        }
        if (!mounted('./grafana/dashboards', this.provider.options.path)) {
            this.problem('compose', `grafana does not mount ./grafana/dashboards at ${this.provider.options.path}`);
        }
        for (const ds of Object.values(this.datasources)) {
            const u = new URL(ds.url);
            const svc = services[u.hostname];
            const ports = ((svc && svc.ports) || []).map((p) => String(p).split('/')[0].split(':').pop());
            if (!svc || !ports.includes(u.port)) this.problem('compose', `${ds.uid}: no service ${u.hostname} with port ${u.port}`);
        }
    }

    // Each panel that names an alert of FILE in its title or description
    // queries the alert's expression (a job=~"$job" matcher aside) and has a
    // threshold step, drawn, at the alert's threshold.
    alerts(file) {
        const strip = (e) => e.replace(/job=~"\$job",\s*/g, '').replace(/,\s*job=~"\$job"/g, '')
            .replace(/\{job=~"\$job"\}/g, '').replace(/\s+/g, '');
        for (const g of lib.readYaml(file).groups || []) {
            for (const r of (g.rules || []).filter((x) => x.alert)) {
                const m = /^([\s\S]*?)\s*(>=|>|<=|<)\s*([-+0-9.eE]+)\s*$/.exec(r.expr);
                for (const { file: f, json: d } of this.dashboards) {
                    for (const p of lib.panels(d)) {
                        if (!`${p.title} ${p.description || ''}`.includes(r.alert)) continue;
                        const where = `${f}: panel ${p.id} "${p.title}" (alert ${r.alert})`;
                        this.counts.linked++;
                        if (!m) { this.problem(where, 'the alert\'s expression is not "<expr> <op> <number>"'); continue; }
                        if (!(p.targets || []).some((t) => t.expr && strip(t.expr) === strip(m[1]))) {
                            this.problem(where, 'no query is the alert\'s expression');
                        }
                        const defaults = (p.fieldConfig && p.fieldConfig.defaults) || {};
                        const steps = (defaults.thresholds && defaults.thresholds.steps) || [];
                        if (!steps.some((s) => s.value === Number(m[3]))) this.problem(where, `no threshold step at ${m[3]}`);
                        const style = defaults.custom && defaults.custom.thresholdsStyle;
                        if (p.type === 'timeseries' && (!style || style.mode === 'off')) this.problem(where, 'the threshold is not drawn');
                    }
                }
            }
        }
    }
}

function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// The problems of the provisioning and dashboards under GRAFANADIR (and of
// OPTS.compose and OPTS.rules), and a summary line.
function check(validators, grafanaDir, opts = {}) {
    const c = new Checker(validators);
    c.provisioning(grafanaDir);
    const dashboards = lib.loadDashboards(path.join(grafanaDir, 'dashboards'));
    if (dashboards.length === 0) c.problem('dashboards', 'none');
    for (const { file, json } of dashboards) c.dashboard(file, json);
    if (opts.compose) c.stack(opts.compose);
    if (opts.rules) c.alerts(opts.rules);
    const s = validators.schemas;
    const summary = `${dashboards.length} dashboards, ${c.counts.panels} panels, ${c.counts.targets} queries: ` +
        `valid against @grafana/schema ${s.grafanaSchema} (schemaVersion ${s.schemaVersion}); data sources ` +
        `${Object.keys(c.datasources).sort().join(', ')}` +
        (opts.rules ? `; ${c.counts.linked} panels draw an alert of ${path.basename(opts.rules)}` : '');
    return { problems: c.problems, summary };
}

module.exports = { compile, check };

if (require.main === module) {
    const args = {};
    for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
    const { problems, summary } = check(compile(args.schemas), args.grafana, args);
    for (const line of problems) console.log(line);
    if (problems.length) process.exit(1);
    console.log(summary);
}

// What the dashboard checks share: requiring the packages of tests/node,
// reading the dashboards and the provisioning files, walking panels and
// queries, and putting values in for Grafana's variables.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const nodeRequire = createRequire(path.join(__dirname, '..', 'node', 'package.json'));

function readYaml(file) {
    return nodeRequire('yaml').parse(fs.readFileSync(file, 'utf8'));
}

// [{file, json}] for every *.json of DIR, by name.
function loadDashboards(dir) {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
        .map((f) => ({ file: f, json: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

// Every panel, those inside rows too, with the row they are in.
function panels(dashboard) {
    const out = [];
    for (const p of dashboard.panels || []) {
        out.push(p);
        if (p.type === 'row') for (const q of p.panels || []) out.push(q);
    }
    return out;
}

// The text of a query that Grafana interpolates, by data source type.
function queryText(target, dsType) {
    if (dsType === 'prometheus') return target.expr;
    if (dsType === 'influxdb') return target.query;
    if (dsType === 'elasticsearch') return target.query;
    return undefined;
}

// Names of the variables a text refers to: $name, ${name}, ${name:fmt},
// [[name]].
function variablesIn(text) {
    const names = new Set();
    const re = /\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]/g;
    let m;
    while ((m = re.exec(text))) names.add(m[1] || m[2] || m[3]);
    return names;
}

// TEXT with each variable of VALUES put in (longest names first, so that
// $__interval does not eat $__interval_ms).
function substitute(text, values) {
    let out = text;
    for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
        out = out.split('${' + name + '}').join(values[name]).split('$' + name).join(values[name]);
    }
    return out;
}

module.exports = { nodeRequire, readYaml, loadDashboards, panels, queryText, variablesIn, substitute };

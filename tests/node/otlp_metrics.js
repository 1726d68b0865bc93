// Sends a fixed set of metrics to an OTLP/HTTP receiver through the real
// OpenTelemetry JS metrics SDK, in exactly one export request, and prints
// (one JSON line on stdout) what was recorded, for the test to compare.
//
//   node otlp_metrics.js URL json|proto [gzip] [delta]
//
// URL is the receiver's base (http://127.0.0.1:4318); metrics go to
// URL/v1/metrics. Temporality is cumulative unless `delta` is given (then
// the counter and the histogram are delta; the up-down counter stays
// cumulative, as the exporter's DELTA preference says). Start and end
// times are the wall clock: only values, attributes and buckets are fixed.
// Exit 0 only if the export reported SUCCESS.
'use strict';

const { ValueType } = require('@opentelemetry/api');
const { ExportResultCode } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  MeterProvider, PeriodicExportingMetricReader, AggregationType,
} = require('@opentelemetry/sdk-metrics');

const [url, encoding, ...flags] = process.argv.slice(2);
if (!url || !['json', 'proto'].includes(encoding) ||
    flags.some(f => f !== 'gzip' && f !== 'delta')) {
  console.error('usage: node otlp_metrics.js URL json|proto [gzip] [delta]');
  process.exit(2);
}
const compression = flags.includes('gzip') ? 'gzip' : 'none';
const delta = flags.includes('delta');
const { OTLPMetricExporter, AggregationTemporalityPreference } = require(
  encoding === 'json' ? '@opentelemetry/exporter-metrics-otlp-http'
                      : '@opentelemetry/exporter-metrics-otlp-proto');
// The proto package re-exports only the exporter: take the enum from http.
const Preference = AggregationTemporalityPreference ||
  require('@opentelemetry/exporter-metrics-otlp-http').AggregationTemporalityPreference;

const inner = new OTLPMetricExporter({
  url: url.replace(/\/+$/, '') + '/v1/metrics',
  compression,
  timeoutMillis: 10000,
  temporalityPreference: delta ? Preference.DELTA : Preference.CUMULATIVE,
});
// Learns the export result, which the reader only hands to the global
// error handler; keeps the exporter's temporality and aggregation choices.
const results = [];
const exporter = {
  export(metrics, done) {
    inner.export(metrics, result => {
      results.push(result);
      done(result);
    });
  },
  forceFlush: () => inner.forceFlush(),
  shutdown: () => inner.shutdown(),
  selectAggregationTemporality: type => inner.selectAggregationTemporality(type),
  selectAggregation: type => inner.selectAggregation(type),
};

const BOUNDARIES = [10, 50, 100, 500];
const provider = new MeterProvider({
  resource: resourceFromAttributes({
    'service.name': 'sluice-test',
    'service.version': '1.2.3',
    'host.name': 'test-host',
  }),
  views: [{
    instrumentName: 'test.latency',
    aggregation: {
      type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
      options: { boundaries: BOUNDARIES },
    },
  }],
  // A long interval: the only export is the one shutdown() makes.
  readers: [new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 600000,
    exportTimeoutMillis: 30000,
  })],
});
const meter = provider.getMeter('sluice-test-meter', '0.1.0');

const requests = meter.createCounter('test.requests', {
  description: 'Requests served', unit: '{request}', valueType: ValueType.INT,
});
requests.add(3, { route: '/a', status: 200 });
requests.add(2, { route: '/a', status: 200 });
requests.add(4, { route: '/b', status: 500 });

const depth = meter.createUpDownCounter('test.queue.depth', {
  description: 'Items waiting', unit: '{item}', valueType: ValueType.INT,
});
depth.add(10, { queue: 'q1' });
depth.add(-3, { queue: 'q1' });

const temperature = meter.createObservableGauge('test.temperature', {
  description: 'Sensor reading', unit: 'Cel', valueType: ValueType.DOUBLE,
});
temperature.addCallback(result => {
  result.observe(21.5, { sensor: 's1' });
  result.observe(-3.25, { sensor: 's2' });
});

const LATENCIES = [5, 10, 20, 60, 70, 200, 1000];
const latency = meter.createHistogram('test.latency', {
  description: 'Request latency', unit: 'ms', valueType: ValueType.DOUBLE,
});
for (const v of LATENCIES) latency.record(v, { method: 'GET' });

// Expected buckets: (-inf,10] (10,50] (50,100] (100,500] (500,+inf).
function bucketCounts(values, bounds) {
  const counts = new Array(bounds.length + 1).fill(0);
  for (const v of values) {
    const i = bounds.findIndex(b => v <= b);
    counts[i === -1 ? bounds.length : i]++;
  }
  return counts;
}

const CUMULATIVE = 'cumulative';
const expected = {
  resource: { 'service.name': 'sluice-test', 'service.version': '1.2.3', 'host.name': 'test-host' },
  scope: { name: 'sluice-test-meter', version: '0.1.0' },
  metrics: [
    { name: 'test.requests', type: 'sum', monotonic: true, value_type: 'int', unit: '{request}',
      temporality: delta ? 'delta' : CUMULATIVE,
      points: [{ attributes: { route: '/a', status: 200 }, value: 5 },
               { attributes: { route: '/b', status: 500 }, value: 4 }] },
    { name: 'test.queue.depth', type: 'sum', monotonic: false, value_type: 'int', unit: '{item}',
      temporality: CUMULATIVE,
      points: [{ attributes: { queue: 'q1' }, value: 7 }] },
    { name: 'test.temperature', type: 'gauge', value_type: 'double', unit: 'Cel',
      points: [{ attributes: { sensor: 's1' }, value: 21.5 },
               { attributes: { sensor: 's2' }, value: -3.25 }] },
    { name: 'test.latency', type: 'histogram', value_type: 'double', unit: 'ms',
      temporality: delta ? 'delta' : CUMULATIVE,
      points: [{ attributes: { method: 'GET' }, count: LATENCIES.length,
                 sum: LATENCIES.reduce((a, b) => a + b, 0),
                 min: Math.min(...LATENCIES), max: Math.max(...LATENCIES),
                 explicit_bounds: BOUNDARIES,
                 bucket_counts: bucketCounts(LATENCIES, BOUNDARIES) }] },
  ],
};

async function main() {
  await provider.shutdown();
  const failed = results.filter(r => r.code !== ExportResultCode.SUCCESS);
  for (const r of failed) console.error(`export failed: ${r.error && (r.error.stack || r.error)}`);
  console.log(JSON.stringify({ encoding, compression, requests: results.length,
                               failed: failed.length, ...expected }));
  process.exit(results.length === 1 && failed.length === 0 ? 0 : 1);
}
main().catch(err => {
  console.error(err);
  process.exit(1);
});

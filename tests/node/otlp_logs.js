// Sends COUNT log records to an OTLP/HTTP receiver through the real
// OpenTelemetry JS SDK, so that tests see exactly what an application sends.
//
//   node otlp_logs.js URL json|proto COUNT [gzip] [lean]
//
// URL is the receiver's base (http://127.0.0.1:4318); records go to
// URL/v1/logs. Record N (0-based) is fully determined by N:
//   body             "record N"
//   time             1700000000.123456789 + N seconds (observed: +1 ms)
//   severity         N % 3: 0 INFO (9), 1 WARN (13), 2 ERROR (17)
//   attributes       str "value N", int N, double N + 0.5, bool (N even),
//                    str_array ["a", "b"], int_array [1, 2, N],
//                    map {"key": "value N", "n": N, "inner": {"deep": true}}
//   trace/span ids   on even N only: trace 4bf92f3577b34da6a3ce929d + hex8(N),
//                    span 00f067aa + hex8(N), flags 1 (sampled)
// With `lean`, records are what a typical service logs instead (for the
// benchmark): body "GET /api/items/N 200", the severity, and attributes
// http.method, http.status_code (int) and user.id, with the trace context.
// Resource: service.name=sluice-test, service.version=1.2.3,
// host.name=test-host; scope sluice-test-logger 0.1.0.
// Exit 0 only if every export reported SUCCESS; stdout gets one JSON line.
'use strict';

const { trace, TraceFlags, ROOT_CONTEXT } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { ExportResultCode } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');

const [url, encoding, countArg, ...flags] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
if (!url || !['json', 'proto'].includes(encoding) || !(count >= 0) ||
    flags.some(f => f !== 'gzip' && f !== 'lean')) {
  console.error('usage: node otlp_logs.js URL json|proto COUNT [gzip] [lean]');
  process.exit(2);
}
const compression = flags.includes('gzip') ? 'gzip' : 'none';
const lean = flags.includes('lean');
const { OTLPLogExporter } = require(encoding === 'json'
  ? '@opentelemetry/exporter-logs-otlp-http'
  : '@opentelemetry/exporter-logs-otlp-proto');

// Wraps the exporter to learn each export's result, which the batch
// processor would otherwise only hand to the global error handler.
const results = [];
const inner = new OTLPLogExporter({
  url: url.replace(/\/+$/, '') + '/v1/logs',
  compression,
  timeoutMillis: 10000,
});
const exporter = {
  export(records, done) {
    inner.export(records, result => {
      results.push({ records: records.length, ...result });
      done(result);
    });
  },
  forceFlush: () => inner.forceFlush(),
  shutdown: () => inner.shutdown(),
};

const provider = new LoggerProvider({
  resource: resourceFromAttributes({
    'service.name': 'sluice-test',
    'service.version': '1.2.3',
    'host.name': 'test-host',
  }),
  processors: [new BatchLogRecordProcessor(exporter, {
    maxExportBatchSize: 512,
    maxQueueSize: Math.max(2048, count),
    scheduledDelayMillis: 60000,
  })],
});
const logger = provider.getLogger('sluice-test-logger', '0.1.0');

const SEVERITIES = [
  [SeverityNumber.INFO, 'INFO'],
  [SeverityNumber.WARN, 'WARN'],
  [SeverityNumber.ERROR, 'ERROR'],
];
const hex8 = n => n.toString(16).padStart(8, '0');

for (let n = 0; n < count; n++) {
  const [severityNumber, severityText] = SEVERITIES[n % 3];
  const record = {
    timestamp: [1700000000 + n, 123456789],
    observedTimestamp: [1700000000 + n, 124456789],
    severityNumber,
    severityText,
    body: `record ${n}`,
    attributes: {
      str: `value ${n}`,
      int: n,
      double: n + 0.5,
      bool: n % 2 === 0,
      str_array: ['a', 'b'],
      int_array: [1, 2, n],
      map: { key: `value ${n}`, n, inner: { deep: true } },
    },
  };
  if (lean) {
    record.body = `GET /api/items/${n} 200`;
    record.attributes = { 'http.method': 'GET', 'http.status_code': 200, 'user.id': `u-${n % 1000}` };
  }
  if (n % 2 === 0 || lean) {
    record.context = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d' + hex8(n),
      spanId: '00f067aa' + hex8(n),
      traceFlags: TraceFlags.SAMPLED,
    });
  }
  logger.emit(record);
}

async function main() {
  await provider.forceFlush();
  await provider.shutdown();
  const failed = results.filter(r => r.code !== ExportResultCode.SUCCESS);
  const exported = results.filter(r => r.code === ExportResultCode.SUCCESS)
    .reduce((sum, r) => sum + r.records, 0);
  for (const r of failed) console.error(`export failed: ${r.error && (r.error.stack || r.error)}`);
  console.log(JSON.stringify({ sent: count, exported, requests: results.length,
                               failed: failed.length, encoding, compression }));
  process.exit(failed.length === 0 && exported === count ? 0 : 1);
}
main().catch(err => {
  console.error(err);
  process.exit(1);
});

// Sends a fixed set of StatsD metrics to sluice's statsd input through the
// real hot-shots client, then closes it (flushing what it holds).
//
//   node statsd_hotshots.js HOST PORT udp|tcp [telegraf]
//
// Tags go DogStatsD-style (|#k:v) unless `telegraf` is given (then in the
// name: name,k=v:1|c). Every metric carries the global tags client=hotshots
// and proto=<udp|tcp>. Sampling is made deterministic: Math.random returns
// 0, so a sampled call is always sent, with its |@rate. What the test
// expects, per (name, tags):
//   hs.requests{code=200,route=/a}   counter 4   (5 x +1, then -1)
//   hs.requests{canary=true,route=/b} counter 6  (+3 at rate 0.5)
//                (with telegraf, the valueless tag `canary` is not sent)
//   hs.queue                         gauge 12    (10, +5, -3)
//   hs.latency                       timing 100, 200, 300, 400
//   hs.size                          timing 7    (histogram)
//   hs.dist                          timing 9    (distribution)
//   hs.users                         set of 2    (alice, bob, alice)
'use strict';

const StatsD = require('hot-shots');

const [host, port, protocol, style] = process.argv.slice(2);
if (!host || !port || !['udp', 'tcp'].includes(protocol) || (style && style !== 'telegraf')) {
  console.error('usage: node statsd_hotshots.js HOST PORT udp|tcp [telegraf]');
  process.exit(2);
}

Math.random = () => 0;

let failed = false;
const client = new StatsD({
  host,
  port: Number(port),
  protocol,
  telegraf: style === 'telegraf',
  globalTags: { client: 'hotshots', proto: protocol },
  includeDatadogTelemetry: false,
  originDetection: false,
  errorHandler: (err) => {
    console.error(`hot-shots: ${err.message}`);
    failed = true;
  },
});

for (let i = 0; i < 5; i++)
  client.increment('hs.requests', 1, { route: '/a', code: 200 });
client.decrement('hs.requests', 1, { route: '/a', code: 200 });
const routeB = style === 'telegraf' ? ['route:/b'] : ['route:/b', 'canary'];
client.increment('hs.requests', 3, 0.5, routeB);
client.gauge('hs.queue', 10);
client.gaugeDelta('hs.queue', 5);
client.gaugeDelta('hs.queue', -3);
for (const ms of [100, 200, 300, 400])
  client.timing('hs.latency', ms);
client.histogram('hs.size', 7);
client.distribution('hs.dist', 9);
for (const user of ['alice', 'bob', 'alice'])
  client.set('hs.users', user);

client.close((err) => {
  if (err) {
    console.error(`hot-shots close: ${err.message}`);
    process.exit(1);
  }
  process.exit(failed ? 1 : 0);
});

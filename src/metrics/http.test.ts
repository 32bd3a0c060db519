// The /metrics handler never throws into node:http: a collector that throws,
// synchronously or not, answers 500 and is logged, and the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogger } from '../core/index.ts';
import { serveMetrics } from '../../test/lib/http.ts';
import type { Metrics } from './metrics.ts';

test('a collector that throws answers 500, is logged, and the next scrape is served', async (t) => {
  let calls = 0;
  const metrics = {
    registry: {
      contentType: 'text/plain; version=0.0.4',
      metrics: () => {
        calls++;
        if (calls === 1) throw new Error('collector exploded');
        if (calls === 2) return Promise.reject(new Error('collector rejected'));
        return Promise.resolve('up 1\n');
      },
    },
  } as unknown as Metrics;
  const logger = new MemoryLogger();
  const server = await serveMetrics(metrics, logger);
  t.after(() => server.close());
  const url = `${server.url}/metrics`;
  assert.equal((await fetch(url)).status, 500);
  assert.equal((await fetch(url)).status, 500);
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'up 1\n');
  assert.equal(logger.records.filter((r) => r.event === 'metrics' && r.level === 'error').length, 2);
});

test('a failure while answering a failure (the logger throws) still answers 500 and rejects nothing unhandled', async (t) => {
  const metrics = { registry: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('collector rejected')) } } as unknown as Metrics;
  const logger = new MemoryLogger();
  logger.error = () => { throw new Error('log sink gone'); };
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  const server = await serveMetrics(metrics, logger);
  t.after(() => server.close());
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 500);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(unhandled.map(String), []);
});

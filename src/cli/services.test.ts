import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLogger } from '../core/index.ts';
import { Services, type Service } from './services.ts';

function svc(name: string, log: string[], fail?: 'start' | 'stop'): Service {
  return {
    name,
    start() { if (fail === 'start') throw new Error(`${name} cannot start`); log.push(`start ${name}`); },
    stop() { log.push(`stop ${name}`); if (fail === 'stop') throw new Error(`${name} cannot stop`); },
  };
}

test('services start in order and stop in reverse order', async () => {
  const log: string[] = [];
  const s = new Services(new MemoryLogger());
  await s.start([svc('store', log), svc('spool', log), svc('smtp', log)]);
  assert.deepEqual(s.names(), ['store', 'spool', 'smtp']);
  await s.stop();
  assert.deepEqual(log, ['start store', 'start spool', 'start smtp', 'stop smtp', 'stop spool', 'stop store']);
});

test('a start that fails stops what already runs and rethrows', async () => {
  const log: string[] = [];
  const s = new Services(new MemoryLogger());
  await assert.rejects(s.start([svc('store', log), svc('spool', log), svc('smtp', log, 'start'), svc('relay', log)]), /smtp cannot start/);
  assert.deepEqual(log, ['start store', 'start spool', 'stop spool', 'stop store']);
});

test('a service that fails to stop is logged and the others still stop', async () => {
  const log: string[] = [];
  const logger = new MemoryLogger();
  const s = new Services(logger);
  await s.start([svc('store', log), svc('http', log, 'stop'), svc('smtp', log)]);
  await s.stop();
  assert.deepEqual(log, ['start store', 'start http', 'start smtp', 'stop smtp', 'stop http', 'stop store']);
  assert.ok(logger.records.some((e) => JSON.stringify(e).includes('http cannot stop')));
});

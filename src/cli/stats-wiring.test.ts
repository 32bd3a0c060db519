// The node's stats service with a real spool and store: the queue's size
// sampled into the gauge series, the bus's events counted, and what is held
// written at stop (after the listeners closed) so nothing counted is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { silentLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { openStore } from '../store/index.ts';
import { holdMessages, Spool } from '../spool/index.ts';
import { hourOf, StatsStore } from '../stats/index.ts';
import type { Config } from '../config/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { statsService } from './stats-wiring.ts';

test('stats service: queue sampled per state, events counted, edge baseline from the policy store, written at stop', async (t) => {
  const tmp = tempDir('pw-statsw-');
  t.after(() => tmp.remove());
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(() => store.close());
  const spool = await Spool.open(join(tmp.path, 'spool'));
  t.after(() => spool.close());
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const w = spool.create({ mailFrom: { address: 'a@isp.example' }, recipients: [{ address: 'b@example.net' }], canonical: true });
    w.stream.end('Subject: x\r\n\r\nbody\r\n');
    await w.commit();
    ids.push(w.id);
  }
  await holdMessages(spool, { ids: [ids[0]] }, 'test');
  const bus = new InProcessBus();
  const cfg = { stats: { retentionDays: 400, flushMs: 60_000, queueSampleMs: 60_000 } } as unknown as Config;
  const svc = statsService(() => ({ cfg, logger: silentLogger, bus, store, spool,
    policy: { blocked: async () => [{ edge: 'edge-a', source: '198.51.100.7', packets: 40, destinations: 3, reportedAt: 0 }] } }), () => {});
  await svc.start();
  bus.publish('case.opened', { case: 'c1', subscriber: 'cust-1' });
  bus.publish('edge.blocked', { edge: 'edge-a', source: '198.51.100.7', packets: 45, destinations: 3 });
  const reader = await StatsStore.open(store);
  const now = Date.now();
  const read = async () => Object.fromEntries((await reader.points({ series: ['queue', 'cases', 'edge-blocked'], since: hourOf(now), until: now + 1, step: 'hour' }))
    .series.map((s) => [s.series, Object.fromEntries(s.labels.map((l) => [l.label, l.total]))]));
  assert.deepEqual(await read(), { queue: {}, cases: {}, 'edge-blocked': {} }, 'nothing written before a flush');
  await svc.stop();
  assert.deepEqual(await read(), { queue: { active: 2, deferred: 0, hold: 1 }, cases: { opened: 1 }, 'edge-blocked': { 'edge-a': 5 } },
    'the edge counted from its stored total (45 − 40), not its whole history');
  bus.publish('case.opened', { case: 'c2', subscriber: 'cust-1' });
  assert.equal((await read()).cases.opened, 1, 'unsubscribed at stop');
});

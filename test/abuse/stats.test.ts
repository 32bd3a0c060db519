// The cases series fed by the real abuse engine (test/lib/abuse-engine.ts: a
// real store, the manual clock): a bot's blocked port-25 attempts open a case,
// closeAfterDays without a signal close it; the statistics count both, on the
// day each happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, runBot, T0 } from '../lib/abuse-engine.ts';
import { StatsRecorder, StatsStore, subscribeStats } from '../../src/stats/index.ts';

const DAY = 86_400_000;

test('cases opened and closed by the engine are counted on the day they happened', async (t) => {
  const r = await rig({ closeAfterDays: 3 });
  t.after(() => r.close());
  const rec = new StatsRecorder(await StatsStore.open(r.store), { clock: r.clock });
  subscribeStats(r.bus, rec);
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  r.clock.advance(4 * DAY);
  await r.engine.flush();
  assert.equal(r.of('case.closed').length, 1);
  const day0 = Math.floor(T0 / DAY) * DAY;
  const p = await rec.points({ series: ['cases'], since: day0, until: day0 + 5 * DAY, step: 'day' });
  assert.deepEqual(p.series[0].labels, [
    { label: 'closed', values: [0, 0, 0, 0, 1], total: 1 },
    { label: 'opened', values: [1, 0, 0, 0, 0], total: 1 },
  ]);
});

// stats.series through invoke(), as every front end runs it: the points of the
// recorder (what it holds is written before it reads), the period checked, the
// series named by the schema, and `unavailable` where there are no statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { StatsRecorder, StatsStore, type Points } from '../stats/index.ts';
import { AppError, AUDIT_MIGRATIONS, AuditLog, checkInput, invoke, loadOperation, type Actor, type AppDeps } from './index.ts';

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const desk: Actor = { kind: 'staff', name: 'dora', role: 'desk', from: '192.0.2.1' };

test('stats.series: points per label by hour and by day, zeros filled; bad periods and series refused; unavailable without statistics', async (t) => {
  const store = await openStore(':memory:');
  t.after(() => store.close());
  await store.migrate(AUDIT_MIGRATIONS);
  const clock = new ManualClock(T0 + 30 * 60_000);
  const rec = new StatsRecorder(await StatsStore.open(store), { clock });
  rec.count('refusals', 'authRequired', 2);
  clock.advance(3_600_000);
  rec.count('refusals', 'limited');
  rec.count('messages', 'accepted', 4);
  const deps: AppDeps = { clock, logger: new MemoryLogger(), stats: rec };
  const op = await loadOperation('stats.series');
  const call = async (input: Record<string, unknown>, d: AppDeps = deps): Promise<Points> => { checkInput(op, input); return await invoke(op, input as never, { actor: desk }, d, new AuditLog(store.db), () => clock.now()) as Points; };

  const r = await call({ series: ['refusals'], since: T0 });
  assert.deepEqual(r, { step: 'hour', times: [T0, T0 + 3_600_000], series: [{ series: 'refusals', kind: 'counter', labels: [
    { label: 'authRequired', values: [2, 0], total: 2 }, { label: 'limited', values: [0, 1], total: 1 }] }] }, 'until defaults to now, rounded up to its hour');
  const day = await call({ since: T0 - 9 * 3_600_000, until: T0 + 15 * 3_600_000, step: 'day' });
  assert.equal(day.times.length, 1);
  assert.equal(day.series.length, 9, 'every series when none is named');
  assert.deepEqual(day.series.find((s) => s.series === 'messages')?.labels, [{ label: 'accepted', values: [4], total: 4 }]);

  const code = async (p: Promise<unknown>) => { try { await p; return 'ok'; } catch (e) { return e instanceof AppError ? `${e.code}: ${e.message}` : String(e); } };
  assert.equal(await code(call({ since: T0, until: T0 })), 'bad-request: until must be after since');
  assert.equal(await code(call({ since: T0, until: T0 + 40 * 86_400_000 })), 'bad-request: at most 744 hours at a time');
  assert.match(await code(call({ series: ['nope'], since: T0 })), /^bad-request: stats\.series: series\.0 must be/);
  assert.match(await code(call({ since: T0 }, { clock, logger: deps.logger })), /^unavailable: the hourly statistics is not available here/);
});

// The abuse engine's lifecycle on a real SQLite store with a manual clock, the
// fake directory, a recording enforcer and notices (test/lib/abuse-engine.ts):
// release and undo, expiry and closing, restarts, leases, edges, the desk, and
// failures that must stay contained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, runBot, signal, T0 } from '../../test/lib/abuse-engine.ts';
import { DEFAULT_RULES } from './index.ts';
import { RecordingEnforcer } from '../../test/lib/abuse-fakes.ts';

const HOUR = 3_600_000, DAY = 86_400_000;

test('desk release undoes exactly what was done: a prefix quarantined before stays, accounts and exemptions come back', async (t) => {
  const rules = [
    DEFAULT_RULES[0],
    { ...DEFAULT_RULES[1] },
    { name: 'revoke', classes: ['report' as const], threshold: 200, window: 600, action: 'revoke-exemption' as const, duration: null, escalation: 1, maxDuration: null, grace: 0, selfReleases: 0, immuneTiers: [], renotify: null },
  ];
  const r = await rig({ rules });
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  r.dir.assign('cust-1', '2001:db8:7::/56', T0 - DAY);
  r.enforcer.quarantined.add('2001:db8:7::/56'); // by someone else before: not ours to lift
  r.enforcer.accounts.set('cust-1', ['a@isp.example', 'b@isp.example']);
  r.enforcer.suspended.add('b@isp.example');
  const ex = { prefix: '198.51.100.7', customer: 'cust-1', expiresAt: null };
  r.enforcer.exemptions.set(ex.prefix, ex);
  await runBot(r, '198.51.100.7', 30);
  for (let i = 0; i < 2; i++) r.engine.ingest(signal({ class: 'flood', at: r.clock.now(), subscriber: 'cust-1', origin: 'submission' }));
  for (let i = 0; i < 2; i++) r.engine.ingest(signal({ class: 'report', at: r.clock.now(), address: '198.51.100.7', origin: `mailbox:r${i}` }));
  await r.engine.flush();
  const [c] = await r.engine.cases.list();
  assert.deepEqual(c.active.map((a) => a.action).sort(), ['quarantine', 'revoke-exemption', 'suspend']);
  assert.deepEqual([...r.enforcer.suspended].sort(), ['a@isp.example', 'b@isp.example']);
  assert.equal(r.enforcer.exemptions.size, 0);
  const s = await r.engine.cases.release(c.id, 'desk:ann', 'ticket 42', 'desk');
  assert.deepEqual(s.active, []);
  assert.deepEqual([...r.enforcer.quarantined], ['2001:db8:7::/56']);
  assert.deepEqual([...r.enforcer.suspended], ['b@isp.example']);
  assert.deepEqual([...r.enforcer.exemptions.values()], [ex]);
  assert.deepEqual(r.enforcer.calls.find((x) => x.op === 'unquarantine')?.args[0], ['198.51.100.7']);
  const d = await r.engine.cases.show(c.id);
  assert.ok(d?.timeline.some((x) => x.kind === 'release' && x.actor === 'desk:ann' && /ticket 42/.test(x.text)));
  assert.equal(s.deskReleases, 1);
  assert.deepEqual(r.of('case.released').map((e) => [e.kind, e.actor]), [['desk', 'desk:ann']]);
  assert.ok(r.notices.sent.some((n) => n.kind === 'released'));
  await assert.rejects(r.engine.cases.release(c.id, 'desk:ann', 'again', 'desk'), (e: { code?: string }) => e.code === 'conflict');
});

test('a case with nothing in force and no signal for closeAfterDays closes; the next signal opens a new case and recurrences carry over', async (t) => {
  const r = await rig({ closeAfterDays: 3 });
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  const [first] = await r.engine.cases.list();
  r.clock.advance(2 * DAY); // the quarantine (1 day) expired; the case stays open 3 days after
  await r.engine.flush();
  assert.equal(r.of('case.closed').length, 0);
  r.clock.advance(2 * DAY);
  await r.engine.flush();
  assert.deepEqual(r.of('case.closed'), [{ case: first.id, subscriber: 'cust-1' }]);
  assert.equal(await r.engine.cases.openOf('cust-1'), null);
  const ms = await runBot(r, '198.51.100.7', 30);
  assert.ok(ms !== null);
  const open = await r.engine.cases.openOf('cust-1');
  assert.ok(open && open.id !== first.id);
  assert.deepEqual(open.recurrences, { bot: 2, notify: 2 });
  const q = r.of('case.decision').filter((d) => d.action === 'quarantine').at(-1)!;
  assert.equal(q.until! - (r.clock.now() - 1000 * (30 - ms / 1000)), 2 * DAY, 'escalated across cases');
  const d = await r.engine.cases.show(open.id);
  assert.equal(d?.timeline[0].kind, 'reopened');
  assert.equal((await r.engine.cases.show(first.id))?.state, 'closed');
});

test('the quarantine follows the subscriber to a new lease and leaves the address it gave back; the release lifts the rest', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  await r.restart(); // who is in the garden is read back at start
  r.dir.end('cust-1', '198.51.100.7', r.clock.now());
  r.dir.assign('cust-1', '198.51.100.77', r.clock.now());
  r.bus.publish('directory.assigned', { subscriber: 'cust-1', prefix: '198.51.100.77', portLo: null, portHi: null, source: 'radius', start: r.clock.now() });
  r.bus.publish('directory.assigned', { subscriber: 'cust-2', prefix: '198.51.100.78', portLo: null, portHi: null, source: 'radius', start: r.clock.now() });
  await r.engine.flush();
  assert.deepEqual([...r.enforcer.quarantined].sort(), ['198.51.100.7', '198.51.100.77']);
  // the old address goes back to the pool: it leaves the garden (its next holder is someone else)
  r.bus.publish('directory.ended', { subscriber: 'cust-1', prefix: '198.51.100.7', source: 'radius', end: r.clock.now() });
  await r.engine.flush();
  assert.deepEqual([...r.enforcer.quarantined], ['198.51.100.77']);
  const [c] = await r.engine.cases.list();
  await r.engine.cases.release(c.id, 'desk:ann', '', 'desk');
  assert.equal(r.enforcer.quarantined.size, 0);
  assert.deepEqual(r.enforcer.calls.filter((x) => x.op === 'unquarantine').map((x) => x.args[0]), [['198.51.100.7'], ['198.51.100.77']], 'each lifted once');
});

test('edge.applied at a revision containing the decision: case.enforced per edge with the latency, the first edge on the timeline', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const before = r.enforcer.revision;
  await runBot(r, '198.51.100.7', 30);
  const rev = r.enforcer.revision;
  assert.ok(rev > before);
  const decided = r.of('case.decision').find((d) => d.action === 'quarantine')!;
  r.bus.publish('edge.applied', { edge: 'bng1', version: 'v1', revision: before });
  await r.engine.flush();
  assert.equal(r.of('case.enforced').length, 0, 'an older revision does not contain it');
  r.clock.advance(400);
  r.bus.publish('edge.applied', { edge: 'bng1', version: 'v2', revision: rev });
  r.bus.publish('edge.applied', { edge: 'bng1', version: 'v3', revision: rev + 1 });
  r.bus.publish('edge.applied', { edge: 'bng2', version: 'v2', revision: rev });
  await r.engine.flush();
  const enforced = r.of('case.enforced');
  assert.deepEqual(enforced.map((e) => [e.decision, e.edge]), [[decided.decision, 'bng1'], [decided.decision, 'bng2']]);
  assert.equal(enforced[0].ms, 3000 + 400, 'the decision came at 27 s of the 30 s run');
  const d = await r.engine.cases.show(decided.case);
  assert.equal(d?.timeline.filter((x) => x.kind === 'enforced' && x.data.edge).length, 1);
  await r.restart();
  r.bus.publish('edge.applied', { edge: 'bng1', version: 'v4', revision: rev + 2 });
  r.bus.publish('edge.applied', { edge: 'bng3', version: 'v4', revision: rev + 2 });
  await r.engine.flush();
  assert.deepEqual(r.of('case.enforced').slice(2).map((e) => e.edge), ['bng3'], 'after a restart the edges already seen stay seen');
});

test('desk quarantine opens a case when none is open; notes name their actor', async (t) => {
  const r = await rig({ notices: false });
  t.after(() => r.close());
  r.dir.addSubscriber('cust-9');
  r.dir.assign('cust-9', '198.51.100.99', T0 - DAY);
  await assert.rejects(r.engine.cases.quarantine('nobody', 'desk:ann', 'x'), (e: { code?: string }) => e.code === 'not-found');
  const s = await r.engine.cases.quarantine('Cust-9', 'desk:ann', 'phoned in', 3600);
  assert.deepEqual(s.active.map((a) => [a.action, a.rule, a.until]), [['quarantine', 'desk', T0 + HOUR]]);
  assert.deepEqual([...r.enforcer.quarantined], ['198.51.100.99']);
  await assert.rejects(r.engine.cases.quarantine('cust-9', 'desk:ann', 'again'), (e: { code?: string }) => e.code === 'conflict');
  for (let i = 0; i < 3; i++) r.engine.ingest(signal({ class: 'edge-blocked', at: r.clock.now(), address: '198.51.100.99', amount: 10 }));
  await r.engine.flush();
  assert.deepEqual(r.of('case.decision').map((e) => e.action), ['quarantine'], 'no notify on top of a restriction in force (its notice said it)');
  await r.engine.cases.note(s.id, 'called the customer', 'desk:bob');
  const d = await r.engine.cases.show(s.id);
  assert.deepEqual(d?.timeline.map((x) => [x.kind, x.actor]), [['opened', 'desk:ann'], ['decision', 'desk:ann'], ['enforced', 'engine'], ['notice', 'engine'], ['note', 'desk:bob']]);
  assert.match(d!.timeline[3].text, /no quarantine notice was sent: no notice sender/);
  assert.equal((await r.engine.cases.selfReleaseCheck(s.id)).allowed, false, 'a desk quarantine is the desk\'s to lift');
  r.clock.advance(HOUR);
  await r.engine.flush();
  assert.equal(r.enforcer.quarantined.size, 0);
});

test('restart: the case, its window, its active quarantine and its undo data continue on the same store', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  assert.equal(await runBot(r, '198.51.100.7', 15), null); // 165 points: not yet
  const [c] = await r.engine.cases.list();
  await r.restart();
  const ms = await runBot(r, '198.51.100.7', 15);
  assert.ok(ms !== null, 'the window rebuilt from the evidence still holds the first 15 s');
  assert.deepEqual((await r.engine.cases.list()).map((x) => x.id), [c.id]);
  assert.equal(r.of('case.opened').length, 1);
  await r.restart();
  const again = await r.engine.cases.openOf('cust-1');
  assert.deepEqual(again?.active.map((a) => a.action).sort(), ['notify', 'quarantine']);
  const d = await r.engine.cases.show(c.id);
  assert.equal(d?.evidence.filter((e) => e.class === 'edge-blocked').reduce((s, e) => s + e.amount, 0), 150);
  await r.engine.cases.release(c.id, 'desk:ann', '', 'desk');
  assert.equal(r.enforcer.quarantined.size, 0, 'undo data survived the restart');
});

test('a decision recorded but not enforced (the port failed, or a crash) is retried by the sweep and enforced at the next start', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1').addSubscriber('cust-2');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  r.dir.assign('cust-2', '198.51.100.8', T0 - DAY);
  r.enforcer.failNext = 'quarantine';
  await runBot(r, '198.51.100.7', 30);
  assert.equal(r.engine.stats().enforceFailures, 1);
  const c1 = await r.engine.cases.openOf('cust-1');
  assert.ok(c1?.active.some((a) => a.action === 'quarantine'), 'recorded, in force, pending');
  assert.equal(r.enforcer.quarantined.size, 0);
  r.clock.advance(31_000);
  await r.engine.flush();
  assert.deepEqual([...r.enforcer.quarantined], ['198.51.100.7'], 'retried by the sweep');
  const t1 = (await r.engine.cases.show(c1!.id))!.timeline.find((x) => x.kind === 'enforced');
  assert.match(t1!.text, /quarantined 198\.51\.100\.7 .*\(attempt 2: an earlier one failed/);
  assert.equal(r.notices.sent.filter((n) => n.kind === 'quarantine').length, 1, 'the notice after the enforcement, once');
  // now a "crash" after recording: the port fails, and the node restarts with a working one
  r.enforcer.failNext = 'quarantine';
  await runBot(r, '198.51.100.8', 30);
  const fresh = new RecordingEnforcer();
  await r.restart({ enforcer: fresh });
  assert.deepEqual(fresh.calls.filter((x) => x.op === 'quarantine').map((x) => x.args[0]), ['cust-2'], 'enforced at start');
  assert.deepEqual([...fresh.quarantined], ['198.51.100.8']);
  assert.equal(r.notices.sent.filter((n) => n.kind === 'quarantine').length, 2);
  const c2 = await r.engine.cases.openOf('cust-2');
  await r.engine.cases.release(c2!.id, 'desk:ann', '', 'desk');
  assert.equal(fresh.quarantined.size, 0);
});

test('one bad input or a failing peer fails only itself: malformed signals, a directory that throws, a batch the store refuses', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const bad = [
    { ...signal({ class: 'flood' }), amount: Number.NaN },
    { ...signal({ class: 'flood' }), at: Number.POSITIVE_INFINITY },
    { ...signal({ class: 'flood' }), amount: -5 },
    null as unknown as ReturnType<typeof signal>,
  ];
  assert.deepEqual(bad.map((s) => r.engine.ingest(s)), [false, false, false, false]);
  assert.equal(r.engine.stats().invalid, 4);
  const holdersAt = r.dir.holdersAt.bind(r.dir);
  r.dir.holdersAt = async (a, at, p) => { if (a === '203.0.113.66') throw new Error('directory down'); return holdersAt(a, at, p); };
  r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: '203.0.113.66' }));
  r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: '198.51.100.7', detail: { huge: 'x'.repeat(100_000) } }));
  await r.engine.flush();
  assert.equal(r.engine.stats().unattributed['lookup-error'], 1);
  const [c] = await r.engine.cases.list();
  assert.equal((await r.engine.cases.show(c.id))?.evidence[0].detail.huge?.toString().length, 1024);
  // the store refuses a batch (its table is gone): those signals are lost and counted, the next batch is stored
  await r.store.db.run('ALTER TABLE abuse_unattributed RENAME TO abuse_unattributed_away');
  r.engine.ingest(signal({ class: 'auth-failure', at: T0 + 1000, address: '203.0.113.1' }));
  r.engine.ingest(signal({ class: 'auth-failure', at: T0 + 1000, address: '198.51.100.7' }));
  await r.engine.flush();
  assert.equal(r.engine.stats().failed, 2);
  assert.ok(r.logger.records.some((x) => /could not be stored/.test(String(x.msg))));
  await r.store.db.run('ALTER TABLE abuse_unattributed_away RENAME TO abuse_unattributed');
  r.engine.ingest(signal({ class: 'auth-failure', at: T0 + 2000, address: '198.51.100.7' }));
  await r.engine.flush();
  const d = await r.engine.cases.show(c.id);
  assert.deepEqual(d?.evidence.map((e) => [e.class, e.count]), [['auth-failure', 2]], 'the refused batch left nothing behind; the state reloaded from the store');
});

test('under a stream of signals the case service still gets its turn: signals go one batch per turn of the lane', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  const [c] = await r.engine.cases.list();
  const before = r.engine.stats().processed;
  for (let i = 0; i < 40_000; i++) r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '203.0.113.9' }));
  await new Promise((res) => setImmediate(res)); // the first batch is on its way
  await r.engine.cases.release(c.id, 'desk:ann', 'now', 'desk');
  const at = r.engine.stats().processed - before;
  assert.ok(at > 0 && at < 40_000, `released after ${at} of 40000 signals`);
  await r.engine.flush();
  assert.equal(r.engine.stats().processed - before, 40_000);
});

test('a case\'s score is written at most every 30 s between flushes, and every held-back score at stop', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const drained = async (n: number): Promise<void> => { while (r.engine.stats().processed < n) await new Promise((res) => setImmediate(res)); };
  const stored = async (): Promise<number> => Number((await r.store.db.get<{ score: number }>('SELECT score FROM abuse_cases'))?.score);
  r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '198.51.100.7' }));
  await drained(1);
  assert.equal(await stored(), 1, 'written when the case opened');
  r.clock.advance(1000);
  r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '198.51.100.7' }));
  await drained(2);
  assert.equal(await stored(), 1, 'held back');
  await r.engine.stop();
  assert.ok(Math.abs(await stored() - 2) < 0.01, 'written at stop');
});

test('subscribers quiet for longer than the longest window leave memory and come back from the store at their next signal', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1').addSubscriber('cust-2');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  r.dir.assign('cust-2', '198.51.100.8', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '198.51.100.8' }));
  await r.engine.flush();
  assert.equal(r.engine.stats().held, 2);
  r.clock.advance(HOUR + 3 * 60_000);
  await r.engine.flush();
  assert.equal(r.engine.stats().held, 0);
  await runBot(r, '198.51.100.7', 5);
  assert.equal(r.engine.stats().held, 1);
  const c = await r.engine.cases.openOf('cust-1');
  assert.equal(r.of('case.decision').filter((d) => d.action === 'quarantine').length, 1, 'the quarantine in force was read back: no second one');
  assert.deepEqual(c?.active.map((a) => a.action), ['notify', 'quarantine']);
});

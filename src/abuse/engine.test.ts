// The abuse engine end to end on a real SQLite store with a manual clock, the
// fake directory, a recording enforcer and notices (test/lib/abuse-engine.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, runBot, signal, T0 } from '../../test/lib/abuse-engine.ts';
import { DEFAULT_RULES } from './index.ts';
import { RecordingEnforcer } from '../../test/lib/abuse-fakes.ts';

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;

test('a bot at 5 blocked/s to many destinations: one case, quarantined well inside 60 s, the current prefixes of the subscriber', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  r.dir.assign('cust-1', '2001:db8:1::/56', T0 - DAY);
  const ms = await runBot(r, '198.51.100.7', 60);
  assert.ok(ms !== null && ms < 60_000, `quarantined after ${ms} ms`);
  assert.equal(r.of('case.opened').length, 1);
  const [c] = await r.engine.cases.list();
  assert.equal(c.subscriber, 'cust-1');
  // the notify rule (20 points) fired in the second second, the quarantine later; a notify is in force until its renotify
  assert.deepEqual(c.active.map((a) => [a.action, a.rule, a.until]), [['notify', 'notify', T0 + 1000 + DAY], ['quarantine', 'bot', T0 + ms + DAY]]);
  const q = r.enforcer.calls.filter((x) => x.op === 'quarantine');
  assert.equal(q.length, 1);
  assert.deepEqual(q[0].args.slice(0, 3), ['cust-1', c.id, ['198.51.100.7', '2001:db8:1::/56']]);
  assert.deepEqual([...r.enforcer.quarantined].sort(), ['198.51.100.7', '2001:db8:1::/56']);
  const d = await r.engine.cases.show(c.id);
  assert.ok(d);
  assert.deepEqual(d.timeline.map((x) => x.kind).filter((k, i, a) => a.indexOf(k) === i), ['opened', 'decision', 'notice', 'enforced']);
  // coalesced: one row per class and minute, amounts summed
  const blocked = d.evidence.filter((e) => e.class === 'edge-blocked');
  assert.equal(blocked.length, 1);
  assert.deepEqual([blocked[0].amount, blocked[0].count, blocked[0].firstAt, blocked[0].lastAt], [300, 60, T0, T0 + 59_000]);
  const notice = r.notices.sent.find((n) => n.kind === 'quarantine');
  assert.ok(notice);
  assert.deepEqual(notice.contacts, ['cust-1@example.net']);
  assert.ok(notice.evidence.some((l) => /stopped \d+ attempts/.test(l)), notice.evidence.join('\n'));
  assert.ok(d.timeline.some((x) => x.kind === 'notice' && /quarantine notice queued/.test(x.text) && x.data.queueIds));
});

test('the blocked attempts alone reach the bot threshold inside 60 s', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const ms = await runBot(r, '198.51.100.7', 70, { destinations: 0 });
  assert.equal(ms, 59_000);
});

test('a mail client retrying port 25 to its one server scores about 23: notified, never quarantined', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-2');
  r.dir.assign('cust-2', '198.51.100.8', T0 - DAY);
  r.engine.ingest(signal({ class: 'edge-destinations', at: r.clock.now(), address: '198.51.100.8', amount: 1 }));
  for (let i = 0; i < 40; i++) { // 40 retries over 20 minutes: the notify only once
    r.engine.ingest(signal({ class: 'edge-blocked', at: r.clock.now(), address: '198.51.100.8', amount: 1 }));
    await r.engine.flush();
    r.clock.advance(30_000);
  }
  assert.deepEqual(r.of('case.decision').map((d) => [d.action, d.rule]), [['notify', 'notify']]);
  assert.equal(r.enforcer.calls.length, 0);
  assert.deepEqual(r.notices.sent.map((n) => n.kind), ['notify']);
  const [c] = await r.engine.cases.list();
  assert.ok(c.score > 40 && c.score < 44, String(c.score));
});

test('a signal about a past moment joins the subscriber who held the address then, not its holder now', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('old').addSubscriber('new');
  r.dir.assign('old', '198.51.100.9', T0 - 2 * DAY, T0 - HOUR);
  r.dir.assign('new', '198.51.100.9', T0 - HOUR);
  r.engine.ingest(signal({ class: 'report', at: T0 - 3 * HOUR, address: '198.51.100.9', origin: 'mailbox:r1', detail: { feedbackType: 'abuse' } }));
  await r.engine.flush();
  assert.deepEqual(r.of('case.opened').map((e) => e.subscriber), ['old']);
  assert.deepEqual(r.of('case.decision').map((e) => [e.subscriber, e.action]), [['old', 'notify']], 'one complaint is worth a notice');
  assert.equal(await r.engine.cases.openOf('new'), null);
});

test('several holders (CGNAT without port) or none: nobody is blamed; the signal is kept and counted as unattributed', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('a').addSubscriber('b');
  r.dir.assign('a', '100.64.0.1', T0 - DAY, null, [1024, 2047]);
  r.dir.assign('b', '100.64.0.1', T0 - DAY, null, [2048, 3071]);
  r.engine.ingest(signal({ class: 'edge-blocked', at: T0, address: '100.64.0.1', amount: 500 }));
  r.engine.ingest(signal({ class: 'edge-blocked', at: T0, address: '100.64.0.1', amount: 500 }));
  r.engine.ingest(signal({ class: 'edge-blocked', at: T0, address: '203.0.113.1', amount: 3 }));
  r.engine.ingest(signal({ class: 'edge-blocked', at: T0, address: '100.64.0.1', port: 2050, amount: 1 }));
  await r.engine.flush();
  assert.deepEqual(r.of('case.opened').map((e) => e.subscriber), ['b'], 'with the port: its one holder');
  assert.equal(r.of('case.decision').length, 0);
  const s = r.engine.stats();
  assert.deepEqual([s.unattributed.ambiguous, s.unattributed['no-holder'], s.processed], [2, 1, 4]);
  const kept = await r.engine.unattributed();
  assert.deepEqual(kept.map((k) => [k.reason, k.address, k.amount, k.count]).sort(), [['ambiguous', '100.64.0.1', 1000, 2], ['no-holder', '203.0.113.1', 3, 1]]);
});

test('an immune tier: the decision is recorded as immune, nothing is enforced, and it does not fire again on every signal', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('biz', 'Business');
  r.dir.assign('biz', '198.51.100.10', T0 - DAY);
  await runBot(r, '198.51.100.10', 90);
  const ds = r.of('case.decision');
  assert.deepEqual(ds.map((d) => [d.action, d.immune]), [['notify', false], ['quarantine', true]]);
  assert.deepEqual(r.enforcer.ops(), []);
  assert.deepEqual(r.notices.sent.map((n) => n.kind), ['notify'], 'the notify rule (no immune tiers) still notifies; the immune quarantine sends nothing');
  const [c] = await r.engine.cases.list();
  assert.deepEqual(c.active.map((a) => a.action), ['notify']);
  const d = await r.engine.cases.show(c.id);
  assert.ok(d?.timeline.some((x) => x.kind === 'immune' && /immune to quarantine/.test(x.text)));
  assert.deepEqual(c.recurrences, { notify: 1 }, 'an immune decision is no recurrence');
});

test('escalation: each recurrence doubles the quarantine, up to maxDuration; expiry lifts it (case.released expired)', async (t) => {
  const bot = { ...DEFAULT_RULES[0], duration: DAY / 1000, escalation: 2, maxDuration: 3 * DAY / 1000, grace: 0 };
  const r = await rig({ rules: [bot] });
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    await runBot(r, '198.51.100.7', 40);
    const d = r.of('case.decision').at(-1)!;
    const decidedAt = r.clock.now() - 1000 * (40 - 27);
    lengths.push((d.until! - decidedAt) / DAY);
    assert.ok(r.enforcer.quarantined.has('198.51.100.7'));
    r.clock.set(d.until! + 1000);
    await r.engine.flush();
    assert.equal(r.enforcer.quarantined.size, 0, 'lifted at expiry');
  }
  assert.deepEqual(lengths, [1, 2, 3, 3]);
  assert.deepEqual(r.of('case.released').map((e) => [e.kind, e.actor]), Array(4).fill(['expired', 'engine']));
  const [c] = await r.engine.cases.list();
  assert.deepEqual(c.recurrences, { bot: 4 });
});

test('grace: no re-quarantine by the same rule within grace of a release; after it, yes', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
  const [c] = await r.engine.cases.list();
  await r.engine.cases.release(c.id, 'desk:ann', 'customer cleaned the PC', 'desk');
  r.clock.advance(HOUR); // within the 2 h grace
  await runBot(r, '198.51.100.7', 60);
  assert.equal(r.of('case.decision').filter((d) => d.action === 'quarantine').length, 1);
  r.clock.advance(HOUR);
  await runBot(r, '198.51.100.7', 30);
  assert.equal(r.of('case.decision').filter((d) => d.action === 'quarantine').length, 2);
});

test('self-release: refused while the rule\'s classes are not quiet and once the count is used up; allowed after quiet', async (t) => {
  const bot = { ...DEFAULT_RULES[0], selfReleases: 1, grace: 0 };
  const r = await rig({ rules: [bot] });
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 40);
  const [c] = await r.engine.cases.list();
  let check = await r.engine.cases.selfReleaseCheck(c.id);
  assert.equal(check.allowed, false);
  assert.match(check.why, /quiet for 1 minute more/);
  assert.equal(check.quietSince, T0 + 39_000);
  await assert.rejects(r.engine.cases.release(c.id, 'cust-1', 'clicked', 'self'), (e: { code?: string }) => e.code === 'conflict');
  r.clock.advance(30_000); // the window is 60 s from the last signal at 39 s
  r.engine.ingest(signal({ class: 'auth-failure', at: r.clock.now(), address: '198.51.100.7' })); // not one of the rule's classes
  await r.engine.flush();
  assert.equal((await r.engine.cases.selfReleaseCheck(c.id)).allowed, false);
  r.clock.advance(30_000);
  check = await r.engine.cases.selfReleaseCheck(c.id);
  assert.deepEqual([check.allowed, check.left], [true, 1]);
  const s = await r.engine.cases.release(c.id, 'cust-1', 'notice page', 'self');
  assert.deepEqual([s.active.length, s.selfReleases], [0, 1]);
  assert.deepEqual(r.of('case.released').map((e) => [e.kind, e.actor]), [['self', 'cust-1']]);
  await runBot(r, '198.51.100.7', 40);
  r.clock.advance(2 * MIN);
  check = await r.engine.cases.selfReleaseCheck(c.id);
  assert.deepEqual([check.allowed, check.why, check.left], [false, 'the self-releases of this case are used up', 0]);
  await r.engine.cases.release(c.id, 'desk:ann', 'ok', 'desk'); // the desk may any time
  assert.equal(r.enforcer.quarantined.size, 0);
});

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

test('the queue is bounded: ingest answers false when full and the drop is counted', async (t) => {
  const r = await rig({ queueSize: 3 });
  t.after(() => r.close());
  const got = [1, 2, 3, 4, 5].map(() => r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: '203.0.113.5' })));
  assert.deepEqual(got, [true, true, true, false, false]);
  assert.equal(r.engine.dropped(), 2);
  assert.equal(r.engine.stats().dropped, 2);
  await r.engine.flush();
  assert.equal(r.engine.ingest(signal({ class: 'auth-failure', at: T0, address: '203.0.113.5' })), true, 'room again after the drain');
  assert.equal(r.engine.ingest({ ...signal({ class: 'auth-failure' }), class: 'bogus' as 'flood' }), false);
  assert.equal(r.engine.stats().invalid, 1);
});

test('the quarantine follows the subscriber to a new lease and leaves the address it gave back; the release lifts the rest', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  await runBot(r, '198.51.100.7', 30);
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

test('client text in evidence detail never reaches an event; it is kept as given in the evidence', async (t) => {
  const r = await rig();
  t.after(() => r.close());
  r.dir.addSubscriber('cust-1');
  r.dir.assign('cust-1', '198.51.100.7', T0 - DAY);
  const evil = 'abuse\x1b[2J\r\nX-Injected: 1\u202e';
  for (let i = 0; i < 3; i++) r.engine.ingest(signal({ class: 'report', at: T0, address: '198.51.100.7', origin: 'mailbox:r1', detail: { feedbackType: evil, subject: evil } }));
  await r.engine.flush();
  const all = JSON.stringify(r.events.map((x) => x.e));
  assert.ok(r.of('case.decision').length > 0);
  assert.ok(!all.includes('\\u001b') && !all.includes('X-Injected') && !all.includes('\u202e'), all);
  const [c] = await r.engine.cases.list();
  const d = await r.engine.cases.show(c.id);
  assert.equal(d?.evidence[0].detail.subject, evil);
  const n = r.notices.sent[0];
  assert.ok(n.evidence.every((l) => !/[\x00-\x1f\x7f\u202e]/.test(l)), n.evidence.join('\n'));
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

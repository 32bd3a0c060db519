// The engine's wiring on real stores, with a recording engine in place of
// openAbuseEngine (the real engine's own run is test/e2e/abuse.test.ts): what it
// is opened with, app.cases, bus events reaching ingest, the metrics read from
// the exposition, and the stop order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { openStore } from '../store/index.ts';
import { AccountStore } from '../auth/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { Spool } from '../spool/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, type AppDeps } from '../app/index.ts';
import { ABUSE_ACTIONS, ABUSE_SIGNAL_CLASSES, createMetrics, subscribeMetrics } from '../metrics/index.ts';
import { ACTION_KINDS, SIGNAL_CLASSES, type AbuseEngine, type AbuseEngineOptions, type CaseService, type Signal } from '../abuse/index.ts';
import { parseConfigWithSource } from '../config/index.ts';
import { FakeCases } from '../../test/lib/abuse-fakes.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { NO_HOLDERS, abuseService, floodSubscriberRuns, startAbuse, type AbuseWiring } from './abuse-wiring.ts';

const RULES = `
abuse:
  classes: {flood: 60}
  rules:
    - {name: two-floods, classes: [flood], threshold: 100, window: 600, action: suspend, duration: 3600}
`;

async function rig(t: { after(fn: () => Promise<void>): void }, yaml = RULES, accept = true) {
  const dir = tempDir('pw-abuse-wiring-');
  const cfg = parseConfigWithSource(`dataDir: ${dir.path}\nhostname: msa.isp.example\nrelay:\n  smarthost: 127.0.0.1:2525\n${yaml}`, 'pw.yaml').config;
  const store = await openStore(join(dir.path, 'state.db'));
  await store.migrate(AUDIT_MIGRATIONS);
  const logger = new MemoryLogger();
  const bus = new InProcessBus();
  const metrics = createMetrics({ processMetrics: false });
  subscribeMetrics(bus, metrics);
  const spool = await Spool.open(join(dir.path, 'spool'), { logger });
  const accounts = await AccountStore.open(store);
  const policy = await PolicyStore.open(store, { now: () => Date.now() });
  const app: AppDeps = { clock: { now: () => Date.now() }, logger, audit: new AuditLog(store.db), accounts, policy, spool };
  const fake = { opened: [] as AbuseEngineOptions[], signals: [] as Signal[], stopped: 0, cases: new FakeCases() };
  const open = async (o: AbuseEngineOptions): Promise<AbuseEngine> => {
    fake.opened.push(o);
    return { cases: fake.cases, ingest: (s) => { fake.signals.push(s); return accept; }, flush: async () => {}, dropped: () => 0, stop: async () => { fake.stopped++; } };
  };
  const w: AbuseWiring = { cfg, logger, bus, store, app, accounts, spool, metrics, open };
  t.after(async () => { await spool.close(); await store.close(); dir.remove(); });
  return { w, fake, bus, app, metrics, logger, policy, cfg };
}

const scrape = async (m: ReturnType<typeof createMetrics>, name: string): Promise<string[]> =>
  (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(name));

test('the engine is opened with the config\'s rules and weights, the enforcer and notices; app.cases is set; signals flow; stop undoes it', async (t) => {
  const { w, fake, bus, app, metrics, logger } = await rig(t);
  const running = await startAbuse(w);
  const o = fake.opened[0];
  assert.deepEqual(o.rules.map((r) => [r.name, r.action, r.threshold]), [['two-floods', 'suspend', 100]]);
  assert.equal(o.weights.flood, 60);
  assert.equal(o.weights['auth-lockout'], 20, 'the other classes keep their defaults');
  assert.deepEqual([o.halfLifeMinutes, o.closeAfterDays, o.queueSize], [360, 14, 200_000]);
  assert.equal(o.directory, NO_HOLDERS, 'no directory here: a lookup that knows no holder');
  assert.deepEqual(await o.directory.holdersAt('192.0.2.1', Date.now()), []);
  assert.ok(logger.records.some((r) => r.event === 'abuse' && /directory does not run here/.test(String(r.msg))));
  assert.ok(o.notices && typeof o.notices.send === 'function');
  assert.equal(typeof o.enforcer.policyRevision, 'function');
  assert.equal(await o.enforcer.policyRevision(), await w.app.policy!.revision());
  assert.equal(app.cases, fake.cases);

  bus.publish('limit.flood', { rule: 'r', account: 'z@isp.example', subscriber: 'sub-1', clientIp: '192.0.2.7', suspend: true, source: 'submission' });
  assert.deepEqual(fake.signals.map((s) => [s.class, s.subscriber]), [['flood', 'sub-1']]);
  assert.deepEqual(await scrape(metrics, 'portwarden_abuse_signals_total'), ['portwarden_abuse_signals_total{class="flood",result="ingested"} 1']);

  bus.publish('case.decision', { case: 'c1', subscriber: 'sub-1', decision: 'd1', action: 'suspend', rule: 'two-floods', until: null, immune: false });
  bus.publish('case.decision', { case: 'c2', subscriber: 'sub-2', decision: 'd2', action: 'quarantine', rule: 'bot', until: null, immune: true });
  assert.deepEqual(await scrape(metrics, 'portwarden_abuse_decisions_total'), [
    'portwarden_abuse_decisions_total{action="suspend",immune="no"} 1', 'portwarden_abuse_decisions_total{action="quarantine",immune="yes"} 1']);
  fake.cases.add({ id: 'c1', subscriber: 'sub-1' });
  fake.cases.add({ id: 'c2', subscriber: 'sub-2' });
  fake.cases.add({ id: 'c3', subscriber: 'sub-3', state: 'closed' });
  const all = fake.cases.list.bind(fake.cases);
  (fake.cases as CaseService).list = async (f) => (await all()).filter((c) => !f?.state || c.state === f.state);
  assert.deepEqual(await scrape(metrics, 'portwarden_abuse_cases_open'), ['portwarden_abuse_cases_open 2']);

  await running.stop();
  assert.equal(fake.stopped, 1);
  assert.equal(app.cases, undefined);
  bus.publish('limit.flood', { rule: 'r', account: 'z@isp.example', subscriber: 'sub-1', clientIp: '192.0.2.7', suspend: true, source: 'submission' });
  assert.equal(fake.signals.length, 1, 'no signal after stop');
  assert.deepEqual(await scrape(metrics, 'portwarden_abuse_cases_open'), ['portwarden_abuse_cases_open 0'], 'no engine, none open');
});

test('a full queue: the signal is counted as dropped', async (t) => {
  const { w, bus, metrics } = await rig(t, RULES, false);
  const running = await startAbuse(w);
  bus.publish('auth.lockout', { scope: 'ip', key: '192.0.2.9', clientIp: '192.0.2.9', login: null, lockoutMs: 1000 });
  assert.deepEqual(await scrape(metrics, 'portwarden_abuse_signals_total'), ['portwarden_abuse_signals_total{class="auth-lockout",result="dropped"} 1']);
  await running.stop();
});

test('edge counters stored before the start are the baseline of the first report after it', async (t) => {
  const { w, fake, bus, policy } = await rig(t);
  await policy.recordBlocked('e1', [{ source: '192.0.2.50', packets: 400, destinations: 90 }]);
  const running = await startAbuse(w);
  bus.publish('edge.blocked', { edge: 'e1', source: '192.0.2.50', packets: 405, destinations: 90 });
  assert.deepEqual(fake.signals.map((s) => [s.class, s.amount]), [['edge-blocked', 5]]);
  await running.stop();
});

test('abuse.enabled false: no engine, and the issue-11 flood subscriber runs instead (they are exclusive)', async (t) => {
  const off = await rig(t, 'abuse: {enabled: false}');
  const svc = abuseService(() => off.w);
  await svc.start();
  assert.equal(off.fake.opened.length, 0);
  assert.equal(off.app.cases, undefined);
  await svc.stop();
  assert.equal(floodSubscriberRuns(off.cfg), true);
  const on = await rig(t);
  assert.equal(floodSubscriberRuns(on.cfg), false);
  const svc2 = abuseService(() => on.w);
  assert.equal(svc2.sink(), undefined);
  await svc2.start();
  assert.equal(on.fake.opened.length, 1);
  svc2.sink()!.ingest({ class: 'report', at: 0, address: '192.0.2.1', port: null, subscriber: null, account: null, amount: 1, origin: 'mailbox:r1', detail: {} });
  assert.deepEqual(on.fake.signals.map((x) => x.origin), ['mailbox:r1'], 'the sink other producers use is the engine\'s');
  assert.deepEqual(await scrape(on.metrics, 'portwarden_abuse_signals_total'), ['portwarden_abuse_signals_total{class="report",result="ingested"} 1']);
  await svc2.stop();
  assert.equal(on.fake.stopped, 1);
  assert.equal(svc2.sink(), undefined);
});

test("the metrics' label sets are the abuse part's lists", () => {
  assert.deepEqual([...ABUSE_SIGNAL_CLASSES].sort(), [...SIGNAL_CLASSES].sort());
  assert.deepEqual([...ABUSE_ACTIONS].sort(), [...ACTION_KINDS].sort());
});

// Port-25 exemption requests on both stores (SQLite and a private PostgreSQL),
// through the operations as the portal and the desk run them (invoke: role and
// subscriber checks, audit), with the real policy store, the real directory and
// a real DNS server on loopback (unbound with local-data) for the reverse/forward check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../../src/core/index.ts';
import { openStore, type Store, type StoreConfig } from '../../src/store/index.ts';
import { AccountStore } from '../../src/auth/index.ts';
import { PolicyStore, compileNft, compilePolicy } from '../../src/netpolicy/index.ts';
import { openDirectory } from '../../src/directory/index.ts';
import {
  AUDIT_MIGRATIONS, AppError, AuditLog, EXEMPTION_MIGRATIONS, ExemptionRepository, dnsResolver, invoke, loadOperations, runChecks,
  type Actor, type AppDeps, type ExemptionRequest, type OperationDef,
} from '../../src/app/index.ts';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { PORTAL_COOKIE, PORTAL_SESSION_MIGRATIONS, PortalSessions } from '../../src/web/index.ts';
import { postgresBin, startPostgres, type TestPostgres } from '../lib/postgres.ts';
import { TestDns } from '../lib/dns.ts';
import { needTools, tempDir } from '../lib/tools.ts';

const DAY = 86_400_000;
const found = postgresBin();
const pgSkip = 'skip' in found ? found.skip : false;
const dnsSkip = needTools('unbound');
let server: TestPostgres | null = null;
let dns: TestDns | null = null;
let seq = 0;
const cleanups: Array<() => void> = [];

before(async () => {
  if (!pgSkip) server = await startPostgres();
  if (!dnsSkip) {
    dns = await TestDns.start(['example.net.', 'in-addr.arpa.', 'ip6.arpa.'], [
      'mail.example.net. IN A 198.51.100.7',
      '7.100.51.198.in-addr.arpa. IN PTR mail.example.net.',
      'other.example.net. IN A 198.51.100.9',
      '8.100.51.198.in-addr.arpa. IN PTR mail.example.net.', // a PTR whose name does not resolve back
      '9.100.51.198.in-addr.arpa. IN PTR other.example.net.',
      'mx6.example.net. IN AAAA 2001:db8::25',
      '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR mx6.example.net.',
    ]);
  }
});
after(async () => { await server?.stop(); await dns?.stop(); for (const c of cleanups) c(); });

interface Backend { name: string; skip: string | false; config(): Promise<StoreConfig> }
const backends: Backend[] = [
  { name: 'sqlite', skip: false, async config() { const d = tempDir('pw-exempt-'); cleanups.push(() => d.remove()); return { kind: 'sqlite', path: join(d.path, 'state.db') }; } },
  { name: 'postgres', skip: pgSkip, async config() { return { kind: 'postgres', url: await server!.createDatabase(`pw_exempt_${++seq}`) }; } },
];

const SETTINGS = { tiers: ['premium', 'business'], minAccountAgeDays: 30, caseFreeDays: 90, maxDays: 365, renewBeforeDays: 14 };
const alice: Actor = { kind: 'subscriber', name: 'alice@isp.example', subscriber: 'cust-a', from: '192.0.2.50' };
const bob: Actor = { kind: 'subscriber', name: 'bob@isp.example', subscriber: 'cust-b', from: '192.0.2.51' };
const deskActor: Actor = { kind: 'staff', name: 'dora', role: 'desk', from: '10.0.0.5' };

interface World {
  store: Store; deps: AppDeps; clock: ManualClock; policy: PolicyStore; ops: Map<string, OperationDef>; offers: ExemptionRequest[];
  run<T = ExemptionRequest>(actor: Actor, name: string, input: Record<string, unknown>): Promise<T>;
}

async function world(b: Backend, t: { after(fn: () => Promise<void>): void }, cases: Array<{ id: string; state: 'open' | 'closed'; openedAt: number; closedAt: number | null }> = []): Promise<World> {
  const store = await openStore(await b.config());
  t.after(() => store.close());
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
  await store.migrate([...AUDIT_MIGRATIONS, ...EXEMPTION_MIGRATIONS]);
  const accounts = await AccountStore.open(store, { clock, logger: silentLogger });
  const directory = await openDirectory(store, { clock, logger: silentLogger, memory: false });
  t.after(() => directory.close());
  const policy = new PolicyStore(store, clock);
  clock.set(Date.UTC(2026, 9, 1)); // the accounts are two months old
  await accounts.add({ login: 'alice@isp.example', password: 'a-long-password-1', subscriber: 'cust-a', tier: 'premium' });
  await accounts.add({ login: 'bob@isp.example', password: 'a-long-password-2', subscriber: 'cust-b', tier: 'residential' });
  clock.set(Date.UTC(2026, 11, 2, 12));
  await directory.putSubscriber({ id: 'cust-a', tier: 'premium', contacts: ['alice@home.example'] });
  await directory.putSubscriber({ id: 'cust-b', tier: 'residential', contacts: ['bob@home.example'] });
  await directory.assign({ subscriber: 'cust-a', prefix: '198.51.100.7', start: Date.UTC(2026, 10, 1), source: 'static' });
  await directory.assign({ subscriber: 'cust-b', prefix: '198.51.100.9', start: Date.UTC(2026, 10, 1), source: 'static' });
  const offers: ExemptionRequest[] = [];
  const audit = new AuditLog(store.db);
  const deps: AppDeps = {
    clock, logger: silentLogger, audit, accounts, policy, directory,
    cases: { list: async (f?: { subscriber?: string }) => cases.filter(() => f?.subscriber === 'cust-a') } as never,
    exemptions: {
      repo: new ExemptionRepository(store.db, () => clock.now()), settings: SETTINGS,
      dns: dns ? dnsResolver([dns.server]) : { reverse: async () => [], forward: async () => [] },
      offer: async (r) => { offers.push(r); },
    },
  };
  const ops = new Map((await loadOperations()).map((o) => [o.name, o]));
  return {
    store, deps, clock, policy, ops, offers,
    run: async (actor, name, input) => await invoke(ops.get(name)!, input as never, { actor }, deps, audit, () => clock.now()) as never,
  };
}

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

for (const b of backends) {
  describe(`exemption requests on ${b.name}`, { skip: b.skip }, () => {
    test('a subscriber asks for its current address; the checks are stored; the desk grants for N days; the exemption reaches the policy with its expiry', { skip: dnsSkip }, async (t) => {
      const w = await world(b, t);
      const r = await w.run(alice, 'exemptions.request', { server: 'Mail.Example.NET.', reason: 'my own mail server for the family' });
      assert.equal(r.prefix, '198.51.100.7');
      assert.equal(r.server, 'mail.example.net');
      assert.equal(r.state, 'pending');
      assert.equal(r.account, 'alice@isp.example');
      assert.deepEqual(r.checks.map((c) => [c.name, c.result]), [['account-age', 'pass'], ['cases', 'pass'], ['dns', 'pass'], ['tier', 'pass']]);
      assert.match(r.checks[2].why, /198\.51\.100\.7 is mail\.example\.net in reverse DNS/);
      // The subscriber may not grant its own request.
      await assert.rejects(w.run(alice, 'exemptions.grant', { id: r.id, days: 30, reason: 'me' }), code('forbidden'));
      await assert.rejects(w.run(deskActor, 'exemptions.grant', { id: r.id, days: 400, reason: 'too long' }), code('invalid-value'));
      const g = await w.run(deskActor, 'exemptions.grant', { id: r.id, days: 30, reason: 'checks pass, known customer' });
      assert.equal(g.state, 'granted');
      assert.equal(g.expiresAt, w.clock.now() + 30 * DAY);
      assert.equal(g.decidedBy, 'staff:dora');
      const ex = await w.policy.listExemptions();
      assert.deepEqual(ex.map((e) => [e.prefix, e.customer, e.expiresAt]), [['198.51.100.7', 'cust-a', g.expiresAt]]);
      assert.match(compileNft(compilePolicy(await w.policy.snapshot())), /198\.51\.100\.7/);
      // Twice is a conflict (two desk tabs).
      await assert.rejects(w.run(deskActor, 'exemptions.grant', { id: r.id, days: 30, reason: 'again' }), code('conflict'));
      // Audited as the people who did it.
      const audit = (await w.deps.audit!.list({})).entries.map((e) => [e.actorKind, e.actor, e.action, e.outcome]);
      assert.ok(audit.some((e) => e.join() === 'subscriber,alice@isp.example,exemptions.request,ok'), JSON.stringify(audit));
      assert.ok(audit.some((e) => e.join() === 'staff,dora,exemptions.grant,ok'));
      assert.ok(audit.some((e) => e.join() === 'subscriber,alice@isp.example,exemptions.grant,forbidden'));
      const shown = await w.run(alice, 'exemptions.requests.show', { id: r.id });
      assert.deepEqual(shown.steps.map((s) => s.step), ['requested', 'granted for 30 days']);
    });

    test('subscribers see and touch only their own; the address must be held by them now; bad input is refused by field', async (t) => {
      const w = await world(b, t);
      const r = await w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'server' });
      await assert.rejects(w.run(bob, 'exemptions.requests.show', { id: r.id }), code('not-found'));
      await assert.rejects(w.run(bob, 'exemptions.withdraw', { id: r.id }), code('not-found'));
      assert.deepEqual((await w.run<{ requests: ExemptionRequest[] }>(bob, 'exemptions.requests.list', {})).requests, []);
      assert.equal((await w.run<{ requests: ExemptionRequest[] }>(deskActor, 'exemptions.requests.list', { state: 'pending' })).requests.length, 1);
      // Bob's address is not Alice's.
      await assert.rejects(w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'x', address: '198.51.100.9' }),
        (e: unknown) => e instanceof AppError && e.code === 'invalid-value' && e.detail?.field === 'address');
      await assert.rejects(w.run(alice, 'exemptions.request', { server: 'not a name', reason: 'x', address: '198.51.100.7/32' }),
        (e: unknown) => e instanceof AppError && e.detail?.field === 'server');
      // One open request per address.
      await assert.rejects(w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'again' }), code('conflict'));
      // A subscriber cannot ask for another one.
      await assert.rejects(w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'x', subscriber: 'cust-b' }), code('forbidden'));
      // A disabled account (a suspension) asks nothing, even from a session opened before.
      await w.deps.accounts!.disable('bob@isp.example', 'abuse case');
      await assert.rejects(w.run(bob, 'exemptions.request', { server: 'mail.example.net', reason: 'x' }), code('forbidden'));
      // Withdrawn by its owner; then a new one may be asked.
      assert.equal((await w.run(alice, 'exemptions.withdraw', { id: r.id })).state, 'withdrawn');
      assert.equal((await w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'again' })).state, 'pending');
    });

    test('a refusal carries its reason to the subscriber; failed checks are shown with why', { skip: dnsSkip }, async (t) => {
      const w = await world(b, t, [{ id: 'c-9', state: 'open', openedAt: Date.UTC(2026, 10, 20), closedAt: null }]);
      const r = await w.run(bob, 'exemptions.request', { server: 'mail.example.net', reason: 'I want a server' });
      const byName = Object.fromEntries(r.checks.map((c) => [c.name, c]));
      assert.equal(byName.tier.result, 'fail');
      assert.match(byName.tier.why, /tier residential may not/);
      assert.equal(byName.dns.result, 'fail');
      assert.match(byName.dns.why, /reverse DNS of 198\.51\.100\.9 is other\.example\.net, not mail\.example\.net/);
      const a = await w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'x' });
      assert.equal(a.checks.find((c) => c.name === 'cases')!.result, 'fail');
      assert.match(a.checks.find((c) => c.name === 'cases')!.why, /case c-9 is open/);
      await assert.rejects(w.run(deskActor, 'exemptions.refuse', { id: r.id, reason: ' ' }), code('invalid-value'));
      const f = await w.run(deskActor, 'exemptions.refuse', { id: r.id, reason: 'residential plans have no port 25; see the business plan' });
      assert.equal(f.state, 'refused');
      const seen = (await w.run<{ requests: ExemptionRequest[] }>(bob, 'exemptions.requests.list', {})).requests[0];
      assert.equal(seen.decisionReason, 'residential plans have no port 25; see the business plan');
      assert.deepEqual(await w.policy.listExemptions(), []);
    });

    test('the sweep offers renewal before the end (with the notice hook), a renewal extends the grant, and an unrenewed grant expires', async (t) => {
      const w = await world(b, t);
      const r = await w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'server' });
      const g = await w.run(deskActor, 'exemptions.grant', { id: r.id, days: 30, reason: 'ok' });
      const sweep = () => w.run<{ expired: number[]; offered: number[] }>({ kind: 'system', name: 'exemptions', from: 'internal' }, 'exemptions.sweep', {});
      assert.deepEqual(await sweep(), { expired: [], offered: [], noticeFailures: [] });
      w.clock.advance(17 * DAY); // 13 days left: within renewBeforeDays (14)
      assert.deepEqual((await sweep()).offered, [r.id]);
      assert.deepEqual(w.offers.map((o) => [o.id, o.state]), [[r.id, 'renewal-offered']]);
      assert.deepEqual((await sweep()).offered, [], 'offered once');
      const p = await w.run(alice, 'exemptions.renew', { id: r.id, reason: 'still needed' });
      assert.equal(p.state, 'pending');
      assert.equal(p.renewal, true);
      const again = await w.run(deskActor, 'exemptions.grant', { id: r.id, days: 60, reason: 'renewed' });
      assert.equal(again.expiresAt, g.expiresAt! + 60 * DAY, 'a renewal runs on from the current end');
      assert.ok((await w.policy.listExemptions()).some((e) => e.expiresAt === again.expiresAt));
      w.clock.set(again.expiresAt! + 1);
      assert.deepEqual(await w.policy.listExemptions(), [], 'the policy store stops exempting at expiresAt');
      assert.deepEqual((await sweep()).expired, [r.id]);
      const last = await w.run(alice, 'exemptions.requests.show', { id: r.id });
      assert.equal(last.state, 'expired');
      assert.deepEqual(last.steps.map((s) => s.step), ['requested', 'granted for 30 days', 'renewal offered', 'renewal asked', 'renewed for 60 days', 'expired']);
      // Withdrawing a running grant removes it from the policy at once.
      const n = await w.run(alice, 'exemptions.request', { server: 'mail.example.net', reason: 'back' });
      await w.run(deskActor, 'exemptions.grant', { id: n.id, days: 10, reason: 'ok' });
      assert.equal((await w.policy.listExemptions()).length, 1);
      await w.run(alice, 'exemptions.withdraw', { id: n.id });
      assert.deepEqual(await w.policy.listExemptions(), []);
    });
  });
}

for (const b of backends) {
  test(`portal sessions on ${b.name}: open, found by the cookie's id, idle expiry deletes the row, sign-out`, { skip: b.skip }, async (t) => {
    const store = await openStore(await b.config());
    t.after(() => store.close());
    await store.migrate(PORTAL_SESSION_MIGRATIONS);
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
    const sessions = new PortalSessions({ db: store.db, secret: Buffer.alloc(32, 3), clock, lifetimeMs: 3_600_000, idleMs: 600_000 });
    const app = Fastify();
    t.after(() => app.close());
    await app.register(cookie);
    app.post('/in', async (_q, reply) => { await sessions.open(reply, 'alice@isp.example', null); return {}; });
    app.get('/me', async (req) => ({ login: (await sessions.current(req))?.login ?? null, subscriber: (await sessions.current(req))?.subscriber }));
    app.post('/out', async (req, reply) => { await sessions.close(req, reply); return {}; });
    const id = /__Host-pw_portal=([^;]+)/.exec(String((await app.inject({ method: 'POST', url: '/in' })).headers['set-cookie']))![1];
    const me = async () => (await app.inject({ url: '/me', cookies: { [PORTAL_COOKIE]: id } })).json() as { login: string | null; subscriber?: string | null };
    assert.deepEqual(await me(), { login: 'alice@isp.example', subscriber: null });
    clock.advance(300_000);
    assert.equal((await me()).login, 'alice@isp.example');
    await app.inject({ method: 'POST', url: '/out', cookies: { [PORTAL_COOKIE]: id } });
    assert.equal((await me()).login, null);
    const id2 = /__Host-pw_portal=([^;]+)/.exec(String((await app.inject({ method: 'POST', url: '/in' })).headers['set-cookie']))![1];
    clock.advance(601_000);
    assert.equal((await app.inject({ url: '/me', cookies: { [PORTAL_COOKIE]: id2 } }).then((r) => r.json() as { login: string | null })).login, null);
    assert.equal((await store.db.all('SELECT id_hash FROM web_portal_sessions')).length, 0);
  });
}

describe('the DNS check against a real resolver on loopback', { skip: dnsSkip }, () => {
  const q = (prefix: string, server: string) => runChecks({ prefix, server, account: null, subscriberTier: null, cases: null }, SETTINGS, dnsResolver([dns!.server]), Date.now());
  const dnsOf = async (prefix: string, server: string) => (await q(prefix, server)).find((c) => c.name === 'dns')!;
  test('pass, a PTR whose name does not resolve back, a missing PTR, IPv6, a prefix, and no answer', async () => {
    assert.equal((await dnsOf('198.51.100.7', 'mail.example.net')).result, 'pass');
    const back = await dnsOf('198.51.100.8', 'mail.example.net');
    assert.equal(back.result, 'fail');
    assert.match(back.why, /mail\.example\.net resolves to 198\.51\.100\.7, not 198\.51\.100\.8/);
    const none = await dnsOf('198.51.100.99', 'mail.example.net');
    assert.equal(none.result, 'fail');
    assert.match(none.why, /has no reverse DNS name/);
    assert.equal((await dnsOf('2001:db8::25', 'mx6.example.net')).result, 'pass');
    assert.equal((await dnsOf('198.51.100.0/29', 'mail.example.net')).result, 'unknown');
    const silent = await runChecks({ prefix: '198.51.100.7', server: 'mail.example.net', account: null, subscriberTier: null, cases: null }, SETTINGS, dnsResolver(['127.0.0.1:9'], 300), Date.now());
    assert.equal(silent.find((c) => c.name === 'dns')!.result, 'unknown');
    const all = await q('198.51.100.7', 'mail.example.net');
    assert.deepEqual(all.map((c) => c.result), ['unknown', 'unknown', 'pass', 'unknown']);
  });
});

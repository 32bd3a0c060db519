// policy.explain per class and situation, on the real policy store, directory
// and DNSBL listing table (test/lib/portal.ts): what the "Am I blocked?" page,
// the API and `portwarden policy explain` are told.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, checkInput, invoke, loadOperation, systemActor, type AppDeps } from './index.ts';
import { ADDR, EXEMPT_UNTIL, NOW, portalWorld, type PortalWorld } from '../../test/lib/portal.ts';
import type { Explanation } from './ops/explain.ts';

let w: PortalWorld;
before(async () => { w = await portalWorld(); });
after(async () => { await w?.close(); });

async function explain(address: string, more: Record<string, unknown> = {}, deps: AppDeps = w.app): Promise<Explanation> {
  const op = await loadOperation('policy.explain');
  const input = { address, ...more };
  checkInput(op, input);
  return await invoke(op, input as never, { actor: systemActor('portal') }, deps, w.audit) as Explanation;
}

test('dynamic: blocked by its class, listed in our own DNSBL zone, the holder found, no open case', async () => {
  const e = await explain(ADDR.dynamic);
  assert.equal(e.class, 'dynamic');
  assert.deepEqual(e.pool, { prefix: '198.51.100.0/24', class: 'dynamic' });
  assert.deepEqual(e.port25, { blocked: true, reason: 'blocked-class' });
  assert.deepEqual(e.providerDnsbl, { listed: true });
  assert.equal(e.holders, 1);
  assert.equal(e.subscriber, 'alice');
  assert.deepEqual(e.openCase, { open: false, id: null, openedAt: null });
  assert.deepEqual(e.outsideDnsbl, []);
  assert.equal(e.exemption, null);
  assert.equal(e.quarantine, null);
  assert.equal(e.family, 4);
});

test('dynamic IPv6: the delegated prefix\'s pool and holder, written canonically', async () => {
  const e = await explain('2001:DB8:1:5:0:0:0:10');
  assert.equal(e.address, ADDR.dynamic6);
  assert.equal(e.family, 6);
  assert.equal(e.class, 'dynamic');
  assert.equal(e.port25.blocked, true);
  assert.equal(e.subscriber, 'alice');
});

test('static and business: not blocked, not in our zone', async () => {
  for (const [a, cls] of [[ADDR.static, 'static'], [ADDR.business, 'business']] as const) {
    const e = await explain(a);
    assert.equal(e.class, cls);
    assert.deepEqual(e.port25, { blocked: false, reason: 'open-class' });
    assert.deepEqual(e.providerDnsbl, { listed: false });
    assert.equal(e.holders, 0, 'nobody holds it in the directory');
    assert.equal(e.openCase, null, 'no holder: no case to look for');
  }
});

test('CGNAT: a pool marked so, and shared space (100.64.0.0/10) marked only dynamic; blocked; the port names the subscriber', async () => {
  const e = await explain(ADDR.cgnat);
  assert.equal(e.class, 'cgnat');
  assert.equal(e.sharedSpace, true);
  assert.deepEqual(e.port25, { blocked: true, reason: 'blocked-class' });
  assert.equal(e.holders, 2, 'two port blocks share the address');
  assert.equal(e.subscriber, null);
  assert.equal(e.openCase, null);
  const p = await explain(`${ADDR.cgnat}:1500`);
  assert.equal(p.port, 1500);
  assert.equal(p.subscriber, 'carol');
  assert.deepEqual((await explain(ADDR.cgnat, { port: 4100 })).subscriber, 'dave');
  const s = await explain(ADDR.cgnatShared);
  assert.equal(s.class, 'cgnat');
  assert.deepEqual(s.pool, { prefix: '100.65.0.0/16', class: 'dynamic' });
  assert.equal(s.port25.blocked, true);
});

test('exempt: port 25 open by the exemption, with its expiry; left out of our zone', async () => {
  const e = await explain(ADDR.exempt);
  assert.equal(e.class, 'dynamic');
  assert.deepEqual(e.port25, { blocked: false, reason: 'exemption' });
  assert.equal(e.exemption?.expiresAt, EXEMPT_UNTIL);
  assert.equal(e.exemption?.prefix, ADDR.exempt);
  assert.deepEqual(e.providerDnsbl, { listed: false });
  // Once it has expired it is no longer in force.
  w.clock.set(EXEMPT_UNTIL + 1);
  try {
    const later = await explain(ADDR.exempt);
    assert.equal(later.exemption, null);
    assert.deepEqual(later.port25, { blocked: true, reason: 'blocked-class' });
  } finally { w.clock.set(NOW); }
});

test('quarantined: blocked by the quarantine whatever the class, the open case, the outside listing', async () => {
  const e = await explain(ADDR.quarantined);
  assert.deepEqual(e.port25, { blocked: true, reason: 'quarantine' });
  assert.equal(e.quarantine?.caseId, 'case-30');
  assert.equal(e.subscriber, 'gina');
  assert.deepEqual(e.openCase, { open: true, id: 'case-30', openedAt: NOW - 600_000 });
  assert.deepEqual(e.outsideDnsbl, [{ zone: 'xbl.example', answer: '127.0.0.4', since: NOW - 1_800_000 }]);
});

test('relays: a customer server inside dynamic space and our own relay may use port 25', async () => {
  const c = await explain(ADDR.customerServer);
  assert.equal(c.class, 'dynamic');
  assert.deepEqual(c.port25, { blocked: false, reason: 'customer-server' });
  assert.deepEqual(c.relay, { prefix: ADDR.customerServer, kind: 'customer' });
  assert.deepEqual(c.providerDnsbl, { listed: false });
  const p = await explain(ADDR.providerRelay);
  assert.equal(p.class, 'outside');
  assert.deepEqual(p.port25, { blocked: false, reason: 'relay' });
});

test('outside our space: not one of ours, nothing blocked by us', async () => {
  const e = await explain(ADDR.outside);
  assert.equal(e.class, 'outside');
  assert.equal(e.pool, null);
  assert.deepEqual(e.port25, { blocked: false, reason: 'not-ours' });
  assert.deepEqual(e.providerDnsbl, { listed: false });
});

test('parts that do not run here are reported as not checked; a bad address is refused in words; IPv4-mapped is IPv4', async () => {
  const bare: AppDeps = { clock: w.clock, logger: w.app.logger, policy: w.policy };
  const e = await explain(ADDR.quarantined, {}, bare);
  assert.equal(e.holders, null);
  assert.equal(e.openCase, null);
  assert.equal(e.outsideDnsbl, null);
  assert.equal(e.port25.reason, 'quarantine');
  await assert.rejects(explain('not-an-address'), (err: unknown) => err instanceof AppError && err.code === 'invalid-prefix' && /not IP/.test(err.message));
  await assert.rejects(explain(ADDR.dynamic, {}, { clock: w.clock, logger: w.app.logger }), (err: unknown) => err instanceof AppError && err.code === 'unavailable');
  assert.equal((await explain(`::ffff:${ADDR.dynamic}`)).address, ADDR.dynamic);
});

test('a signed-in subscriber may not run it (read scope for staff and tokens; the portal runs it as the system)', async () => {
  const op = await loadOperation('policy.explain');
  await assert.rejects(invoke(op, { address: ADDR.dynamic } as never, { actor: { kind: 'subscriber', name: 'a@isp.example', subscriber: 'alice', from: '198.51.100.10' } }, w.app, w.audit),
    (err: unknown) => err instanceof AppError && err.code === 'forbidden');
  const r = await invoke(op, { address: ADDR.dynamic } as never, { actor: { kind: 'token', name: 't', from: '127.0.0.1', scope: 'read' } }, w.app, w.audit) as Explanation;
  assert.equal(r.class, 'dynamic');
});

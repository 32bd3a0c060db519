// The operations on a real SQLite state store in a temp dir: each op's happy
// path and its coded errors, scope refusal for a token actor, and the audit row
// every mutation writes (secrets redacted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { AccountStore } from '../auth/index.ts';
import { PolicyStore } from '../netpolicy/index.ts';
import { AttributionLog } from '../accountability/index.ts';
import { Spool } from '../spool/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import {
  AUDIT_MIGRATIONS, AppError, AuditLog, checkInput, invoke, loadOperation, loadOperations,
  type Actor, type AppDeps, type AuditRow,
} from './index.ts';

const operator: Actor = { kind: 'operator', name: 'ops', from: 'cli' };
const token = (scope: 'read' | 'operate' | 'admin'): Actor => ({ kind: 'token', name: 'ci', from: '127.0.0.1', scope });

async function fixture(t: { after(fn: () => unknown): void }) {
  const tmp = tempDir('pw-app-');
  const store: Store = await openStore(join(tmp.path, 'state.db'));
  await store.migrate(AUDIT_MIGRATIONS);
  const clock = new ManualClock();
  const audit = new AuditLog(store.db);
  const attribution = new AttributionLog(store, { clock });
  const deps: AppDeps = {
    clock, logger: new MemoryLogger(), audit,
    accounts: new AccountStore(store, { clock, minPasswordLength: 10, scramIterations: 4096 }),
    tiers: { names: ['residential', 'gold'], defaultTier: 'residential' },
    policy: new PolicyStore(store, clock), attribution,
  };
  t.after(async () => { await attribution.close(); await store.close(); tmp.remove(); });
  /** Checks the input against the op's schema and invokes it, as every front end does. */
  const call = async <T = Record<string, unknown>>(name: string, input: Record<string, unknown>, actor: Actor = operator, reason?: string): Promise<T> => {
    const op = await loadOperation(name);
    checkInput(op, input);
    return invoke(op, input as never, { actor, ...(reason ? { reason } : {}) }, deps, audit, () => clock.now()) as Promise<T>;
  };
  const code = async (p: Promise<unknown>): Promise<string> => {
    try { await p; return 'ok'; } catch (e) { assert.ok(e instanceof AppError, String(e)); return `${e.code}: ${e.message}`; }
  };
  const rows = async (): Promise<AuditRow[]> => (await audit.list({ limit: 1000 })).entries;
  return { tmp, store, clock, deps, audit, call, code, rows };
}

test('accounts: add, show, list, passwd, aliases, disable/enable, remove; each mutation audited with its secret redacted', async (t) => {
  const { call, code, rows } = await fixture(t);
  const a = await call<{ login: string; tier: string; subscriber: string }>('accounts.add', { login: 'Alice@ISP.example', password: 'correct horse battery', subscriber: 'sub-1' });
  assert.deepEqual([a.login, a.tier, a.subscriber], ['alice@isp.example', 'residential', 'sub-1']);
  assert.equal((await call<{ scheme: string }>('accounts.show', { login: 'alice@isp.example' })).scheme, 'argon2id');
  assert.match(await code(call('accounts.add', { login: 'alice@isp.example', password: 'correct horse battery' })), /^exists: /);
  assert.match(await code(call('accounts.add', { login: 'bob@isp.example', password: 'short' })), /^invalid-password: password has 5 characters/);
  assert.match(await code(call('accounts.add', { login: 'bob@isp.example', hash: 'not-a-hash' })), /^invalid-hash: /);
  assert.match(await code(call('accounts.add', { login: 'no spaces@x', password: 'correct horse battery' })), /^invalid-login: /);
  assert.equal(await code(call('accounts.add', { login: 'bob@isp.example', password: 'correct horse battery', tier: 'platinum' })),
    'invalid-value: unknown tier "platinum" (configured: residential, gold)');
  await call('accounts.add', { login: 'bob@isp.example', password: 'correct horse battery', tier: 'gold', subscriber: 'sub-1' });

  await call('accounts.passwd', { login: 'bob@isp.example', password: 'another long password' });
  assert.match(await code(call('accounts.passwd', { login: 'nobody@isp.example', password: 'another long password' })), /^not-found: no account nobody@isp\.example/);
  await call('accounts.alias.add', { login: 'bob@isp.example', address: '@bob.example' });
  assert.match(await code(call('accounts.alias.add', { login: 'bob@isp.example', address: 'not an address' })), /^invalid-address: /);
  assert.deepEqual(await call('accounts.alias.remove', { login: 'bob@isp.example', address: '@bob.example' }), { done: true });
  assert.deepEqual(await call('accounts.alias.remove', { login: 'bob@isp.example', address: '@bob.example' }), { done: false });
  await call('accounts.disable', { login: 'bob@isp.example', reason: 'case 17' });
  const bob = await call<{ status: string; disabledReason: string }>('accounts.show', { login: 'bob@isp.example' });
  assert.deepEqual([bob.status, bob.disabledReason], ['disabled', 'case 17']);

  const subs = await call<{ subscribers: Array<{ id: string; tiers: string[]; accounts: string[]; status: string }> }>('subscribers.list', {});
  assert.deepEqual(subs.subscribers, [{ id: 'sub-1', tiers: ['gold', 'residential'], accounts: ['alice@isp.example', 'bob@isp.example'], status: 'partly-disabled' }]);
  assert.match(await code(call('subscribers.show', { id: 'sub-9' })), /^not-found: /);
  await call('accounts.enable', { login: 'bob@isp.example' });
  assert.equal((await call<{ status: string }>('subscribers.show', { id: 'sub-1' })).status, 'active');

  const page = await call<{ accounts: Array<{ login: string }>; next?: string }>('accounts.list', { limit: 1 });
  assert.deepEqual([page.accounts.map((x) => x.login), page.next], [['alice@isp.example'], 'alice@isp.example']);
  const page2 = await call<{ accounts: Array<{ login: string }> }>('accounts.list', { after: page.next, limit: 1 });
  assert.deepEqual(page2.accounts.map((x) => x.login), ['bob@isp.example']);
  assert.equal((await call<{ accounts: unknown[] }>('accounts.list', { status: 'disabled' })).accounts.length, 0);

  assert.deepEqual(await call('accounts.remove', { login: 'bob@isp.example' }), { done: true });
  assert.match(await code(call('accounts.remove', { login: 'bob@isp.example' })), /^not-found: no account bob@isp\.example/);

  const log = (await rows()).reverse();
  assert.deepEqual(log.map((r) => `${r.action} ${r.outcome}`), [
    'accounts.add ok', 'accounts.add exists', 'accounts.add invalid-password', 'accounts.add invalid-hash', 'accounts.add invalid-login',
    'accounts.add invalid-value', 'accounts.add ok', 'accounts.passwd ok', 'accounts.passwd not-found', 'accounts.alias.add ok',
    'accounts.alias.add invalid-address', 'accounts.alias.remove ok', 'accounts.alias.remove ok', 'accounts.disable ok', 'accounts.enable ok',
    'accounts.remove ok', 'accounts.remove not-found',
  ], 'reads write nothing; every mutation one row, refused ones with their code');
  assert.deepEqual(log[0], { id: 1, at: Date.UTC(2026, 0, 1), actorKind: 'operator', actor: 'ops', from: 'cli', action: 'accounts.add',
    object: 'account Alice@ISP.example', reason: '', outcome: 'ok',
    detail: '{"login":"Alice@ISP.example","password":"[redacted]","subscriber":"sub-1"}' });
  assert.equal(log[3].detail, '{"login":"bob@isp.example","hash":"[redacted]"}');
  assert.equal(log[13].reason, 'case 17', 'the input reason is the audit reason');
  for (const r of log) assert.doesNotMatch(r.detail, /correct horse|another long/);
});

test('accounts.import: a passwd-file; its text (it holds hashes) is never copied into the audit', async (t) => {
  const { call, rows } = await fixture(t);
  const text = 'carol@isp.example:{PLAIN}carols-long-password::::::\nbroken line\n';
  const r = await call<{ imported: number; skipped: Array<{ line: number }> }>('accounts.import', { text, allowPlain: true, tier: 'gold' });
  assert.equal(r.imported, 1);
  assert.deepEqual(r.skipped.map((s) => s.line), [2]);
  assert.equal((await call<{ tier: string }>('accounts.show', { login: 'carol@isp.example' })).tier, 'gold');
  const [row] = await rows();
  assert.equal(row.detail, '{"text":"[redacted]","allowPlain":true,"tier":"gold"}');
});

test('scopes: a read token reads and is refused changes (audited as forbidden); operate may disable but not add; admin may add; operators are not scoped', async (t) => {
  const { call, code, rows } = await fixture(t);
  await call('accounts.add', { login: 'dan@isp.example', password: 'dans long password' }, token('admin'));
  assert.equal((await call<{ accounts: unknown[] }>('accounts.list', {}, token('read'))).accounts.length, 1);
  assert.equal(await code(call('accounts.disable', { login: 'dan@isp.example' }, token('read'))), 'forbidden: accounts.disable needs scope operate');
  assert.equal(await code(call('accounts.add', { login: 'eve@isp.example', password: 'eves long password' }, token('operate'))), 'forbidden: accounts.add needs scope admin');
  assert.equal(await code(call('policy.pools.add', { prefix: '198.51.100.0/24', class: 'dynamic', reason: 'x' }, token('operate'))), 'forbidden: policy.pools.add needs scope admin');
  await call('accounts.disable', { login: 'dan@isp.example' }, token('operate'));
  const log = await rows();
  // A refused change is audited too: who tried what, with which token.
  assert.deepEqual(log.map((r) => `${r.actorKind}:${r.actor}@${r.from} ${r.action} ${r.outcome}`), [
    'token:ci@127.0.0.1 accounts.disable ok', 'token:ci@127.0.0.1 policy.pools.add forbidden', 'token:ci@127.0.0.1 accounts.add forbidden',
    'token:ci@127.0.0.1 accounts.disable forbidden', 'token:ci@127.0.0.1 accounts.add ok']);
});

test('policy: entries added, listed, removed; their errors coded; the policy store keeps its own audit too', async (t) => {
  const { call, code, rows, deps } = await fixture(t);
  await call('policy.pools.add', { prefix: '198.51.100.0/24', class: 'dynamic', reason: 'roll-out' });
  assert.match(await code(call('policy.pools.add', { prefix: '0.0.0.0/0', class: 'dynamic', reason: 'x' })), /^invalid-prefix: pool 0\.0\.0\.0\/0 is wider than \/8/);
  assert.match(await code(call('policy.pools.add', { prefix: '198.51.100.300', class: 'dynamic', reason: 'x' })), /^invalid-prefix: not an address or prefix/);
  assert.match(await code(call('policy.pools.add', { prefix: '198.51.100.0/25', class: 'business', reason: 'x' })), /^conflict: .*overlaps pool 198\.51\.100\.0\/24/);
  assert.equal(await code(call('policy.pools.add', { prefix: '203.0.113.0/24', class: 'dynamic' })), 'invalid-value: a change needs a reason (why)');
  assert.match(await code(call('policy.pools.add', { prefix: '203.0.113.0/24', class: 'purple', reason: 'x' })), /^bad-request: policy\.pools\.add: class /);
  await call('policy.exemptions.add', { prefix: '198.51.100.7', customer: 'c-7', expiresAt: Date.UTC(2026, 1, 1), reason: 'premium' }, token('operate'));
  await call('policy.relays.add', { prefix: '192.0.2.25', kind: 'provider', reason: 'mx-out' });
  await call('policy.quarantine.add', { prefix: '198.51.100.66', subscriber: 's-66', case: 'c1', reason: 'zombie' });
  await call('policy.garden.add', { prefix: '192.0.2.80', ports: '80,443', reason: 'help pages' });
  await call('policy.settings.set', { action: 'drop', reason: 'quiet' });
  assert.equal((await call<{ action: string }>('policy.settings.show', {})).action, 'drop');
  await call('policy.settings.set', { notice4: '192.0.2.80', notice6: '[2001:db8::80]:8080', reason: 'notice page' });
  assert.deepEqual(await call('policy.settings.show', {}), { subscriberIfaces: [], upstreamIfaces: [], action: 'drop', relay25: true, notice4: '192.0.2.80:80', notice6: '[2001:db8::80]:8080' });
  assert.match(await code(call('policy.settings.set', { notice4: 'portal.isp.example', reason: 'x' })), /notice4: "portal\.isp\.example" is not an IPv4 address/);

  assert.deepEqual((await call<{ items: Array<{ prefix: string }> }>('policy.pools.list', {})).items.map((p) => p.prefix), ['198.51.100.0/24']);
  const [ex] = (await call<{ items: Array<{ grantedBy: string; reason: string }> }>('policy.exemptions.list', {})).items;
  assert.deepEqual([ex.grantedBy, ex.reason], ['token:ci', 'premium'], 'a token is named as itself in the policy store');
  assert.equal((await call<{ items: unknown[] }>('policy.quarantine.list', {})).items.length, 1);
  const nft = await call<{ version: string; text: string }>('policy.compile', { format: 'nft' });
  assert.match(nft.text, /198\.51\.100\.0\/24/);
  const zone = await call<{ text: string }>('policy.compile', { format: 'rbldnsd' });
  assert.match(zone.text, /^198\.51\.100\.0\/24\n!198\.51\.100\.7\/32\n/m);
  const diff = await call<{ from: null; to: string; changes: Array<{ set: string; add: string[] }> }>('policy.diff', {});
  assert.equal(diff.from, null);
  assert.equal(diff.to, nft.version);
  assert.ok(diff.changes.some((d) => d.set === 'dynamic4' && d.add.includes('198.51.100.0/24')));
  assert.equal((await call<{ version: string }>('policy.show', {})).version, nft.version);
  deps.policy!.recordApplied('local', nft.version, {});
  assert.equal((await call<{ version: string }>('policy.applied', {})).version, nft.version);

  await call('policy.quarantine.release', { prefix: '198.51.100.66', reason: 'cleaned' });
  assert.match(await code(call('policy.quarantine.release', { prefix: '198.51.100.66', reason: 'again' })), /^not-found: no such entry: 198\.51\.100\.66/);
  await call('policy.pools.remove', { prefix: '198.51.100.0/24', reason: 'gone', by: 'alice' });
  assert.deepEqual((await call<{ entries: Array<{ actor: string; action: string }> }>('policy.audit', { limit: 2 })).entries.map((e) => `${e.actor} ${e.action}`),
    ['alice pool.remove', 'ops quarantine.remove']);
  assert.deepEqual((await call<{ edges: unknown[] }>('policy.edges', {})).edges, []);
  assert.deepEqual((await call<{ sources: unknown[] }>('policy.blocked', {})).sources, []);
  const log = await rows();
  assert.deepEqual(log.slice(0, 3).map((r) => `${r.action} ${r.object} ${r.outcome} ${r.reason}`), [
    'policy.pools.remove pool 198.51.100.0/24 ok gone', 'policy.quarantine.release quarantine 198.51.100.66 not-found again',
    'policy.quarantine.release quarantine 198.51.100.66 ok cleaned']);
  assert.ok(log.some((r) => r.outcome === 'invalid-prefix'));
  assert.ok(log.some((r) => r.outcome === 'bad-request') === false, 'a schema refusal happens before invoke: the front end answers it');
});

test('queue: without a spool every queue op is unavailable; with one, list/show/stats/hold/release/delete and selector errors', async (t) => {
  const { call, code, deps, tmp, rows } = await fixture(t);
  assert.match(await code(call('queue.list', {})), /^unavailable: the queue \(only the running server has it\)/);
  assert.match(await code(call('queue.flush', {})), /^unavailable: /);
  const spool = await Spool.open(join(tmp.path, 'spool'), { logger: deps.logger });
  t.after(() => spool.close());
  deps.spool = spool;
  const ids: string[] = [];
  for (const [account, from] of [['alice', 'alice@isp.example'], ['bob', 'bob@isp.example']]) {
    const w = spool.create({ mailFrom: { address: from }, recipients: [{ address: 'dave@example.net' }], account });
    w.stream.end(`From: <${from}>\r\nSubject: hi\r\n\r\nbody\r\n`);
    await w.commit();
    ids.push(w.id);
  }
  assert.deepEqual((await call<{ messages: Array<{ id: string }> }>('queue.list', {})).messages.map((m) => m.id).sort(), [...ids].sort());
  assert.equal((await call<{ headers: string }>('queue.show', { id: ids[1] })).headers, 'From: <bob@isp.example>\r\nSubject: hi\r\n');
  assert.equal(await code(call('queue.show', { id: '01KDZZZZZZ00000000' })), 'not-found: no such message in the queue');
  assert.equal(await code(call('queue.hold', {})), 'bad-request: give queue ids, ALL, --account or --sender');
  assert.equal(await code(call('queue.hold', { ids: [ids[0]], all: true })), 'bad-request: give queue ids or ALL, not both');
  const held = await call<{ done: string[] }>('queue.hold', { account: 'alice', reason: 'case 7' }, token('operate'));
  assert.deepEqual(held.done, [ids[0]]);
  assert.equal((await call<{ message: { holdReason: string } }>('queue.show', { id: ids[0] })).message.holdReason, 'held by operator: case 7');
  assert.equal((await call<{ hold: number }>('queue.stats', {})).hold, 1);
  assert.match(await code(call('queue.hold', { all: true }, token('read'))), /^forbidden: /);
  assert.deepEqual((await call<{ done: string[] }>('queue.release', { ids: [ids[0]] })).done, [ids[0]]);
  assert.deepEqual((await call<{ done: string[]; missing: string[] }>('queue.delete', { ids: [ids[1], '01KDZZZZZZ00000000'] })).missing, ['01KDZZZZZZ00000000']);
  assert.deepEqual((await rows()).slice(0, 4).map((r) => `${r.action} ${r.object} ${r.outcome}`), [
    `queue.delete queue ${ids[1]},01KDZZZZZZ00000000 ok`, `queue.release queue ${ids[0]} ok`, 'queue.hold queue ALL forbidden', 'queue.hold queue account=alice ok']);
  const logged = (deps.logger as MemoryLogger).records.filter((r) => r.event === 'queue').map((r) => r.op);
  assert.deepEqual(logged, ['hold', 'release', 'delete']);
});

test('trace: by queue id (any case), Message-ID and address at a time; limits: unavailable without the server, disabled says so', async (t) => {
  const { call, code, deps, clock } = await fixture(t);
  deps.attribution!.record({ queueId: '01KE0000000000000A', messageId: '<m1@isp.example>', account: 'alice@isp.example', subscriber: 's1',
    clientIp: '2001:DB8::1', clientPort: 40000, recipientCount: 1, size: 10 });
  deps.attribution!.flush();
  const byId = await call<{ kind: string; records: Array<{ account: string; clientIp: string }> }>('trace', { query: '01ke0000000000000a' });
  assert.deepEqual([byId.kind, byId.records[0].account, byId.records[0].clientIp], ['queue-id', 'alice@isp.example', '2001:db8::1']);
  assert.equal((await call<{ records: unknown[] }>('trace', { query: 'm1@isp.example' })).records.length, 1);
  assert.equal((await call<{ records: unknown[] }>('trace', { query: '[2001:db8::1]:40000', at: clock.now() + 60_000 })).records.length, 1);
  assert.equal((await call<{ records: unknown[] }>('trace', { query: '2001:db8::1', port: 40001 })).records.length, 0);
  assert.match(await code(call('trace', { query: 'x', port: 70000 })), /^bad-request: trace: port /);

  assert.match(await code(call('limits.show', { login: 'alice@isp.example' })), /^unavailable: the sending limits/);
  deps.limits = async (login) => ({ account: login, subscriber: 's1', tier: 'residential', status: 'active', rules: [] });
  assert.equal((await call<{ account: string }>('limits.show', { login: 'ALICE@isp.example' })).account, 'alice@isp.example');
  deps.limitsEnabled = false;
  assert.equal(await code(call('limits.show', { login: 'alice@isp.example' })), 'unavailable: limits are disabled in the configuration');
});

test('checkInput names the field: unknown, missing, wrong type, out of range', async () => {
  const ops = new Map((await loadOperations()).map((o) => [o.name, o]));
  const msg = (name: string, input: unknown): string => { try { checkInput(ops.get(name)!, input); return 'ok'; } catch (e) { return (e as AppError).message; } };
  assert.equal(msg('accounts.add', { login: 'a', password: 'b', extra: 1 }), 'accounts.add: unknown field "extra"');
  assert.match(msg('accounts.add', {}), /^accounts\.add: input must have required properties login/);
  assert.match(msg('accounts.list', { limit: 'ten' }), /^accounts\.list: limit must be integer/);
  assert.match(msg('audit.list', { limit: 5000 }), /^audit\.list: limit must be <= 1000/);
  assert.equal(msg('accounts.list', { limit: 10 }), 'ok');
});

test('the registry: unique names; each route under /api/v1 is REST-ish, its path parameters are input fields, reads are GET', async () => {
  const OPERATIONS = await loadOperations();
  assert.equal(await loadOperation('queue.hold'), OPERATIONS.find((o) => o.name === 'queue.hold'));
  await assert.rejects(loadOperation('queue.explode'), /no operation queue\.explode/);
  assert.equal(new Set(OPERATIONS.map((o) => o.name)).size, OPERATIONS.length);
  assert.equal(new Set(OPERATIONS.map((o) => `${o.http.method} ${o.http.path}`)).size, OPERATIONS.length, 'one op per route');
  for (const o of OPERATIONS) {
    const props = (o.input as { properties?: Record<string, unknown> }).properties ?? {};
    for (const p of o.http.path.match(/:\w+/g) ?? []) assert.ok(p.slice(1) in props, `${o.name}: ${p} is an input field`);
    assert.equal(o.mutates, o.http.method !== 'GET', `${o.name}: GET exactly for reads`);
    // Listing API tokens (names, scopes, who made them) and staff users (who may sign in, from where) is for admins only: the reads above read scope.
    if (o.name === 'tokens.list' || o.name.startsWith('staff.')) assert.equal(o.scope, 'admin', `${o.name}: admin only`);
    else assert.equal(o.mutates, o.scope !== 'read', `${o.name}: reads need read, changes need more`);
    assert.equal((o.input as { additionalProperties?: boolean }).additionalProperties, false, `${o.name}: a flat, closed input`);
  }
});

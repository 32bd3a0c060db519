// The directory's operations on a real SQLite store, as every front end runs
// them (checkInput, then invoke with the audit log): subscribers.put, the
// addresses.* questions and changes, subscribers.show and trace naming what the
// directory knows, the coded refusals, and the audit row of each mutation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { AccountStore } from '../auth/index.ts';
import { AttributionLog } from '../accountability/index.ts';
import { openDirectory } from '../directory/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { AUDIT_MIGRATIONS, AppError, AuditLog, checkInput, invoke, loadOperation, type Actor, type AppDeps } from './index.ts';

const operator: Actor = { kind: 'operator', name: 'ops', from: 'cli' };
const token = (scope: 'read' | 'operate' | 'admin'): Actor => ({ kind: 'token', name: 'desk', from: '127.0.0.1', scope });
const T = Date.parse('2026-11-30T10:00:00Z');

async function fixture(t: { after(fn: () => unknown): void }, withDirectory = true) {
  const tmp = tempDir('pw-dirops-');
  const store = await openStore(join(tmp.path, 'state.db'));
  await store.migrate(AUDIT_MIGRATIONS);
  const clock = new ManualClock(T + 3_600_000);
  const audit = new AuditLog(store.db);
  const attribution = new AttributionLog(store, { clock });
  const directory = withDirectory ? await openDirectory(store, { clock, logger: new MemoryLogger(), syncMs: 0 }) : undefined;
  const deps: AppDeps = { clock, logger: new MemoryLogger(), audit, accounts: new AccountStore(store, { clock, minPasswordLength: 10 }), attribution, directory };
  t.after(async () => { await directory?.close(); await attribution.close(); await store.close(); tmp.remove(); });
  const call = async <T = Record<string, unknown>>(name: string, input: Record<string, unknown>, actor: Actor = operator): Promise<T> => {
    const op = await loadOperation(name);
    checkInput(op, input);
    return invoke(op, input as never, { actor }, deps, audit, () => clock.now()) as Promise<T>;
  };
  const code = async (p: Promise<unknown>): Promise<string> => {
    try { await p; return 'ok'; } catch (e) { assert.ok(e instanceof AppError, String(e)); return `${e.code}: ${e.message}`; }
  };
  const audits = async () => (await audit.list({ limit: 100 })).entries.reverse().map((e) => [e.actor, e.action, e.object, e.outcome]);
  return { clock, deps, call, code, audits, attribution };
}

interface Who { address: string; port: number | null; at: number; holders: Array<{ subscriber: string; assignment: { prefix: string; portLo: number | null } }> }

test('subscribers.put then subscribers.show: the directory record and what is held now, beside the accounts; audited', async (t) => {
  const { call, code, audits } = await fixture(t);
  const rec = await call<{ id: string; tier: string; access: string[] }>('subscribers.put', { id: ' Cust-1 ', tier: 'business', contacts: ['owner@home.example'], access: ['radius:Alice'], reason: 'new contract' });
  assert.deepEqual([rec.id, rec.tier, rec.access], ['cust-1', 'business', ['radius:alice']]);
  await call('accounts.add', { login: 'alice@isp.example', password: 'correct horse battery', subscriber: 'cust-1' });
  await call('addresses.assign', { subscriber: 'cust-1', prefix: '2001:db8:7::/56', start: '2026-11-30T10:00:00Z', session: 'prov-1' });
  const show = await call<{ accounts: string[]; directory: { record: { contacts: string[] }; current: Array<{ prefix: string; start: number }> } }>('subscribers.show', { id: 'cust-1' });
  assert.deepEqual(show.accounts, ['alice@isp.example']);
  assert.deepEqual(show.directory.record.contacts, ['owner@home.example']);
  assert.deepEqual(show.directory.current.map((a) => [a.prefix, a.start]), [['2001:db8:7::/56', T]]);
  await call('addresses.assign', { subscriber: 'cust-2', prefix: '192.0.2.9', start: T });
  const only = await call<{ id: string; accounts: string[]; directory: { record: null; current: unknown[] } }>('subscribers.show', { id: 'CUST-2' });
  assert.deepEqual([only.id, only.accounts, only.directory.record, only.directory.current.length], ['cust-2', [], null, 1], 'known to the directory only');
  assert.match(await code(call('subscribers.show', { id: 'nobody' })), /^not-found: /);
  assert.match(await code(call('subscribers.put', { id: 'cust-3', contacts: ['no mailbox'] })), /^invalid-value: contacts: "no mailbox" is not a mailbox/);
  assert.match(await code(call('subscribers.put', { id: 'cust-3', access: ['radius:alice'] })), /^conflict: access radius:alice already names subscriber cust-1/);
  assert.match(await code(call('subscribers.put', { id: 'cust-4' }, token('operate'))), /^forbidden: subscribers\.put needs scope admin/);
  assert.deepEqual(await audits(), [
    ['ops', 'subscribers.put', 'subscriber cust-1', 'ok'],
    ['ops', 'accounts.add', 'account alice@isp.example', 'ok'],
    ['ops', 'addresses.assign', 'address 2001:db8:7::/56', 'ok'],
    ['ops', 'addresses.assign', 'address 192.0.2.9', 'ok'],
    ['ops', 'subscribers.put', 'subscriber cust-3', 'invalid-value'],
    ['ops', 'subscribers.put', 'subscriber cust-3', 'conflict'],
    ['desk', 'subscribers.put', 'subscriber cust-4', 'forbidden'],
  ]);
});

test('addresses.who: IP[:PORT] at ISO 8601 or epoch ms (default now); history; end; refusals with their codes', async (t) => {
  const { call, code, audits, clock } = await fixture(t);
  await call('addresses.assign', { subscriber: 'a', prefix: '100.64.1.1', portLo: 1024, portHi: 2047, start: T, session: 'n1' });
  await call('addresses.assign', { subscriber: 'b', prefix: '100.64.1.1', portLo: 2048, portHi: 3071, start: String(T), session: 'n2' });
  await call('addresses.assign', { subscriber: 'c', prefix: '100.64.1.1', portLo: 1024, portHi: 2047, start: T + 1_800_000, session: 'n3', source: 'static' });
  const at = async (address: string, more: Record<string, unknown> = {}) => (await call<Who>('addresses.who', { address, ...more })).holders.map((h) => h.subscriber);
  assert.deepEqual(await at('100.64.1.1:1500', { at: '2026-11-30T10:10:00Z' }), ['a']);
  assert.deepEqual(await at('100.64.1.1:1500', { at: T + 1_800_000 }), ['c'], 'the moved block');
  assert.deepEqual(await at('100.64.1.1', { port: 2048, at: String(T + 1) }), ['b']);
  assert.deepEqual((await at('100.64.1.1')).sort(), ['b', 'c'], 'now, no port: every block holder');
  const w = await call<Who>('addresses.who', { address: '100.64.1.1:2100' });
  assert.deepEqual([w.address, w.port, w.at], ['100.64.1.1', 2100, clock.now()]);
  const h = await call<{ assignments: Array<{ subscriber: string; end: number | null }> }>('addresses.history', { address: '100.64.1.1', from: '2026-11-30' });
  assert.deepEqual(h.assignments.map((x) => [x.subscriber, x.end]), [['c', null], ['b', null], ['a', T + 1_800_000]]);
  assert.deepEqual((await call<{ assignments: unknown[] }>('addresses.history', { subscriber: 'a', to: T - 1 })).assignments, []);
  const e = await call<{ ended: { subscriber: string; end: number } }>('addresses.end', { session: 'n2', at: '2026-11-30T10:45:00Z' });
  assert.deepEqual([e.ended.subscriber, e.ended.end], ['b', T + 2_700_000]);
  assert.match(await code(call('addresses.end', { session: 'n2' })), /^not-found: nothing held matches/);
  assert.match(await code(call('addresses.who', { address: 'mail.example' })), /^invalid-prefix: /);
  assert.match(await code(call('addresses.who', { address: '192.0.2.1', at: 'yesterday' })), /^invalid-value: at: "yesterday" is neither ISO 8601 nor ms/);
  assert.match(await code(call('addresses.assign', { subscriber: 'a', prefix: '192.0.2.1', portLo: 9, portHi: 1 })), /^invalid-value: port block 9-1: portLo is above portHi/);
  assert.match(await code(call('addresses.assign', { subscriber: 'a', prefix: '192.0.2.0/33' })), /^invalid-prefix: /);
  assert.match(await code(call('addresses.assign', { subscriber: 'a', prefix: '192.0.2.1', start: T, end: T - 1 })), /^invalid-value: end .* is before start/);
  assert.match(await code(call('addresses.history', {})), /^bad-request: /);
  assert.deepEqual((await audits()).map((r) => r.slice(1)), [
    ['addresses.assign', 'address 100.64.1.1:1024-2047', 'ok'], ['addresses.assign', 'address 100.64.1.1:2048-3071', 'ok'],
    ['addresses.assign', 'address 100.64.1.1:1024-2047', 'ok'],
    ['addresses.end', 'session n2', 'ok'], ['addresses.end', 'session n2', 'not-found'],
    ['addresses.assign', 'address 192.0.2.1:9-1', 'invalid-value'], ['addresses.assign', 'address 192.0.2.0/33', 'invalid-prefix'],
    ['addresses.assign', 'address 192.0.2.1', 'invalid-value'],
  ], 'reads are not audited; every change and refusal is');
});

test('trace IP[:PORT] names who held it then, from the directory; without a directory the field is absent', async (t) => {
  const { call, attribution } = await fixture(t);
  await call('addresses.assign', { subscriber: 'cust-9', prefix: '198.51.100.20', start: T, end: T + 600_000, session: 'k' });
  attribution.record({ queueId: 'Q1', account: 'x@isp.example', clientIp: '198.51.100.20', clientPort: 5000, time: T + 60_000, recipientCount: 1, size: 10 });
  const r = await call<{ records: unknown[]; holders: Array<{ subscriber: string; end: number }> }>('trace', { query: '198.51.100.20', at: T + 60_000 });
  assert.deepEqual([r.records.length, r.holders.map((h) => [h.subscriber, h.end])], [1, [['cust-9', T + 600_000]]]);
  assert.deepEqual((await call<{ holders: unknown[] }>('trace', { query: '198.51.100.20' })).holders, [], 'now: nobody holds it');
  assert.equal((await call<{ holders?: unknown }>('trace', { query: 'Q1' })).holders, undefined, 'only the IP form asks the directory');
  const none = await fixture(t, false);
  assert.equal((await none.call<{ holders?: unknown }>('trace', { query: '198.51.100.20' })).holders, undefined);
  assert.match(await none.code(none.call('addresses.who', { address: '192.0.2.1' })), /^unavailable: the subscriber directory is not available here/);
  assert.match(await none.code(none.call('subscribers.show', { id: 'nobody' })), /^not-found: /);
});

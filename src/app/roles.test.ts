import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog, AUDIT_MIGRATIONS, invoke, loadOperation, roleAllows } from './index.ts';
import { openStore } from '../store/index.ts';
import { systemClock, silentLogger } from '../core/index.ts';

test('roles: everyone reads, changes by area, admin-only areas hidden from the rest', () => {
  const read = { name: 'queue.list', mutates: false }, hold = { name: 'queue.hold', mutates: true }, del = { name: 'queue.delete', mutates: true };
  assert.deepEqual(['desk', 'postmaster', 'netops', 'admin'].map((r) => roleAllows(r as never, read)), [true, true, true, true]);
  assert.deepEqual(['desk', 'postmaster', 'netops', 'admin'].map((r) => roleAllows(r as never, hold)), [true, true, false, true]);
  assert.deepEqual(['desk', 'postmaster', 'netops', 'admin'].map((r) => roleAllows(r as never, del)), [false, true, false, true]);
  assert.equal(roleAllows('netops', { name: 'policy.settings.set', mutates: true }), true);
  assert.equal(roleAllows('desk', { name: 'policy.settings.set', mutates: true }), false);
  assert.equal(roleAllows('postmaster', { name: 'tokens.list', mutates: false }), false);
  assert.equal(roleAllows('admin', { name: 'tokens.list', mutates: false }), true);
});

test('invoke refuses a staff role and a subscriber outside their rights, and audits the refusal', async () => {
  const store = await openStore({ kind: 'sqlite', path: ':memory:' });
  await store.migrate(AUDIT_MIGRATIONS);
  const audit = new AuditLog(store.db);
  const op = await loadOperation('queue.delete');
  const deps = { clock: systemClock, logger: silentLogger };
  await assert.rejects(invoke(op, { id: 'x' } as never, { actor: { kind: 'staff', name: 'dana', role: 'desk', from: '192.0.2.1' } }, deps, audit), /not allowed to the desk role/);
  await assert.rejects(invoke(op, { id: 'x' } as never, { actor: { kind: 'subscriber', name: 'alice@example.net', subscriber: 'c1', from: '192.0.2.2' } }, deps, audit), /not a subscriber's operation/);
  const rows = (await audit.list({})).entries;
  assert.deepEqual(rows.map((r) => [r.actorKind, r.actor, r.outcome]).sort(), [['staff', 'dana', 'forbidden'], ['subscriber', 'alice@example.net', 'forbidden']]);
  await store.close();
});

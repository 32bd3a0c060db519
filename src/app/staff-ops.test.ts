// The staff.* operations through invoke() on SQLite: admin only (a desk role and a
// read token are refused, and the refusal audited), secrets in the answer and never
// in the audit, and each change's effect on sessions and locks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import {
  AUDIT_MIGRATIONS, AuditLog, STAFF_MIGRATIONS, StaffRepository, addressKey, checkInput, invoke, loadOperation, nameKey,
  type Actor, type AppDeps,
} from './index.ts';

test('staff.*: admin only; add answers the secret once; passwd, role, disable, totp.reset end sessions; unlock clears name and address', async (t) => {
  const tmp = tempDir('pw-staff-ops-');
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(async () => { await store.close(); tmp.remove(); });
  await store.migrate([...AUDIT_MIGRATIONS, ...STAFF_MIGRATIONS]);
  const clock = new ManualClock();
  const audit = new AuditLog(store.db);
  const staff = new StaffRepository(store.db, () => clock.now());
  const deps: AppDeps = { clock, logger: new MemoryLogger(), audit, staff };
  const admin: Actor = { kind: 'staff', name: 'root', role: 'admin', from: '192.0.2.1' };
  const call = async <T = Record<string, unknown>>(name: string, input: Record<string, unknown>, actor: Actor = admin): Promise<T> => {
    const op = await loadOperation(name);
    checkInput(op, input);
    return invoke(op, input as never, { actor }, deps, audit, () => clock.now()) as Promise<T>;
  };
  const added = await call<{ name: string; otpauthUri: string; secret: string; password?: string }>('staff.add', { name: 'Desk.One', role: 'desk', password: 'given passphrase' });
  assert.equal(added.name, 'desk.one');
  assert.equal(added.password, undefined);
  assert.match(added.otpauthUri, /^otpauth:\/\/totp\/portwarden:desk\.one\?/);
  const row = (await audit.list({ action: 'staff.add' })).entries[0];
  assert.deepEqual([row.object, row.detail.includes('given passphrase')], ['staff desk.one', false]);
  for (const actor of [{ kind: 'staff', name: 'd', role: 'desk', from: 'x' }, { kind: 'token', name: 'ro', scope: 'read', from: 'x' }] as Actor[]) {
    await assert.rejects(call('staff.list', {}, actor), (e: { code?: string }) => e.code === 'forbidden');
    await assert.rejects(call('staff.disable', { name: 'desk.one' }, actor), (e: { code?: string }) => e.code === 'forbidden');
  }
  assert.equal((await audit.list({ action: 'staff.disable' })).entries.filter((e) => e.outcome === 'forbidden').length, 2);
  const session = () => staff.access.createSession('desk.one', 'ok', 'x');
  for (const [op, input] of [['staff.passwd', {}], ['staff.role', { role: 'netops' }], ['staff.totp.reset', {}], ['staff.disable', {}]] as const) {
    await session();
    const out = await call<Record<string, unknown>>(op, { name: 'desk.one', ...input });
    assert.equal(await staff.sessionCount('desk.one'), 0, `${op} ends the sessions`);
    if (op === 'staff.passwd') assert.match(String(out.password), /^[A-Za-z2-9]{20}$/);
    if (op === 'staff.totp.reset') assert.notEqual(out.secret, added.secret);
  }
  const shown = await call<{ role: string; disabledAt: number | null; mustChangePassword: boolean; sessions: number }>('staff.show', { name: 'DESK.ONE' });
  assert.deepEqual([shown.role, shown.disabledAt, shown.mustChangePassword, shown.sessions], ['netops', clock.now(), true, 0]);
  await staff.access.fail([{ key: nameKey('desk.one'), attempts: 1 }, { key: addressKey('203.0.113.9'), attempts: 1 }], 60_000);
  assert.deepEqual(await call('staff.unlock', { name: 'desk.one', address: '203.0.113.9' }), { name: true, address: true });
  assert.equal(await staff.access.lockedUntil([nameKey('desk.one'), addressKey('203.0.113.9')]), null);
  await assert.rejects(call('staff.show', { name: 'nobody' }), (e: { code?: string }) => e.code === 'not-found');
  await call('staff.remove', { name: 'desk.one' });
  assert.deepEqual((await call<{ staff: unknown[] }>('staff.list', {})).staff, []);
});

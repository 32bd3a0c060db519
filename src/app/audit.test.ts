// The audit repository on a real SQLite store: filters, the action prefix, and
// newest-first keyset pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../store/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { AUDIT_MIGRATIONS, AuditLog, type AuditEntry } from './index.ts';

test('audit: written rows come back newest first, filtered by time, actor, action (or prefix) and object, in pages', async (t) => {
  const tmp = tempDir('pw-audit-');
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(async () => { await store.close(); tmp.remove(); });
  await store.migrate(AUDIT_MIGRATIONS);
  await store.migrate(AUDIT_MIGRATIONS); // a second time: already applied, no error
  const log = new AuditLog(store.db);
  const base: AuditEntry = { at: 0, actorKind: 'operator', actor: 'ops', from: 'cli', action: 'accounts.add', object: 'account a', reason: '', outcome: 'ok', detail: '{}' };
  const at0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 7; i++) {
    await log.write({ ...base, at: at0 + i * 1000, action: i % 2 ? 'policy.pools.add' : 'accounts.add', actor: i < 5 ? 'ops' : 'desk', object: `obj ${i}` });
  }
  const all = await log.list();
  assert.deepEqual(all.entries.map((e) => e.id), [7, 6, 5, 4, 3, 2, 1]);
  assert.equal(all.next, undefined, 'one page: no cursor');
  assert.deepEqual(all.entries[6], { ...base, id: 1, at: at0, object: 'obj 0' });

  const p1 = await log.list({ limit: 3 });
  assert.deepEqual([p1.entries.map((e) => e.id), p1.next], [[7, 6, 5], 5]);
  const p2 = await log.list({ limit: 3, after: p1.next });
  assert.deepEqual([p2.entries.map((e) => e.id), p2.next], [[4, 3, 2], 2]);
  const p3 = await log.list({ limit: 3, after: p2.next });
  assert.deepEqual([p3.entries.map((e) => e.id), p3.next], [[1], undefined]);

  assert.deepEqual((await log.list({ since: at0 + 2000, until: at0 + 4000 })).entries.map((e) => e.id), [4, 3]);
  assert.deepEqual((await log.list({ actor: 'desk' })).entries.map((e) => e.id), [7, 6]);
  assert.deepEqual((await log.list({ action: 'policy.' })).entries.map((e) => e.id), [6, 4, 2]);
  assert.deepEqual((await log.list({ action: 'policy' })).entries.map((e) => e.id), [], 'no dot: an exact action');
  assert.deepEqual((await log.list({ action: 'accounts.add', object: 'obj 2' })).entries.map((e) => e.id), [3]);
  assert.equal((await log.list({ limit: 0 })).entries.length, 1, 'a page holds at least one row');
});

test('audit: filtered by outcome (the refused changes alone)', async (t) => {
  const tmp = tempDir('pw-audit-');
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(async () => { await store.close(); tmp.remove(); });
  await store.migrate(AUDIT_MIGRATIONS);
  const log = new AuditLog(store.db);
  const base: AuditEntry = { at: 0, actorKind: 'staff', actor: 'dora', from: '127.0.0.1', action: 'queue.delete', object: 'queue x', reason: '', outcome: 'ok', detail: '{}' };
  for (const outcome of ['ok', 'forbidden', 'ok', 'not-found', 'forbidden']) await log.write({ ...base, outcome });
  assert.deepEqual((await log.list({ outcome: 'forbidden' })).entries.map((e) => e.id), [5, 2]);
  assert.deepEqual((await log.list({ outcome: 'ok', limit: 1 })).entries.map((e) => e.id), [3]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../../store/index.ts';
import { tempDir } from '../../../test/lib/tools.ts';
import { ABUSE_MIGRATIONS } from './schema.ts';
import { CaseStore } from './store.ts';

test('unattributed rows: older than the retention go, and beyond the cap only the newest stay', async (t) => {
  const d = tempDir('pw-abuse-store-');
  const store = await openStore(join(d.path, 'state.db'));
  t.after(async () => { await store.close(); d.remove(); });
  await store.migrate(ABUSE_MIGRATIONS);
  const s = new CaseStore(store.db);
  await s.upsertUnattributed(Array.from({ length: 10 }, (_, i) => ({
    id: i + 1, reason: 'no-holder', class: 'auth-failure' as const, address: `203.0.113.${i}`, port: null, origin: 'submission',
    amount: 1, count: 1, firstAt: i * 1000, lastAt: i * 1000, detail: {},
  })));
  assert.equal(await s.pruneUnattributed(2000, 1000), 2, 'the two older than 2 s');
  assert.equal(await s.pruneUnattributed(0, 3), 5, 'all but the newest three');
  assert.deepEqual((await s.listUnattributed(100)).map((r) => r.address), ['203.0.113.9', '203.0.113.8', '203.0.113.7']);
});

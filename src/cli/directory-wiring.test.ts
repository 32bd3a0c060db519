// The directory's wiring: the server's prune by directory.retentionDays, and the
// CLI's handle that opens the directory (its migrations) only when first used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import type { Config } from '../config/index.ts';
import { tempDir } from '../../test/lib/tools.ts';
import { lazyDirectory, startDirectory } from './directory-wiring.ts';

const DAY = 86_400_000;

test('the prune deletes what ended more than retentionDays ago, and logs how many', async (t) => {
  const tmp = tempDir('pw-dirwire-');
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(async () => { await store.close(); tmp.remove(); });
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  const logger = new MemoryLogger();
  const nd = await startDirectory({ store, cfg: { directory: { retentionDays: 30 } } as Config, logger, clock });
  t.after(() => nd.close());
  const t0 = clock.now();
  await nd.directory.assign({ subscriber: 'a', prefix: '192.0.2.1', start: t0, end: t0 + DAY, source: 'kea', session: 'old' });
  await nd.directory.assign({ subscriber: 'a', prefix: '192.0.2.2', start: t0, end: t0 + 20 * DAY, source: 'kea', session: 'newer' });
  await nd.directory.assign({ subscriber: 'a', prefix: '192.0.2.3', start: t0, source: 'kea', session: 'open' });
  clock.advance(40 * DAY);
  assert.equal(await nd.prune(), 1);
  assert.deepEqual(logger.records.filter((r) => r.event === 'directory-prune').map((r) => [r.deleted, r.retentionDays]), [[1, 30]]);
  assert.deepEqual((await nd.directory.history({ subscriber: 'a' })).map((x) => x.prefix).sort(), ['192.0.2.2', '192.0.2.3']);
});

test('the CLI handle opens the directory on first use only, and closes only what it opened', async (t) => {
  const tmp = tempDir('pw-dirwire-');
  const store = await openStore(join(tmp.path, 'state.db'));
  t.after(async () => { await store.close(); tmp.remove(); });
  const tables = async () => (await store.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE name = 'directory_assignments'")).length;
  const unused = lazyDirectory(store, new MemoryLogger());
  await unused.close();
  assert.equal(await tables(), 0, 'a command that never asks the directory does not migrate it');
  const used = lazyDirectory(store, new MemoryLogger());
  assert.deepEqual(await used.directory.holdersAt('192.0.2.1', Date.now()), []);
  assert.equal(await tables(), 1);
  await used.directory.assign({ subscriber: 'b', prefix: '192.0.2.1', start: 1, source: 'api' });
  assert.deepEqual((await used.directory.holdersAt('192.0.2.1', Date.now())).map((h) => h.subscriber), ['b']);
  await used.close();
});

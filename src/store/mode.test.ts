// The state file holds password hashes, SCRAM keys and the attribution log:
// created 0600 whatever the umask, and SQLite's -wal/-shm follow its mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/lib/tools.ts';
import { openStore } from './index.ts';

test('a new state.db and its -wal/-shm are 0600 under umask 000 and 0277', async (t) => {
  const dir = tempDir('pw-store-mode-');
  t.after(() => dir.remove());
  for (const [umask, name] of [[0o000, 'a.db'], [0o277, 'b.db']] as const) {
    const old = process.umask(umask);
    try {
      const s = await openStore(join(dir.path, name));
      await s.db.run('CREATE TABLE t (x)');
      await s.db.run('INSERT INTO t VALUES (1)');
      for (const f of [name, `${name}-wal`, `${name}-shm`]) {
        assert.equal((statSync(join(dir.path, f)).mode & 0o777).toString(8), '600', `${f} under umask ${umask.toString(8)}`);
      }
      await s.close();
    } finally {
      process.umask(old);
    }
  }
});

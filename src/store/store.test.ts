import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openStore } from './index.ts';

test('migrations apply once and transactions roll back on throw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
  try {
    const path = join(dir, 'state.db');
    const m = [{ id: 't/001', sql: 'CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)' }];
    let s = openStore(path);
    s.migrate(m);
    s.db.prepare('INSERT INTO t VALUES (?, ?)').run('a', 1);
    assert.throws(() => s.transaction(() => {
      s.db.prepare('INSERT INTO t VALUES (?, ?)').run('b', 2);
      throw new Error('boom');
    }), /boom/);
    s.close();
    s = openStore(path);
    s.migrate(m); // second time: no "table exists" error
    assert.deepEqual(s.db.prepare('SELECT k FROM t ORDER BY k').all().map((r) => r.k), ['a']);
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

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

test("a migration's run step executes after its sql in the same transaction: a throw leaves neither it nor the ledger mark", () => {
  const store = openStore(':memory:');
  try {
    const m = { id: 't/001-run', sql: 'CREATE TABLE t (v TEXT)', run: (db: typeof store.db) => { db.exec("INSERT INTO t VALUES ('a')"); throw new Error('step failed'); } };
    assert.throws(() => store.migrate([m]), /step failed/);
    assert.equal(store.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 't'").get(), undefined);
    assert.equal(store.db.prepare("SELECT 1 FROM schema_migrations WHERE id = 't/001-run'").get(), undefined);
    let runs = 0;
    const good = { ...m, run: (db: typeof store.db) => { runs++; db.exec("INSERT INTO t VALUES ('a')"); } };
    store.migrate([good]);
    store.migrate([good]);
    assert.equal(runs, 1);
    assert.deepEqual(store.db.prepare('SELECT v FROM t').all().map((r) => r.v), ['a']);
  } finally { store.close(); }
});

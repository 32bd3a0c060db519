import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../../test/lib/tools.ts';
import { openStore, type Db, type DbMigration } from './index.ts';
import { toPositional } from './placeholders.ts';

test('migrations apply once and transactions roll back on throw', async (t) => {
  const dir = tempDir('pw-store-');
  t.after(() => dir.remove());
  const path = join(dir.path, 'state.db');
  const m: DbMigration[] = [{ id: 't/001', sqlite: 'CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)', postgres: '' }];
  let s = await openStore(path);
  await s.migrate(m);
  await s.db.run('INSERT INTO t VALUES (?, ?)', ['a', 1]);
  await assert.rejects(s.transaction(async (tx) => {
    await tx.run('INSERT INTO t VALUES (?, ?)', ['b', 2]);
    throw new Error('boom');
  }), /boom/);
  await s.close();
  s = await openStore(path);
  await s.migrate(m); // second time: no "table exists" error
  assert.deepEqual((await s.db.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k), ['a']);
  await s.close();
});

test("a migration's run step executes after its sql in the same transaction: a throw leaves neither it nor the ledger mark", async () => {
  const store = await openStore(':memory:');
  try {
    const m: DbMigration = { id: 't/001-run', sqlite: 'CREATE TABLE t (v TEXT)', postgres: '', run: async (tx) => { await tx.run("INSERT INTO t VALUES ('a')"); throw new Error('step failed'); } };
    await assert.rejects(store.migrate([m]), /step failed/);
    assert.equal(await store.db.get("SELECT 1 AS x FROM sqlite_master WHERE name = 't'"), undefined);
    assert.equal(await store.db.get("SELECT 1 AS x FROM schema_migrations WHERE id = 't/001-run'"), undefined);
    let runs = 0;
    const good: DbMigration = { ...m, run: async (tx: Db) => { runs++; await tx.run("INSERT INTO t VALUES ('a')"); } };
    await store.migrate([good]);
    await store.migrate([good]);
    assert.equal(runs, 1);
    assert.deepEqual((await store.db.all<{ v: string }>('SELECT v FROM t')).map((r) => r.v), ['a']);
  } finally { await store.close(); }
});

test('`?` becomes $n outside quoted strings, quoted names, dollar quotes and comments', () => {
  assert.equal(toPositional('SELECT a FROM t WHERE x = ? AND y IN (?, ?)'), 'SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)');
  assert.equal(toPositional("SELECT '?', 'it''s ?', \"col?\" FROM t WHERE v = ?"), "SELECT '?', 'it''s ?', \"col?\" FROM t WHERE v = $1");
  assert.equal(toPositional('SELECT $$ ? $$, $q$ ? $q$ WHERE a = ? -- why?\n AND b = ? /* ? */'), 'SELECT $$ ? $$, $q$ ? $q$ WHERE a = $1 -- why?\n AND b = $2 /* ? */');
  assert.equal(toPositional("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
});

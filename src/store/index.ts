// store: the embedded state store, SQLite through Node's built-in node:sqlite.
// Trusts its callers (it runs their SQL); owns the file, WAL mode and the
// migration ledger. Each part registers its own schema as named migrations,
// applied once, in order, inside a transaction. A PostgreSQL backend for fleets
// is planned behind the same small surface (DESIGN.md "store").
import { closeSync, fchmodSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { SqliteDb } from './sqlite.ts';

export interface Migration {
  /** Unique, stable id, e.g. "auth/001-accounts". */
  id: string;
  sql: string;
  /** A step SQL cannot express, run after sql inside the same transaction as the ledger mark. */
  run?: (db: DatabaseSync) => void;
}

export interface Store {
  readonly db: DatabaseSync;
  /** The async surface (src/store/db.ts) repositories are written against; the sync `db` goes away (issue 11). */
  readonly adb: SqliteDb;
  readonly path: string;
  /** Applies the migrations not yet applied, in the given order. */
  migrate(migrations: readonly Migration[]): void;
  /** Runs fn in one transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export type { Db, DbMigration, Dialect, Param, Row } from './db.ts';
export { SqliteDb } from './sqlite.ts';

export function openStore(path: string): Store {
  if (path !== ':memory:') createPrivate(path);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  let depth = 0;
  const store: Store = {
    db,
    adb: new SqliteDb(db),
    path,
    migrate(migrations) {
      const has = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?');
      const mark = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
      for (const m of migrations) {
        if (has.get(m.id)) continue;
        store.transaction(() => {
          db.exec(m.sql);
          m.run?.(db);
          mark.run(m.id, Date.now());
        });
      }
    },
    transaction(fn) {
      if (depth > 0) return fn();
      db.exec('BEGIN IMMEDIATE');
      depth++;
      try {
        const out = fn();
        db.exec('COMMIT');
        return out;
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      } finally {
        depth--;
      }
    },
    close() {
      db.close();
    },
  };
  return store;
}

/**
 * Password hashes, SCRAM keys and the attribution log live in this file: a new
 * one is made 0600 here (SQLite would make it 0644 less the umask). SQLite
 * gives its -wal and -shm files the database file's mode, so they follow.
 */
function createPrivate(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, 0o600); // the umask may have taken more than group and others
  } finally {
    closeSync(fd);
  }
}

// store: the state store behind every part's repositories, as one async `Db`
// surface (db.ts) with two implementations: SQLite through Node's built-in
// node:sqlite (the embedded default: one file, WAL) and PostgreSQL through `pg`
// (a fleet: every node on one database). Trusts its callers (it runs their SQL);
// owns the file or the pool and the migration ledger. Each part registers its
// own schema as named migrations (one text per dialect), applied once, in order,
// each inside a transaction; on PostgreSQL under an advisory lock so nodes
// starting together do not race (DESIGN.md "store").
import { closeSync, fchmodSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { Db, DbMigration, Dialect } from './db.ts';
import { SqliteDb } from './sqlite.ts';

export type StoreConfig =
  | { kind: 'sqlite'; path: string; /** How long a statement waits for another process's write lock (default 5000 ms). */ busyTimeoutMs?: number }
  | { kind: 'postgres'; url: string; poolSize?: number };

export interface Store {
  /** The async surface repositories are written against. */
  readonly db: Db;
  readonly dialect: Dialect;
  /** The SQLite file (':memory:' for none), or the PostgreSQL URL without its password. */
  readonly location: string;
  /** Applies the migrations not yet applied, in the given order, each in one transaction. */
  migrate(migrations: readonly DbMigration[]): Promise<void>;
  /** Runs fn in one transaction on one connection (db.transaction). */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type { Db, DbMigration, Dialect, Param, Row } from './db.ts';

/** A path opens SQLite (the form tests and tools use most). */
export async function openStore(cfg: StoreConfig | string): Promise<Store> {
  const c: StoreConfig = typeof cfg === 'string' ? { kind: 'sqlite', path: cfg } : cfg;
  if (c.kind === 'postgres') return openPostgres(c.url, c.poolSize);
  return openSqlite(c.path, c.busyTimeoutMs ?? 5000);
}

function openSqlite(path: string, busyTimeoutMs: number): Store {
  if (path !== ':memory:') createPrivate(path);
  const raw = new DatabaseSync(path);
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}; PRAGMA foreign_keys = ON;`);
  const db = new SqliteDb(raw);
  return withLedger(db, 'sqlite', path, (m) => db.migrate(m), async () => db.close());
}

async function openPostgres(url: string, poolSize: number | undefined): Promise<Store> {
  // Loaded only when configured: an embedded server never pays for pg's modules at start.
  const { PgDb } = await import('./postgres.ts');
  const db = new PgDb({ url, poolSize });
  try {
    await db.get('SELECT 1 AS x'); // fail here, with the server's reason, rather than at the first lookup
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return withLedger(db, 'postgres', redactUrl(url), (m) => db.migrate(m), () => db.close());
}

/**
 * migrate() calls are chained, so two repositories migrating the same ids at once (AccountStore and
 * KnownPrefixTable share AUTH_MIGRATIONS) apply each once; ids already applied by this store are skipped
 * without a query.
 */
function withLedger(db: Db, dialect: Dialect, location: string, apply: (m: readonly DbMigration[]) => Promise<void>, close: () => Promise<void>): Store {
  const done = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  return {
    db, dialect, location,
    migrate(migrations) {
      const todo = migrations.filter((m) => !done.has(m.id));
      const next = chain.then(async () => {
        if (!todo.length) return;
        await apply(todo);
        for (const m of todo) done.add(m.id);
      });
      chain = next.catch(() => {});
      return next;
    },
    transaction: (fn) => db.transaction(fn),
    async close() {
      if (closed) return;
      closed = true;
      await chain;
      await close();
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
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

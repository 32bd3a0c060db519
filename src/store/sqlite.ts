// The SQLite implementation of the async Db surface (node:sqlite is
// synchronous: each call runs at once; transaction() serialises so another
// caller's statement never lands inside an open transaction).
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Db, DbMigration, Param, Row } from './db.ts';

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly raw: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();
  /** Resolves when the open transaction (if any) ends; statements outside it wait for it. */
  private busy: Promise<void> | null = null;
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  private st(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) { s = this.raw.prepare(sql); this.cache.set(sql, s); }
    return s;
  }

  async all<T = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    while (this.busy) await this.busy; // no await between this check and the statement
    return this.direct.all<T>(sql, params);
  }
  async get<T = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    while (this.busy) await this.busy; // no await between this check and the statement
    return this.direct.get<T>(sql, params);
  }
  async run(sql: string, params: readonly Param[] = []): Promise<{ changes: number }> {
    while (this.busy) await this.busy; // no await between this check and the statement
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    while (this.busy) await this.busy;
    let done!: () => void;
    this.busy = new Promise<void>((r) => { done = r; });
    this.raw.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn(this.direct);
      this.raw.exec('COMMIT');
      return out;
    } catch (err) {
      this.raw.exec('ROLLBACK');
      throw err;
    } finally {
      this.busy = null;
      done();
    }
  }

  /** The handle a transaction's fn gets: runs at once, and nested transaction() just runs fn. */
  private readonly direct: Db = {
    dialect: 'sqlite',
    all: async <T = Row>(sql: string, params: readonly Param[] = []) => this.st(sql).all(...(params as never[])) as T[],
    get: async <T = Row>(sql: string, params: readonly Param[] = []) => this.st(sql).get(...(params as never[])) as T | undefined,
    run: async (sql: string, params: readonly Param[] = []) => ({ changes: Number(this.st(sql).run(...(params as never[])).changes) }),
    transaction: async <T>(fn: (tx: Db) => Promise<T>) => fn(this.direct),
  };

  /** Applies the migrations not yet applied (ledger: schema_migrations), each in one transaction. */
  async migrate(migrations: readonly DbMigration[]): Promise<void> {
    this.raw.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of migrations) {
      if (await this.get('SELECT 1 AS x FROM schema_migrations WHERE id = ?', [m.id])) continue;
      await this.transaction(async (tx) => {
        this.raw.exec(m.sqlite);
        await m.run?.(tx);
        await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
      });
    }
  }
}

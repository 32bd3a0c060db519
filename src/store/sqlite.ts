// The SQLite implementation of the async Db surface (node:sqlite is
// synchronous: each call runs at once; transaction() serialises so another
// caller's statement never lands inside an open transaction).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Db, DbMigration, Param, Row } from './db.ts';

export const LEDGER_DDL = 'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)';

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly raw: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();
  /** Resolves when the open transaction (if any) ends; statements outside it wait for it. */
  private busy: Promise<void> | null = null;
  /**
   * Marks the async context of the open transaction's fn: a statement issued there through this
   * outer handle (a repository method called inside another's transaction) runs inside the
   * transaction instead of waiting for it forever.
   */
  private readonly inside = new AsyncLocalStorage<object>();
  private token: object | null = null;
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  /** Prepared once per SQL text: the hot-path lookups (authRecord, mayUseAddress) run per session. */
  private st(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) { s = this.raw.prepare(sql); this.cache.set(sql, s); }
    return s;
  }

  private mine(): boolean {
    return this.token !== null && this.inside.getStore() === this.token;
  }

  async all<T = Row>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    while (this.busy && !this.mine()) await this.busy; // no await between this check and the statement
    return this.st(sql).all(...(params as never[])) as T[];
  }
  async get<T = Row>(sql: string, params: readonly Param[] = []): Promise<T | undefined> {
    while (this.busy && !this.mine()) await this.busy; // no await between this check and the statement
    return this.st(sql).get(...(params as never[])) as T | undefined;
  }
  async run(sql: string, params: readonly Param[] = []): Promise<{ changes: number }> {
    while (this.busy && !this.mine()) await this.busy; // no await between this check and the statement
    return { changes: Number(this.st(sql).run(...(params as never[])).changes) };
  }

  /**
   * BEGIN IMMEDIATE … COMMIT around fn; ROLLBACK when fn throws. While fn awaits, every other
   * caller's statement and transaction waits (an async mutex): node:sqlite has one connection,
   * so anything run meanwhile would land inside this transaction.
   */
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.mine()) return fn(this.direct);
    while (this.busy) await this.busy;
    let done!: () => void;
    this.busy = new Promise<void>((r) => { done = r; });
    try {
      this.raw.exec('BEGIN IMMEDIATE');
    } catch (err) {
      this.busy = null;
      done();
      throw err;
    }
    const token = {};
    this.token = token;
    try {
      const out = await this.inside.run(token, () => fn(this.direct));
      this.raw.exec('COMMIT');
      return out;
    } catch (err) {
      if (this.raw.isTransaction) this.raw.exec('ROLLBACK');
      throw err;
    } finally {
      this.token = null;
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
    while (this.busy) await this.busy;
    this.raw.exec(LEDGER_DDL);
    for (const m of migrations) {
      if (await this.get('SELECT 1 AS x FROM schema_migrations WHERE id = ?', [m.id])) continue;
      await this.transaction(async (tx) => {
        // Checked again inside: another migrate() of the same ids may have run while this one waited.
        if (await tx.get('SELECT 1 AS x FROM schema_migrations WHERE id = ?', [m.id])) return;
        if (m.sqlite.trim()) this.raw.exec(m.sqlite);
        await m.run?.(tx);
        await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
      });
    }
  }

  close(): void {
    this.cache.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}

// The PostgreSQL implementation of the async Db surface, on a `pg` Pool.
// Statements outside a transaction take any pooled connection; a transaction
// checks one out and runs BEGIN … COMMIT (ROLLBACK on throw) on it. BIGINT
// (ms timestamps, ids, COUNT(*)) comes back as a JS number: every value we
// store is far below 2^53.
import pg from 'pg';
import type { Db, DbMigration, Param, Row } from './db.ts';
import { toPositional } from './placeholders.ts';

/** Taken around migrating, so two nodes starting at once do not both apply a migration. */
const MIGRATE_LOCK = 0x706f7274; // "port"
const LEDGER_DDL = 'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)';

const BIGINT = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === BIGINT && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PgOptions {
  url: string;
  /** Most connections this process opens (default 10). */
  poolSize?: number;
  /** Falls back to the PGPASSWORD environment variable when the URL has none (pg's own rule). */
  password?: string;
}

const rewritten = new Map<string, string>();
function text(sql: string): string {
  let t = rewritten.get(sql);
  if (t === undefined) {
    t = toPositional(sql);
    if (rewritten.size < 10_000) rewritten.set(sql, t);
  }
  return t;
}

function values(params: readonly Param[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : p));
}

type Queryable = pg.Pool | pg.PoolClient;

function surface(q: Queryable, transaction: Db['transaction']): Db {
  return {
    dialect: 'postgres',
    all: async <T = Row>(sql: string, params: readonly Param[] = []) => (await q.query(text(sql), values(params))).rows as T[],
    get: async <T = Row>(sql: string, params: readonly Param[] = []) => (await q.query(text(sql), values(params))).rows[0] as T | undefined,
    run: async (sql: string, params: readonly Param[] = []) => ({ changes: (await q.query(text(sql), values(params))).rowCount ?? 0 }),
    transaction,
  };
}

export class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly base: Db;

  constructor(opts: PgOptions) {
    this.pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, password: opts.password, types });
    // An idle client's error (the server restarted) must not end the process; the next query reconnects.
    this.pool.on('error', () => {});
    this.base = surface(this.pool, (fn) => this.transaction(fn));
  }

  all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]> { return this.base.all<T>(sql, params); }
  get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined> { return this.base.get<T>(sql, params); }
  run(sql: string, params?: readonly Param[]): Promise<{ changes: number }> { return this.base.run(sql, params); }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const state = { broken: false };
    try {
      return await inTransaction(client, fn, state);
    } finally {
      // A connection whose ROLLBACK failed may still be inside the transaction: discard it.
      client.release(state.broken ? new Error('rollback failed') : undefined);
    }
  }

  /** Applies the migrations not yet applied, each in one transaction, under an advisory lock. */
  async migrate(migrations: readonly DbMigration[]): Promise<void> {
    const client = await this.pool.connect();
    const state = { broken: false };
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
      try {
        await client.query(LEDGER_DDL);
        for (const m of migrations) {
          await inTransaction(client, async (tx) => {
            if (await tx.get('SELECT 1 AS x FROM schema_migrations WHERE id = ?', [m.id])) return;
            if (m.postgres.trim()) await client.query(m.postgres);
            await m.run?.(tx);
            await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, Date.now()]);
          }, state);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
      }
    } finally {
      client.release(state.broken ? new Error('rollback failed') : undefined);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

async function inTransaction<T>(client: pg.PoolClient, fn: (tx: Db) => Promise<T>, state: { broken: boolean }): Promise<T> {
  const tx: Db = surface(client, (inner) => inner(tx));
  await client.query('BEGIN');
  try {
    const out = await fn(tx);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      state.broken = true;
    }
    throw err;
  }
}

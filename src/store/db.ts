// The async database surface every repository is written against. Two
// implementations: SQLite (node:sqlite, embedded default) and PostgreSQL (pg).
// SQL is written once with `?` placeholders in the subset both dialects speak
// (INTEGER/BIGINT/TEXT columns, RETURNING, ON CONFLICT … DO UPDATE); where the
// dialects differ a repository branches on `dialect`.

export type Dialect = 'sqlite' | 'postgres';
export type Param = string | number | bigint | boolean | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface Db {
  readonly dialect: Dialect;
  all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  run(sql: string, params?: readonly Param[]): Promise<{ changes: number }>;
  /**
   * Runs fn in one transaction on one connection; every statement of fn goes
   * through `tx`. Commits when fn resolves, rolls back when it throws. Other
   * callers' statements never interleave with it (SQLite: they wait).
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
}

export interface DbMigration {
  /** Unique, stable id, e.g. "auth/001-accounts". */
  id: string;
  sqlite: string;
  postgres: string;
  /** A step SQL cannot express, run inside the same transaction as the ledger mark. */
  run?: (tx: Db) => Promise<void>;
}

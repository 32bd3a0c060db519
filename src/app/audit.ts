// The audit repository: one row per mutation any front end (CLI, control
// socket, HTTP API) or part made through an operation, ok or refused. Who
// (actor kind and name), when (ms since the epoch), from where, what (action
// and object), why (reason), the outcome (ok or the error code), and the input
// with its secrets redacted. Written through the async Db in SQL both SQLite
// and PostgreSQL speak; timestamps are BIGINT milliseconds.
import type { Db, DbMigration, Param } from '../store/index.ts';
import type { AuditEntry, AuditSink } from './operation.ts';

export const AUDIT_MIGRATIONS: readonly DbMigration[] = [{
  id: 'app/001-audit',
  sqlite: `
    CREATE TABLE app_audit (id INTEGER PRIMARY KEY, at BIGINT NOT NULL, actor_kind TEXT NOT NULL, actor TEXT NOT NULL,
      origin TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, reason TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX app_audit_at ON app_audit (at);
    CREATE INDEX app_audit_actor ON app_audit (actor);
  `,
  postgres: `
    CREATE TABLE app_audit (id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor_kind TEXT NOT NULL, actor TEXT NOT NULL,
      origin TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, reason TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX app_audit_at ON app_audit (at);
    CREATE INDEX app_audit_actor ON app_audit (actor);
  `,
}];

export interface AuditRow extends AuditEntry {
  id: number;
}

export interface AuditQuery {
  /** Inclusive lower bound on `at` (ms). */
  since?: number;
  /** Exclusive upper bound on `at` (ms). */
  until?: number;
  actor?: string;
  /** An exact action ("accounts.add") or a prefix ending in "." ("accounts."). */
  action?: string;
  object?: string;
  /** "ok" or an error code: the refused changes alone, say. */
  outcome?: string;
  /** Page size, 1..1000 (default 100). */
  limit?: number;
  /** Paging cursor: the `id` of the last row of the previous page; rows come newest first. */
  after?: number;
}

export const AUDIT_PAGE_MAX = 1000;

interface DbRow {
  id: number | string; at: number | string; actor_kind: string; actor: string; origin: string; action: string;
  object: string; reason: string; outcome: string; detail: string;
}

export class AuditLog implements AuditSink {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async write(e: AuditEntry): Promise<void> {
    await this.db.run(
      'INSERT INTO app_audit (at, actor_kind, actor, origin, action, object, reason, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [e.at, e.actorKind, e.actor, e.from, e.action, e.object, e.reason, e.outcome, e.detail]);
  }

  /** Newest first; `next` is the cursor for the following page (absent on the last one). */
  async list(q: AuditQuery = {}): Promise<{ entries: AuditRow[]; next?: number }> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param): void => { where.push(sql); params.push(v); };
    if (q.since !== undefined) add('at >= ?', q.since);
    if (q.until !== undefined) add('at < ?', q.until);
    if (q.actor !== undefined) add('actor = ?', q.actor);
    if (q.action !== undefined) {
      if (q.action.endsWith('.')) add('substr(action, 1, ?) = ?', q.action.length), params.push(q.action);
      else add('action = ?', q.action);
    }
    if (q.object !== undefined) add('object = ?', q.object);
    if (q.outcome !== undefined) add('outcome = ?', q.outcome);
    if (q.after !== undefined) add('id < ?', q.after);
    const limit = Math.min(Math.max(1, q.limit ?? 100), AUDIT_PAGE_MAX);
    const rows = await this.db.all<DbRow>(
      `SELECT id, at, actor_kind, actor, origin, action, object, reason, outcome, detail FROM app_audit${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit + 1}`,
      params);
    const entries = rows.slice(0, limit).map((r) => ({
      id: Number(r.id), at: Number(r.at), actorKind: r.actor_kind, actor: r.actor, from: r.origin, action: r.action,
      object: r.object, reason: r.reason, outcome: r.outcome, detail: r.detail,
    }));
    return rows.length > limit ? { entries, next: entries[entries.length - 1].id } : { entries };
  }
}

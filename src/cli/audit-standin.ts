// STAND-IN until src/app/audit.ts (the audit repository, another branch of
// issue 11) is merged: the same table (app_audit, migration app/001-audit) so
// rows written here are the ones that repository reads. At merge: delete this
// file and use AuditLog + AUDIT_MIGRATIONS from src/app in cli/http.ts and
// cli/token.ts (two lines each).
import type { AuditEntry, AuditSink } from '../app/index.ts';
import type { Db, DbMigration } from '../store/index.ts';

const DDL = (id: string) => `
    CREATE TABLE app_audit (id ${id} PRIMARY KEY, at BIGINT NOT NULL, actor_kind TEXT NOT NULL, actor TEXT NOT NULL,
      origin TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, reason TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX app_audit_at ON app_audit (at);
    CREATE INDEX app_audit_actor ON app_audit (actor);
  `;
export const AUDIT_MIGRATIONS: readonly DbMigration[] = [{ id: 'app/001-audit', sqlite: DDL('INTEGER'), postgres: DDL('BIGSERIAL') }];

export class AuditLog implements AuditSink {
  private readonly db: Db;
  constructor(db: Db) { this.db = db; }
  async write(e: AuditEntry): Promise<void> {
    await this.db.run(
      'INSERT INTO app_audit (at, actor_kind, actor, origin, action, object, reason, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [e.at, e.actorKind, e.actor, e.from, e.action, e.object, e.reason, e.outcome, e.detail]);
  }
}

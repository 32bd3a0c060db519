// The engine's tables (SQLite and PostgreSQL). Cases: one open per subscriber
// (a partial unique index). Evidence and timeline are only ever inserted (an
// evidence row's amounts grow while it is the row of its minute). Decisions
// carry what enforcement changed (undo) and the policy revision it produced;
// abuse_enforced records which edges acknowledged a revision containing it.
// Unattributed signals (no holder, or several behind CGNAT) are kept,
// coalesced the same way, for the operator.
import type { DbMigration } from '../../store/index.ts';

const tables = (pk: string, real: string): string => `
  CREATE TABLE abuse_cases (id ${pk}, subscriber TEXT NOT NULL, state TEXT NOT NULL, opened_at BIGINT NOT NULL, closed_at BIGINT,
    score ${real} NOT NULL, score_at BIGINT NOT NULL, last_signal_at BIGINT, self_releases INTEGER NOT NULL DEFAULT 0,
    desk_releases INTEGER NOT NULL DEFAULT 0, previous BIGINT);
  CREATE UNIQUE INDEX abuse_cases_open ON abuse_cases (subscriber) WHERE state = 'open';
  CREATE INDEX abuse_cases_subscriber ON abuse_cases (subscriber, id);
  CREATE TABLE abuse_evidence (id ${pk}, case_id BIGINT NOT NULL REFERENCES abuse_cases (id), class TEXT NOT NULL, address TEXT,
    port INTEGER, account TEXT, origin TEXT NOT NULL, amount ${real} NOT NULL, count INTEGER NOT NULL, first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL, detail TEXT NOT NULL);
  CREATE INDEX abuse_evidence_case ON abuse_evidence (case_id, last_at);
  CREATE TABLE abuse_timeline (id ${pk}, case_id BIGINT NOT NULL REFERENCES abuse_cases (id), at BIGINT NOT NULL, kind TEXT NOT NULL,
    actor TEXT NOT NULL, text TEXT NOT NULL, data TEXT NOT NULL);
  CREATE INDEX abuse_timeline_case ON abuse_timeline (case_id, id);
  CREATE TABLE abuse_decisions (id ${pk}, case_id BIGINT NOT NULL REFERENCES abuse_cases (id), subscriber TEXT NOT NULL, rule TEXT NOT NULL,
    action TEXT NOT NULL, at BIGINT NOT NULL, until BIGINT, immune INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    revision BIGINT, undo TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, asked TEXT NOT NULL DEFAULT '[]',
    next_try BIGINT NOT NULL DEFAULT 0, notice TEXT NOT NULL, ended_at BIGINT, ended_by TEXT, end_kind TEXT);
  CREATE INDEX abuse_decisions_subscriber ON abuse_decisions (subscriber, rule);
  CREATE INDEX abuse_decisions_state ON abuse_decisions (state);
  CREATE INDEX abuse_decisions_case ON abuse_decisions (case_id);
  CREATE TABLE abuse_enforced (decision_id BIGINT NOT NULL REFERENCES abuse_decisions (id), edge TEXT NOT NULL, at BIGINT NOT NULL,
    PRIMARY KEY (decision_id, edge));
  CREATE TABLE abuse_unattributed (id ${pk}, reason TEXT NOT NULL, class TEXT NOT NULL, address TEXT, port INTEGER, origin TEXT NOT NULL,
    amount ${real} NOT NULL, count INTEGER NOT NULL, first_at BIGINT NOT NULL, last_at BIGINT NOT NULL, detail TEXT NOT NULL);
  CREATE INDEX abuse_unattributed_last ON abuse_unattributed (last_at);
`;

export const ABUSE_MIGRATIONS: readonly DbMigration[] = [{
  id: 'abuse/001-cases',
  sqlite: tables('INTEGER PRIMARY KEY', 'REAL'),
  postgres: tables('BIGSERIAL PRIMARY KEY', 'DOUBLE PRECISION'),
}];

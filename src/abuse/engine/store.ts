// The engine's repository: every statement it runs, in SQL both SQLite and
// PostgreSQL speak. Ids are numbers in the store and "c12"/"d30" outside.
import type { Db, Param } from '../../store/index.ts';
import type { ActionKind, ActiveAction, CaseState, CaseSummary, Detail, Evidence, SignalClass, TimelineEntry, TimelineKind } from '../types.ts';

export type DecisionState = 'pending' | 'active' | 'immune' | 'released' | 'expired' | 'lapsed';
export type NoticeState = 'pending' | 'sent' | 'none' | 'failed';
export interface Exemption { prefix: string; customer: string; expiresAt: number | null }
export interface Undo { prefixes: string[]; accounts: string[]; held: string[]; exemptions: Exemption[] }
export const emptyUndo = (): Undo => ({ prefixes: [], accounts: [], held: [], exemptions: [] });

export interface DecisionRow {
  id: number; caseId: number; subscriber: string; rule: string; action: ActionKind; at: number; until: number | null;
  immune: boolean; state: DecisionState; reason: string; revision: number | null; undo: Undo; attempts: number;
  asked: string[]; nextTry: number; notice: NoticeState; endedAt: number | null; endedBy: string | null; endKind: string | null;
}

export interface CaseRow {
  id: number; subscriber: string; state: CaseState; openedAt: number; closedAt: number | null; score: number; scoreAt: number;
  lastSignalAt: number | null; selfReleases: number; deskReleases: number; previous: number | null;
}

export interface EvidenceRow {
  id: number | null; caseId: number; class: SignalClass; address: string | null; port: number | null; account: string | null;
  origin: string; amount: number; count: number; firstAt: number; lastAt: number; detail: Detail;
}

export const caseKey = (id: number): string => `c${id}`;
export const decisionKey = (id: number): string => `d${id}`;
export function parseKey(s: string, letter: 'c' | 'd'): number | null {
  const m = new RegExp(`^${letter}([1-9][0-9]{0,15})$`).exec(s);
  return m ? Number(m[1]) : null;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = <T>(v: unknown, dflt: T): T => { try { return typeof v === 'string' ? JSON.parse(v) as T : dflt; } catch { return dflt; } };

function caseRow(r: Record<string, unknown>): CaseRow {
  return {
    id: num(r.id), subscriber: String(r.subscriber), state: r.state as CaseState, openedAt: num(r.opened_at), closedAt: numOrNull(r.closed_at),
    score: num(r.score), scoreAt: num(r.score_at), lastSignalAt: numOrNull(r.last_signal_at), selfReleases: num(r.self_releases),
    deskReleases: num(r.desk_releases), previous: numOrNull(r.previous),
  };
}

function decisionRow(r: Record<string, unknown>): DecisionRow {
  return {
    id: num(r.id), caseId: num(r.case_id), subscriber: String(r.subscriber), rule: String(r.rule), action: r.action as ActionKind,
    at: num(r.at), until: numOrNull(r.until), immune: num(r.immune) === 1, state: r.state as DecisionState, reason: String(r.reason),
    revision: numOrNull(r.revision), undo: { ...emptyUndo(), ...json<Partial<Undo>>(r.undo, {}) }, attempts: num(r.attempts),
    asked: json<string[]>(r.asked, []), nextTry: num(r.next_try), notice: r.notice as NoticeState, endedAt: numOrNull(r.ended_at),
    endedBy: r.ended_by === null ? null : String(r.ended_by), endKind: r.end_kind === null ? null : String(r.end_kind),
  };
}

function evidenceRow(r: Record<string, unknown>): EvidenceRow {
  return {
    id: num(r.id), caseId: num(r.case_id), class: r.class as SignalClass, address: r.address === null ? null : String(r.address),
    port: numOrNull(r.port), account: r.account === null ? null : String(r.account), origin: String(r.origin), amount: num(r.amount),
    count: num(r.count), firstAt: num(r.first_at), lastAt: num(r.last_at), detail: json<Detail>(r.detail, {}),
  };
}

const CASE_COLS = 'id, subscriber, state, opened_at, closed_at, score, score_at, last_signal_at, self_releases, desk_releases, previous';
const DEC_COLS = 'id, case_id, subscriber, rule, action, at, until, immune, state, reason, revision, undo, attempts, asked, next_try, notice, ended_at, ended_by, end_kind';
const EV_COLS = 'id, case_id, class, address, port, account, origin, amount, count, first_at, last_at, detail';

/** Rows per multi-row statement (12 parameters each: well under both stores' limits). */
const CHUNK = 64;

/** In force: pending (recorded, not yet enforced) and active decisions. */
const IN_FORCE = "state IN ('pending', 'active')";

export class CaseStore {
  readonly db: Db;
  constructor(db: Db) { this.db = db; }

  transaction<T>(fn: (s: CaseStore) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new CaseStore(tx)));
  }

  /** Throws with a plain reason when the abuse/ migrations were not applied. */
  async probe(): Promise<void> {
    try {
      await this.db.get('SELECT id FROM abuse_cases WHERE id = 0');
    } catch (err) {
      throw new Error(`abuse engine: the store has no abuse tables (apply ABUSE_MIGRATIONS first): ${(err as Error).message}`);
    }
  }

  // --- cases
  async openCaseOf(subscriber: string): Promise<CaseRow | null> {
    const r = await this.db.get(`SELECT ${CASE_COLS} FROM abuse_cases WHERE subscriber = ? AND state = 'open'`, [subscriber]);
    return r ? caseRow(r) : null;
  }
  async caseById(id: number): Promise<CaseRow | null> {
    const r = await this.db.get(`SELECT ${CASE_COLS} FROM abuse_cases WHERE id = ?`, [id]);
    return r ? caseRow(r) : null;
  }
  async lastCaseOf(subscriber: string): Promise<number | null> {
    const r = await this.db.get<{ id: unknown }>('SELECT MAX(id) AS id FROM abuse_cases WHERE subscriber = ?', [subscriber]);
    return numOrNull(r?.id);
  }
  async listCases(f: { state?: CaseState; subscriber?: string; after?: number; limit: number }): Promise<CaseRow[]> {
    const where: string[] = [];
    const p: Param[] = [];
    if (f.state) { where.push('state = ?'); p.push(f.state); }
    if (f.subscriber !== undefined) { where.push('subscriber = ?'); p.push(f.subscriber); }
    if (f.after !== undefined) { where.push('id < ?'); p.push(f.after); }
    const rows = await this.db.all(`SELECT ${CASE_COLS} FROM abuse_cases${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.trunc(f.limit)}`, p);
    return rows.map(caseRow);
  }
  async insertCase(subscriber: string, at: number, previous: number | null): Promise<number> {
    const r = await this.db.get<{ id: unknown }>(
      "INSERT INTO abuse_cases (subscriber, state, opened_at, score, score_at, previous) VALUES (?, 'open', ?, 0, ?, ?) RETURNING id",
      [subscriber, at, at, previous]);
    return num(r?.id);
  }

  async countRelease(id: number, kind: 'desk' | 'self'): Promise<void> {
    await this.db.run(kind === 'self' ? 'UPDATE abuse_cases SET self_releases = self_releases + 1 WHERE id = ?'
      : 'UPDATE abuse_cases SET desk_releases = desk_releases + 1 WHERE id = ?', [id]);
  }
  async closeCase(id: number, at: number): Promise<void> {
    await this.db.run("UPDATE abuse_cases SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'open'", [at, id]);
  }
  /** Open cases with nothing in force and no signal since `before` (closing candidates). */
  async quietCases(before: number, limit: number): Promise<CaseRow[]> {
    const rows = await this.db.all(`SELECT ${CASE_COLS} FROM abuse_cases c WHERE state = 'open'
      AND COALESCE(last_signal_at, opened_at) < ? AND opened_at < ?
      AND NOT EXISTS (SELECT 1 FROM abuse_decisions d WHERE d.case_id = c.id AND (d.${IN_FORCE} OR (d.ended_at IS NOT NULL AND d.ended_at >= ?)))
      ORDER BY id LIMIT ${Math.trunc(limit)}`, [before, before, before]);
    return rows.map(caseRow);
  }

  /** The highest evidence and unattributed ids (the engine numbers new rows itself, so a batch writes them in a few statements). */
  async maxIds(): Promise<{ evidence: number; unattributed: number }> {
    const e = await this.db.get<{ n: unknown }>('SELECT MAX(id) AS n FROM abuse_evidence');
    const u = await this.db.get<{ n: unknown }>('SELECT MAX(id) AS n FROM abuse_unattributed');
    return { evidence: num(e?.n ?? 0), unattributed: num(u?.n ?? 0) };
  }
  /** Scores of many cases in a few statements (multi-row upsert on the id). */
  async updateScores(rows: Array<{ id: number; subscriber: string; openedAt: number; score: number; scoreAt: number; lastSignalAt: number | null }>): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const p: Param[] = [];
      for (const r of part) p.push(r.id, r.subscriber, r.openedAt, r.score, r.scoreAt, r.lastSignalAt);
      await this.db.run(`INSERT INTO abuse_cases (id, subscriber, state, opened_at, score, score_at, last_signal_at) VALUES ${part.map(() => "(?, ?, 'open', ?, ?, ?, ?)").join(', ')}
        ON CONFLICT (id) DO UPDATE SET score = excluded.score, score_at = excluded.score_at, last_signal_at = excluded.last_signal_at`, p);
    }
  }
  /** Evidence rows (new ones with the ids the engine gave them, or grown ones) in a few statements. */
  async upsertEvidence(rows: EvidenceRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const p: Param[] = [];
      for (const e of part) p.push(e.id, e.caseId, e.class, e.address, e.port, e.account, e.origin, e.amount, e.count, e.firstAt, e.lastAt, JSON.stringify(e.detail));
      await this.db.run(`INSERT INTO abuse_evidence (${EV_COLS}) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
        ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, count = excluded.count, last_at = excluded.last_at, port = excluded.port, account = excluded.account`, p);
    }
  }
  async upsertUnattributed(rows: Array<Omit<EvidenceRow, 'caseId' | 'account'> & { reason?: string }>): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const p: Param[] = [];
      for (const e of part) p.push(e.id, e.reason ?? 'no-holder', e.class, e.address, e.port, e.origin, e.amount, e.count, e.firstAt, e.lastAt, JSON.stringify(e.detail));
      await this.db.run(`INSERT INTO abuse_unattributed (id, reason, class, address, port, origin, amount, count, first_at, last_at, detail) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
        ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, count = excluded.count, last_at = excluded.last_at, port = excluded.port`, p);
    }
  }

  // --- evidence


  async evidenceOf(caseId: number, since = 0, limit = 5000): Promise<EvidenceRow[]> {
    // the newest `limit` rows, oldest first
    const rows = await this.db.all(`SELECT ${EV_COLS} FROM abuse_evidence WHERE case_id = ? AND last_at >= ? ORDER BY id DESC LIMIT ${Math.trunc(limit)}`, [caseId, since]);
    return rows.reverse().map(evidenceRow);
  }
  /** The newest signal time per class of a case (self-release: quiet since). */
  async lastAtByClass(caseId: number): Promise<Map<SignalClass, number>> {
    const rows = await this.db.all<{ class: string; at: unknown }>('SELECT class, MAX(last_at) AS at FROM abuse_evidence WHERE case_id = ? GROUP BY class', [caseId]);
    return new Map(rows.map((r) => [r.class as SignalClass, num(r.at)]));
  }

  // --- unattributed


  async listUnattributed(limit: number): Promise<Array<Omit<EvidenceRow, 'caseId' | 'account'> & { reason: string }>> {
    const rows = await this.db.all(`SELECT id, reason, class, address, port, origin, amount, count, first_at, last_at, detail FROM abuse_unattributed ORDER BY id DESC LIMIT ${Math.trunc(limit)}`);
    return rows.map((r) => {
      const e = evidenceRow({ ...r, case_id: 0, account: null });
      const { caseId: _c, account: _a, ...rest } = e;
      return { ...rest, reason: String(r.reason) };
    });
  }
  async pruneUnattributed(before: number): Promise<number> {
    return (await this.db.run('DELETE FROM abuse_unattributed WHERE last_at < ?', [before])).changes;
  }

  // --- timeline
  async timeline(caseId: number, at: number, kind: TimelineKind, actor: string, text: string, data: Detail = {}): Promise<void> {
    await this.db.run('INSERT INTO abuse_timeline (case_id, at, kind, actor, text, data) VALUES (?, ?, ?, ?, ?, ?)',
      [caseId, at, kind, actor, text, JSON.stringify(data)]);
  }
  async timelineOf(caseId: number, limit = 5000): Promise<TimelineEntry[]> {
    const rows = (await this.db.all(`SELECT at, kind, actor, text, data FROM abuse_timeline WHERE case_id = ? ORDER BY id DESC LIMIT ${Math.trunc(limit)}`, [caseId])).reverse();
    return rows.map((r) => ({ at: num(r.at), kind: r.kind as TimelineKind, actor: String(r.actor), text: String(r.text), data: json<Detail>(r.data, {}) }));
  }

  // --- decisions
  async insertDecision(d: Omit<DecisionRow, 'id'>): Promise<number> {
    const r = await this.db.get<{ id: unknown }>(`INSERT INTO abuse_decisions (case_id, subscriber, rule, action, at, until, immune, state, reason, revision, undo,
      attempts, asked, next_try, notice, ended_at, ended_by, end_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [d.caseId, d.subscriber, d.rule, d.action, d.at, d.until, d.immune ? 1 : 0, d.state, d.reason, d.revision, JSON.stringify(d.undo),
      d.attempts, JSON.stringify(d.asked), d.nextTry, d.notice, d.endedAt, d.endedBy, d.endKind]);
    return num(r?.id);
  }
  async decision(id: number): Promise<DecisionRow | null> {
    const r = await this.db.get(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE id = ?`, [id]);
    return r ? decisionRow(r) : null;
  }
  async decisionsOfCase(caseId: number): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE case_id = ? ORDER BY id`, [caseId])).map(decisionRow);
  }
  /** The subscriber's decisions that still stop a rule from firing: in force, or immune and not lapsed (one without an end: for its case). */
  async blockingOf(subscriber: string, now: number): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE subscriber = ? AND (${IN_FORCE} OR (state = 'immune' AND (until > ?
      OR (until IS NULL AND case_id IN (SELECT id FROM abuse_cases WHERE subscriber = abuse_decisions.subscriber AND state = 'open')))))`,
      [subscriber, now])).map(decisionRow);
  }
  /** Per rule: how many times it fired and was not immune, and when its last decision ended (grace). */
  async historyOf(subscriber: string): Promise<Array<{ rule: string; fired: number; lastEnd: number | null }>> {
    const rows = await this.db.all<{ rule: string; fired: unknown; last_end: unknown }>(
      'SELECT rule, COUNT(*) AS fired, MAX(ended_at) AS last_end FROM abuse_decisions WHERE subscriber = ? AND immune = 0 GROUP BY rule', [subscriber]);
    return rows.map((r) => ({ rule: r.rule, fired: num(r.fired), lastEnd: numOrNull(r.last_end) }));
  }
  async decisionsIn(state: DecisionState, limit = 1000): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE state = ? ORDER BY id LIMIT ${Math.trunc(limit)}`, [state])).map(decisionRow);
  }
  async noticesPending(limit = 1000): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE notice = 'pending' AND state <> 'pending' ORDER BY id LIMIT ${Math.trunc(limit)}`)).map(decisionRow);
  }
  async dueDecisions(now: number, limit = 1000): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE state = 'active' AND action <> 'notify' AND until IS NOT NULL AND until <= ? ORDER BY id LIMIT ${Math.trunc(limit)}`, [now])).map(decisionRow);
  }
  async activeQuarantinesOf(subscriber: string): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE subscriber = ? AND action = 'quarantine' AND state = 'active'`, [subscriber])).map(decisionRow);
  }
  async markAttempt(id: number, asked: string[], nextTry: number): Promise<void> {
    await this.db.run('UPDATE abuse_decisions SET attempts = attempts + 1, asked = ?, next_try = ? WHERE id = ?', [JSON.stringify(asked), nextTry, id]);
  }
  async markEnforced(id: number, undo: Undo, revision: number | null): Promise<void> {
    await this.db.run("UPDATE abuse_decisions SET state = 'active', undo = ?, revision = ? WHERE id = ? AND state = 'pending'", [JSON.stringify(undo), revision, id]);
  }
  async setUndo(id: number, undo: Undo): Promise<void> {
    await this.db.run('UPDATE abuse_decisions SET undo = ? WHERE id = ?', [JSON.stringify(undo), id]);
  }
  async setNotice(id: number, notice: NoticeState): Promise<void> {
    await this.db.run('UPDATE abuse_decisions SET notice = ? WHERE id = ?', [notice, id]);
  }
  async endDecision(id: number, state: 'released' | 'expired' | 'lapsed', at: number, by: string, kind: string): Promise<void> {
    await this.db.run('UPDATE abuse_decisions SET state = ?, ended_at = ?, ended_by = ?, end_kind = ? WHERE id = ?', [state, at, by, kind, id]);
  }
  async lapseNotifies(now: number): Promise<number> {
    return (await this.db.run("UPDATE abuse_decisions SET state = 'lapsed', ended_at = until, ended_by = 'engine', end_kind = 'renotify' WHERE state = 'active' AND action = 'notify' AND until IS NOT NULL AND until <= ?", [now])).changes;
  }
  async recurrences(subscriber: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const h of await this.historyOf(subscriber)) out[h.rule] = h.fired;
    return out;
  }

  // --- edges
  async enforcedEdges(): Promise<Array<{ decision: number; edge: string }>> {
    const rows = await this.db.all<{ decision_id: unknown; edge: string }>(
      "SELECT e.decision_id, e.edge FROM abuse_enforced e JOIN abuse_decisions d ON d.id = e.decision_id WHERE d.state = 'active'");
    return rows.map((r) => ({ decision: num(r.decision_id), edge: r.edge }));
  }
  async activeWithRevision(): Promise<DecisionRow[]> {
    return (await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE state = 'active' AND revision IS NOT NULL`)).map(decisionRow);
  }
  /** true when this edge was not yet recorded for the decision. */
  async markEdge(decision: number, edge: string, at: number): Promise<boolean> {
    return (await this.db.run('INSERT INTO abuse_enforced (decision_id, edge, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [decision, edge, at])).changes > 0;
  }
  async edgeCount(decision: number): Promise<number> {
    const r = await this.db.get<{ n: unknown }>('SELECT COUNT(*) AS n FROM abuse_enforced WHERE decision_id = ?', [decision]);
    return num(r?.n);
  }

  // --- the summary outsiders see
  async summary(c: CaseRow): Promise<CaseSummary> {
    const decisions = await this.db.all(`SELECT ${DEC_COLS} FROM abuse_decisions WHERE case_id = ? AND ${IN_FORCE} ORDER BY id`, [c.id]);
    const active: ActiveAction[] = decisions.map(decisionRow).map((d) => ({
      decision: decisionKey(d.id), action: d.action, rule: d.rule, at: d.at, until: d.until,
    }));
    return {
      id: caseKey(c.id), subscriber: c.subscriber, state: c.state, openedAt: c.openedAt, closedAt: c.closedAt, score: c.score,
      scoreAt: c.scoreAt, lastSignalAt: c.lastSignalAt, active, selfReleases: c.selfReleases, deskReleases: c.deskReleases,
      recurrences: await this.recurrences(c.subscriber),
    };
  }
  async evidenceOut(caseId: number): Promise<Evidence[]> {
    return (await this.evidenceOf(caseId)).map((e) => ({ ...e, id: e.id ?? 0, caseId: caseKey(e.caseId) }));
  }
}

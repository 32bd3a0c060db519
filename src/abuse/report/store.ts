// The abuse mailbox's store: each report's bytes as one file under
// <dataDir>/abuse/reports/ (written to tmp/, fdatasync'd, renamed in, the
// directory fsync'd) and one row per report in the state store (SQLite or
// PostgreSQL) that lists and finds them.
//
// The file is the record and the row its index. SQLite runs WAL with
// synchronous=NORMAL (src/store/index.ts): a committed row survives a killed
// process but not a power cut, so a 250 rests on the fsync'd file, and a file
// with no row (a crash between the two, a lost WAL tail) is indexed again at
// the next start (`unindexed()`, the mailbox's recover()). Each file opens with
// the trace fields we add at delivery (Return-Path, Received: RFC 5321 §4.4),
// which is also where that recovery reads the envelope back from.
import { mkdir, open, readdir, readFile, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Db, DbMigration, Param } from '../../store/index.ts';
import type { AtFrom, ParsedReport, SourceFrom } from './parse.ts';

export const REPORT_MIGRATIONS: readonly DbMigration[] = [{
  id: 'abuse-reports/001-reports',
  sqlite: `
    CREATE TABLE abuse_reports (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL, kind TEXT NOT NULL, feedback_type TEXT, user_agent TEXT,
      reported_message_id TEXT, source TEXT, source_port INTEGER, source_from TEXT NOT NULL, at BIGINT, at_from TEXT NOT NULL, subscriber TEXT,
      reporter TEXT NOT NULL, recipient TEXT NOT NULL, client_ip TEXT NOT NULL, subject TEXT, size BIGINT NOT NULL);
    CREATE INDEX abuse_reports_received ON abuse_reports (received_at);
    CREATE INDEX abuse_reports_source ON abuse_reports (source);
    CREATE INDEX abuse_reports_subscriber ON abuse_reports (subscriber);
  `,
  postgres: `
    CREATE TABLE abuse_reports (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL, kind TEXT NOT NULL, feedback_type TEXT, user_agent TEXT,
      reported_message_id TEXT, source TEXT, source_port INTEGER, source_from TEXT NOT NULL, at BIGINT, at_from TEXT NOT NULL, subscriber TEXT,
      reporter TEXT NOT NULL, recipient TEXT NOT NULL, client_ip TEXT NOT NULL, subject TEXT, size BIGINT NOT NULL);
    CREATE INDEX abuse_reports_received ON abuse_reports (received_at);
    CREATE INDEX abuse_reports_source ON abuse_reports (source);
    CREATE INDEX abuse_reports_subscriber ON abuse_reports (subscriber);
  `,
}];

/** A stored report: what the parse found, and the row's own fields. */
export interface ReportRow extends ParsedReport {
  id: string;
  receivedAt: number;
  /** Who held the source at `at` (null: nobody, several behind CGNAT, or no directory). */
  subscriber: string | null;
  /** The envelope: MAIL FROM ('' for <>), the first recipient, the delivering client. */
  reporter: string;
  recipient: string;
  clientIp: string;
  /** Octets of the report as received (without the trace fields we add). */
  size: number;
}

export interface ReportQuery {
  since?: number;
  until?: number;
  source?: string;
  subscriber?: string;
  /** The id of the last row of the previous page (rows come newest first). */
  after?: string;
  limit?: number;
}

export const REPORT_PAGE_MAX = 1000;

interface DbRow {
  id: string; received_at: number | string; kind: string; feedback_type: string | null; user_agent: string | null; reported_message_id: string | null;
  source: string | null; source_port: number | string | null; source_from: string; at: number | string | null; at_from: string; subscriber: string | null;
  reporter: string; recipient: string; client_ip: string; subject: string | null; size: number | string;
}

const COLS = 'id, received_at, kind, feedback_type, user_agent, reported_message_id, source, source_port, source_from, at, at_from, subscriber, reporter, recipient, client_ip, subject, size';
const ID = /^r[0-9a-z]{9}[0-9a-f]{8}$/;

function fromDb(r: DbRow): ReportRow {
  return {
    id: r.id, receivedAt: Number(r.received_at), kind: r.kind === 'arf' ? 'arf' : 'plain', feedbackType: r.feedback_type, userAgent: r.user_agent,
    reportedMessageId: r.reported_message_id, source: r.source, sourcePort: r.source_port === null ? null : Number(r.source_port), sourceFrom: r.source_from as SourceFrom, at: r.at === null ? null : Number(r.at),
    atFrom: r.at_from as AtFrom, subscriber: r.subscriber, reporter: r.reporter, recipient: r.recipient, clientIp: r.client_ip, subject: r.subject, size: Number(r.size),
  };
}

/** One report's file on its way in; durable once commit() resolves (fdatasync, rename, directory fsync). */
export interface ReportWriter {
  write(b: Buffer): Promise<void>;
  commit(): Promise<void>;
  /** Removes the temp file (a refused or failed report). */
  abort(): Promise<void>;
}

/** The part of the store the report store needs (a `Store` fits). */
export interface ReportDb { readonly db: Db; migrate(m: readonly DbMigration[]): Promise<void> }

export class ReportStore {
  readonly dir: string;
  private readonly db: Db;
  private readonly tmp: string;

  private constructor(db: Db, dir: string) {
    this.db = db;
    this.dir = dir;
    this.tmp = join(dir, 'tmp');
  }

  /** Migrates and makes the directories (0700). */
  static async open(store: ReportDb, dir: string): Promise<ReportStore> {
    await store.migrate(REPORT_MIGRATIONS);
    const s = new ReportStore(store.db, dir);
    await mkdir(s.tmp, { recursive: true, mode: 0o700 });
    return s;
  }

  /** Drops half-written temp files (no 250 was ever given for them): the mailbox does this at start, nothing else may. */
  async clearTemp(): Promise<void> {
    for (const f of await readdir(this.tmp)) await rm(join(this.tmp, f), { force: true });
  }

  /** Sortable by time: "r", the ms since the epoch in base 36 (9 digits until 5188), 8 random hex digits. */
  newId(now: number): string {
    return `r${now.toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
  }

  fileOf(id: string): string {
    if (!ID.test(id)) throw new RangeError(`not a report id: ${id}`);
    return join(this.dir, `${id}.eml`);
  }

  /** A report's file being written (streamed: a report is never held in memory whole while it arrives). */
  async create(id: string): Promise<ReportWriter> {
    const tmp = join(this.tmp, id);
    const final = this.fileOf(id);
    const fh = await open(tmp, 'wx', 0o600);
    let done = false;
    const dir = this.dir;
    return {
      async write(b) { await fh.write(b); },
      async commit() {
        done = true;
        try { await fh.datasync(); } finally { await fh.close(); }
        await rename(tmp, final);
        const d = await open(dir, 'r');
        try { await d.sync(); } finally { await d.close(); }
      },
      async abort() {
        if (!done) { done = true; await fh.close().catch(() => {}); }
        await rm(tmp, { force: true });
      },
    };
  }

  /** The report's file, durable when this resolves: written, fdatasync'd, renamed into place, the directory fsync'd. */
  async writeFile(id: string, parts: readonly Buffer[]): Promise<void> {
    const w = await this.create(id);
    try {
      for (const p of parts) await w.write(p);
      await w.commit();
    } catch (err) {
      await w.abort().catch(() => {});
      throw err;
    }
  }

  /** Octets an unprivileged writer may still use on the reports' filesystem. */
  async freeBytes(): Promise<number> {
    const st = await statfs(this.dir);
    return st.bavail * st.bsize;
  }

  async insert(r: ReportRow): Promise<void> {
    const p: Param[] = [r.id, r.receivedAt, r.kind, r.feedbackType, r.userAgent, r.reportedMessageId, r.source, r.sourcePort, r.sourceFrom, r.at, r.atFrom,
      r.subscriber, r.reporter, r.recipient, r.clientIp, r.subject, r.size];
    await this.db.run(`INSERT INTO abuse_reports (${COLS}) VALUES (${p.map(() => '?').join(', ')})`, p);
  }

  /** Removes a report's file (its row could not be written: the client was told 451 and will send it again). */
  async discard(id: string): Promise<void> {
    await rm(this.fileOf(id), { force: true });
  }

  async get(id: string): Promise<ReportRow | null> {
    const r = await this.db.get<DbRow>(`SELECT ${COLS} FROM abuse_reports WHERE id = ?`, [id]);
    return r ? fromDb(r) : null;
  }

  /** Newest first; `next` is the cursor for the following page (absent on the last one). */
  async list(q: ReportQuery = {}): Promise<{ reports: ReportRow[]; next?: string }> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (sql: string, v: Param): void => { where.push(sql); params.push(v); };
    if (q.since !== undefined) add('received_at >= ?', q.since);
    if (q.until !== undefined) add('received_at < ?', q.until);
    if (q.source !== undefined) add('source = ?', q.source);
    if (q.subscriber !== undefined) add('subscriber = ?', q.subscriber);
    if (q.after !== undefined) add('id < ?', q.after);
    const limit = Math.min(Math.max(1, q.limit ?? 100), REPORT_PAGE_MAX);
    const rows = await this.db.all<DbRow>(`SELECT ${COLS} FROM abuse_reports${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit + 1}`, params);
    const reports = rows.slice(0, limit).map(fromDb);
    return rows.length > limit ? { reports, next: reports[reports.length - 1].id } : { reports };
  }

  /** The stored bytes (trace fields first), at most `max` of them; null when this node has no file for it. */
  async raw(id: string, max: number): Promise<{ bytes: Buffer; size: number } | null> {
    let fh;
    try { fh = await open(this.fileOf(id), 'r'); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const size = (await fh.stat()).size;
      const bytes = Buffer.alloc(Math.min(size, max));
      await fh.read(bytes, 0, bytes.length, 0);
      return { bytes, size };
    } finally {
      await fh.close();
    }
  }

  /** Report files with no row (see the top of this file), oldest first. */
  async unindexed(): Promise<string[]> {
    const ids = (await readdir(this.dir)).filter((f) => f.endsWith('.eml')).map((f) => f.slice(0, -4)).filter((id) => ID.test(id)).sort();
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const page = ids.slice(i, i + 500);
      const have = new Set((await this.db.all<{ id: string }>(`SELECT id FROM abuse_reports WHERE id IN (${page.map(() => '?').join(', ')})`, page)).map((r) => r.id));
      out.push(...page.filter((id) => !have.has(id)));
    }
    return out;
  }

  async readFile(id: string): Promise<Buffer> { return readFile(this.fileOf(id)); }

  /** Deletes reports received before `before` (rows and files); returns how many rows went. */
  async prune(before: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < 1000; i++) {
      const rows = await this.db.all<{ id: string }>('SELECT id FROM abuse_reports WHERE received_at < ? ORDER BY id LIMIT 500', [before]);
      if (!rows.length) break;
      for (const r of rows) await rm(this.fileOf(r.id), { force: true });
      n += (await this.db.run(`DELETE FROM abuse_reports WHERE id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.id))).changes;
    }
    // Files whose row never came back (unindexed, then pruned by age of their id) go too.
    const cutoff = this.newId(before).slice(0, 10);
    for (const f of await readdir(this.dir)) {
      if (f.endsWith('.eml') && ID.test(f.slice(0, -4)) && f.slice(0, 10) < cutoff) await rm(join(this.dir, f), { force: true });
    }
    return n;
  }

}

// The directory's repository on the shared store (SQLite or PostgreSQL). The
// store is the truth; the open index (open-index.ts) is this process's copy of
// what is held now and what ended in the last `recentMs`, kept in step by every
// write made here and rebuilt at open. Writes run one at a time (a promise
// chain) so the index never sees two of them interleaved.
import type { Clock, Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Db, Store } from '../store/index.ts';
import type { AssignInput, Assignment, AssignmentSource, DirectoryRepository, Holder, Subscriber } from './types.ts';
import { candidateKeys } from './prefix.ts';
import * as check from './input.ts';
import { DirectoryError } from './input.ts';
import { OpenIndex } from './open-index.ts';
import { ASSIGNMENT_COLUMNS as COLS, OPEN_END, OPEN_END_SQL, marks, newestFirst, toAssignment, toSubscriber, type AssignmentRow, type SubscriberRow } from './rows.ts';
import { migrations } from './schema.ts';
import { assignIn, nextRevision, type Changes } from './assign.ts';
import { WriteBatcher } from './batch.ts';

export interface DirectoryOptions {
  clock: Clock;
  bus?: EventBus;
  logger: Logger;
  /** How long ended assignments stay in the in-memory index (lookups within it skip the database); default one hour. */
  recentMs?: number;
  /** false: no in-memory index, every lookup asks the store (a one-shot CLI command). Default true. */
  memory?: boolean;
  /** How often the index reads what other processes (the CLI, other nodes) wrote; 0: never. Default 1000 ms. */
  syncMs?: number;
}

export type OpenedDirectory = DirectoryRepository & {
  close(): Promise<void>;
  /** Reads what other processes changed since the last revision seen; returns how many rows. */
  sync(): Promise<number>;
  readonly indexSize: number;
};

const HOUR = 3_600_000;
const SYNC_PAGE = 5000;

export async function openDirectory(store: Store, opts: DirectoryOptions): Promise<OpenedDirectory> {
  await store.migrate(migrations);
  const d = new SqlDirectory(store, opts);
  await d.load();
  return d;
}

class SqlDirectory implements OpenedDirectory {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly bus: EventBus | undefined;
  private readonly logger: Logger;
  private readonly recentMs: number;
  private readonly sweepStep: number;
  private readonly lengths = { v4: new Set<number>(), v6: new Set<number>() };
  private index!: OpenIndex;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly memory: boolean;
  private readonly syncMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The highest revision read from the store (sync reads what is newer). */
  private seen = 0;
  private readonly writer: WriteBatcher;

  constructor(store: Store, o: DirectoryOptions) {
    this.db = store.db;
    this.clock = o.clock;
    this.bus = o.bus;
    this.logger = o.logger;
    this.recentMs = o.recentMs ?? HOUR;
    this.sweepStep = Math.max(1000, this.recentMs / 4);
    this.memory = o.memory ?? true;
    this.syncMs = o.syncMs ?? 1000;
    this.writer = new WriteBatcher(store, (fn) => this.serial(fn), (ch) => this.applied(ch));
  }

  get indexSize(): number { return this.index.size; }

  async load(): Promise<void> {
    await this.loadLengths();
    if (!this.memory) { this.index = new OpenIndex(Number.POSITIVE_INFINITY); return; }
    // The revision first: a row changed while the rest loads is read again by the first sync.
    this.seen = Number((await this.db.get<{ rev: number }>('SELECT rev FROM directory_revision WHERE id = 1'))!.rev);
    const floor = this.clock.now() - this.recentMs;
    this.index = new OpenIndex(floor);
    const open = await this.db.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE end_at IS NULL`);
    const recent = Number.isFinite(floor) ? await this.db.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE end_at > ?`, [floor])
      : await this.db.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE end_at IS NOT NULL`);
    for (const r of open) this.index.put(toAssignment(r));
    for (const r of recent) this.index.put(toAssignment(r));
    this.logger.debug({ event: 'directory', indexed: this.index.size }, 'directory open index loaded');
    if (this.syncMs > 0) {
      this.timer = setInterval(() => void this.sync().catch((err: unknown) =>
        this.logger.error({ event: 'directory', err: String(err) }, 'directory sync failed')), this.syncMs).unref();
    }
  }

  private async loadLengths(): Promise<void> {
    for (const r of await this.db.all<{ family: number; plen: number }>('SELECT family, plen FROM directory_prefix_lengths')) {
      (Number(r.family) === 4 ? this.lengths.v4 : this.lengths.v6).add(Number(r.plen));
    }
  }

  sync(): Promise<number> {
    if (!this.memory) return Promise.resolve(0);
    // Inside the write chain: a row read here can never overwrite a newer state a write of ours put in the index.
    return this.serial(async () => {
      let n = 0;
      for (let i = 0; i < 100; i++) {
        let rows = await this.db.all<AssignmentRow & { rev: number }>(`SELECT ${COLS}, rev FROM directory_assignments WHERE rev > ? ORDER BY rev LIMIT ${SYNC_PAGE}`, [this.seen]);
        if (!rows.length) break;
        const full = rows.length === SYNC_PAGE;
        // One write's rows share a revision: a full page may end inside one, whose rows the next page reads whole.
        const last = Number(rows[rows.length - 1].rev);
        if (full && Number(rows[0].rev) !== last) rows = rows.filter((r) => Number(r.rev) !== last);
        if (!n) await this.loadLengths();
        for (const r of rows) {
          const a = toAssignment(r);
          this.foreign(this.index.get(a.id), a);
          this.index.put(a);
        }
        this.seen = Number(rows[rows.length - 1].rev);
        n += rows.length;
        if (!full) break;
      }
      return n;
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.chain.catch(() => {});
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  // ---- lookups ----

  async holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]> {
    check.time('at', at);
    if (port !== undefined && port !== null) check.port('port', port);
    const keys = typeof address === 'string' ? candidateKeys(address, this.lengths) : null;
    if (!keys) throw new DirectoryError('invalid-prefix', `address: ${JSON.stringify(address)} is not an IP address`);
    if (!keys.length) return [];
    this.maybeSweep();
    let found: Assignment[];
    if (this.memory && at >= this.index.floor) found = this.index.holders(keys, at, port);
    else {
      // The (prefix, end) index finds the spans since `at` (few, for the recent times questions are
      // about); `start_at + 0` keeps the planners off the (prefix, start) index, which would read the
      // whole history before `at`.
      const withPort = port !== undefined && port !== null;
      const rows = await this.db.all<AssignmentRow>(pastSql(keys.length, withPort), withPort ? [...keys, at, at, port, port] : [...keys, at, at]);
      found = rows.map(toAssignment);
    }
    if (found.length > 1) found.sort(newestFirst);
    return found.map((a) => ({ subscriber: a.subscriber, assignment: a }));
  }

  private maybeSweep(): void {
    if (!this.memory) return;
    const floor = this.clock.now() - this.recentMs;
    if (floor - this.index.floor >= this.sweepStep) this.index.sweep(floor);
  }

  async currentOf(subscriber: string): Promise<Assignment[]> {
    const id = check.subscriberId(subscriber);
    const now = this.clock.now();
    if (this.memory) return this.index.currentOf(id, now).sort(newestFirst);
    const rows = await this.db.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE subscriber = ? AND start_at <= ? AND COALESCE(end_at, ${OPEN_END}) > ?`, [id, now, now]);
    return rows.map(toAssignment).sort(newestFirst);
  }

  async subscriber(id: string): Promise<Subscriber | null> {
    const sid = check.subscriberId(id);
    const r = await this.db.get<SubscriberRow>('SELECT id, tier, contacts, created_at, updated_at FROM directory_subscribers WHERE id = ?', [sid]);
    if (!r) return null;
    const access = await this.db.all<{ access: string }>('SELECT access FROM directory_access WHERE subscriber = ? ORDER BY access', [sid]);
    return toSubscriber(r, access.map((a) => a.access));
  }

  async listSubscribers(opts: { after?: string; limit?: number } = {}): Promise<Subscriber[]> {
    const limit = Math.min(Math.max(1, Math.trunc(opts.limit ?? 100)), 1000);
    const rows = await this.db.all<SubscriberRow>('SELECT id, tier, contacts, created_at, updated_at FROM directory_subscribers WHERE id > ? ORDER BY id LIMIT ?',
      [opts.after === undefined ? '' : opts.after.trim().toLowerCase(), limit]);
    if (!rows.length) return [];
    const access = new Map<string, string[]>();
    for (const a of await this.db.all<{ access: string; subscriber: string }>(
      `SELECT access, subscriber FROM directory_access WHERE subscriber IN (${marks(rows.length)}) ORDER BY access`, rows.map((r) => r.id))) {
      const l = access.get(a.subscriber);
      if (l) l.push(a.access); else access.set(a.subscriber, [a.access]);
    }
    return rows.map((r) => toSubscriber(r, access.get(r.id) ?? []));
  }

  async resolveAccess(access: string): Promise<string | null> {
    const r = await this.db.get<{ subscriber: string }>('SELECT subscriber FROM directory_access WHERE access = ?', [check.accessId(access)]);
    return r?.subscriber ?? null;
  }

  async history(q: { subscriber?: string; address?: string; from?: number; to?: number; limit?: number }): Promise<Assignment[]> {
    const from = q.from === undefined ? 0 : check.time('from', q.from);
    const to = q.to === undefined ? Number.MAX_SAFE_INTEGER : check.time('to', q.to);
    if (from > to) throw new DirectoryError('invalid-value', `from ${from} is after to ${to}`);
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 100)), 10_000);
    const where: string[] = ['start_at <= ?', `COALESCE(end_at, ${OPEN_END}) >= ?`];
    const params: Array<string | number> = [to, from];
    if (q.subscriber !== undefined) { where.push('subscriber = ?'); params.push(check.subscriberId(q.subscriber)); }
    if (q.address !== undefined) {
      const keys = this.coveringKeys(q.address);
      if (!keys.length) return [];
      where.push(`prefix IN (${marks(keys.length)})`);
      params.push(...keys);
    }
    if (q.subscriber === undefined && q.address === undefined) throw new DirectoryError('invalid-value', 'history: a subscriber or an address is required');
    const rows = await this.db.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE ${where.join(' AND ')} ORDER BY start_at DESC, id DESC LIMIT ?`, [...params, limit]);
    return rows.map(toAssignment);
  }

  /** The keys of every stored prefix covering an address, or a prefix (its own key and the shorter ones around it). */
  private coveringKeys(address: string): string[] {
    const p = check.prefix(address);
    const max = p.v === 4 ? 32 : 128;
    const net = p.len === max ? p.text : p.text.slice(0, p.text.indexOf('/'));
    const within = (s: Set<number>) => [...s].filter((l) => l <= p.len);
    const keys = candidateKeys(net, { v4: within(this.lengths.v4), v6: within(this.lengths.v6) }) ?? [];
    return keys.includes(p.text) ? keys : [...keys, p.text];
  }

  // ---- writes ----

  async putSubscriber(s: { id: string; tier?: string; contacts?: string[]; access?: string[] }): Promise<Subscriber> {
    const id = check.subscriberId(s.id);
    const tier = s.tier === undefined ? undefined : check.tierName(s.tier);
    const contacts = s.contacts === undefined ? undefined : check.contactList(s.contacts);
    const access = s.access === undefined ? undefined : check.accessList(s.access);
    const none: Changes = { ended: [], assigned: [], rows: [] };
    await this.writer.write(async (tx) => {
      const now = this.clock.now();
      if (access?.length) {
        const taken = await tx.all<{ access: string; subscriber: string }>(
          `SELECT access, subscriber FROM directory_access WHERE access IN (${marks(access.length)}) AND subscriber <> ?`, [...access, id]);
        if (taken.length) throw new DirectoryError('conflict', `access ${taken[0].access} already names subscriber ${taken[0].subscriber}`);
      }
      const old = await tx.get<SubscriberRow>('SELECT id, tier, contacts, created_at, updated_at FROM directory_subscribers WHERE id = ?', [id]);
      if (old) {
        await tx.run('UPDATE directory_subscribers SET tier = ?, contacts = ?, updated_at = ? WHERE id = ?',
          [tier ?? old.tier, contacts ? JSON.stringify(contacts) : old.contacts, now, id]);
      } else {
        await tx.run('INSERT INTO directory_subscribers (id, tier, contacts, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          [id, tier ?? 'residential', JSON.stringify(contacts ?? []), now, now]);
      }
      if (access) {
        await tx.run('DELETE FROM directory_access WHERE subscriber = ?', [id]);
        for (const a of access) await tx.run('INSERT INTO directory_access (access, subscriber) VALUES (?, ?)', [a, id]);
      }
      return { value: undefined, changes: none };
    });
    return (await this.subscriber(id))!;
  }

  async assign(a: AssignInput): Promise<Assignment> {
    const c = check.assignInput(a);
    return this.writer.write(async (tx) => {
      const { out, changes } = await assignIn(tx, c, this.lengths);
      return { value: out, changes };
    });
  }

  async end(q: { source: AssignmentSource; session?: string | null; prefix?: string; subscriber?: string }, at: number): Promise<Assignment | null> {
    const source = check.source(q.source);
    check.time('at', at);
    const where = ['source = ?', 'end_at IS NULL'];
    const params: Array<string | number> = [source];
    const session = check.session(q.session);
    if (session !== null) { where.push('session = ?'); params.push(session); }
    if (q.prefix !== undefined) { where.push('prefix = ?'); params.push(check.prefix(q.prefix).text); }
    if (q.subscriber !== undefined) { where.push('subscriber = ?'); params.push(check.subscriberId(q.subscriber)); }
    if (params.length === 1) throw new DirectoryError('invalid-value', 'end: a session, a prefix or a subscriber is required');
    return this.writer.write(async (tx) => {
      const open = (await tx.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE ${where.join(' AND ')}`, params)).map(toAssignment);
      const early = open.find((a) => at < a.start);
      if (early) throw new DirectoryError('invalid-value', `end ${at} is before the start ${early.start} of assignment ${early.id}`);
      const ch: Changes = { ended: [], assigned: [], rows: [] };
      const rev = open.length ? await nextRevision(tx) : 0;
      for (const a of open) {
        await tx.run('UPDATE directory_assignments SET end_at = ?, rev = ? WHERE id = ?', [at, rev, a.id]);
        const e = { ...a, end: at };
        ch.rows.push(e);
        ch.ended.push(e);
      }
      return { value: [...ch.ended].sort(newestFirst)[0] ?? null, changes: ch };
    });
  }

  async prune(before: number): Promise<number> {
    check.time('before', before);
    return this.serial(async () => {
      const { changes } = await this.db.run('DELETE FROM directory_assignments WHERE end_at IS NOT NULL AND end_at < ?', [before]);
      this.index.pruned(before);
      return changes;
    });
  }

  /**
   * A row another process wrote (the CLI, a fleet's other node), read by sync: the bus hears of it as of
   * our own writes, so a quarantine follows a lease the command line assigned. A row the index holds
   * unchanged is our own write read back, and is not told again.
   */
  private foreign(before: Assignment | undefined, a: Assignment): void {
    if (!this.bus) return;
    if (!before) {
      this.bus.publish('directory.assigned', { subscriber: a.subscriber, prefix: a.prefix, portLo: a.portLo, portHi: a.portHi, source: a.source, start: a.start });
      if (a.end !== null) this.bus.publish('directory.ended', { subscriber: a.subscriber, prefix: a.prefix, source: a.source, end: a.end });
    } else if (before.end === null && a.end !== null) {
      this.bus.publish('directory.ended', { subscriber: a.subscriber, prefix: a.prefix, source: a.source, end: a.end });
    }
  }

  /** After the commit: the index follows, then the bus hears of it (ended before assigned: a moved lease reads in order). */
  private applied(ch: Changes): void {
    for (const a of ch.rows) {
      if (this.memory) this.index.put(a);
      (a.prefix.includes(':') ? this.lengths.v6 : this.lengths.v4).add(plen(a.prefix));
    }
    if (!this.bus) return;
    const ends = ch.ended.filter((e) => !ch.assigned.includes(e));
    for (const e of ends) this.bus.publish('directory.ended', { subscriber: e.subscriber, prefix: e.prefix, source: e.source, end: e.end! });
    for (const a of ch.assigned) {
      this.bus.publish('directory.assigned', { subscriber: a.subscriber, prefix: a.prefix, portLo: a.portLo, portHi: a.portHi, source: a.source, start: a.start });
      if (a.end !== null) this.bus.publish('directory.ended', { subscriber: a.subscriber, prefix: a.prefix, source: a.source, end: a.end });
    }
  }
}

function plen(prefix: string): number {
  const i = prefix.indexOf('/');
  return i >= 0 ? Number(prefix.slice(i + 1)) : prefix.includes(':') ? 128 : 32;
}

// The past-time lookup's statement text per key count and port question, built once: the store's
// statement cache is keyed by this text, and building and hashing it per lookup cost ~10% of one.
const PAST_SQL: string[] = [];
function pastSql(keys: number, withPort: boolean): string {
  const i = keys * 2 + (withPort ? 1 : 0);
  return PAST_SQL[i] ??= `SELECT ${COLS} FROM directory_assignments WHERE prefix IN (${marks(keys)}) AND ${OPEN_END_SQL} > ? AND start_at + 0 <= ?`
    + (withPort ? ' AND (port_lo IS NULL OR (port_lo <= ? AND port_hi >= ?))' : '');
}

// The attribution log: who sent each accepted message (RFC 5068 §3.1, REQUIREMENTS D10).
// record() sits on the hot path after the spool's 250, so it only queues the row;
// rows are written in one transaction per event-loop turn (or per batchMs), which
// turns thousands of fsync-free single-row commits into one. Every lookup flushes
// first, so a reader never misses a row that was recorded before it asked.
// What a crash can lose: the rows of the current tick (at most batchMs of traffic;
// `portwarden start` uses accountability.batchMs, 50 ms by default). Another
// process reading the database (`portwarden trace`) sees a row once its batch is written.
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import type { Db, Store } from '../store/index.ts';
import { canonicalIp } from './ip.ts';
import { migrations } from './schema.ts';

export interface AttributionEntry {
  /** When the message was accepted (ms since the epoch); defaults to the clock. */
  time?: number;
  queueId: string;
  /** With or without angle brackets; stored without. */
  messageId?: string | null;
  account: string;
  subscriber?: string | null;
  /** As seen after PROXY protocol; stored in canonical form (RFC 5952). */
  clientIp: string;
  /** The source port: behind CGNAT the address alone names no one (RFC 6302). */
  clientPort?: number | null;
  listener?: string | null;
  tlsVersion?: string | null;
  tlsCipher?: string | null;
  authMechanism?: string | null;
  /** Envelope sender (MAIL FROM). */
  sender?: string | null;
  recipientCount: number;
  size: number;
  /** Verdicts and limit states at acceptance; any JSON-serialisable value. */
  verdicts?: unknown;
}

export interface AttributionRecord {
  id: number;
  time: number;
  queueId: string;
  messageId: string | null;
  account: string;
  subscriber: string | null;
  clientIp: string;
  clientPort: number | null;
  listener: string | null;
  tlsVersion: string | null;
  tlsCipher: string | null;
  authMechanism: string | null;
  sender: string | null;
  recipientCount: number;
  size: number;
  verdicts: unknown;
}

export interface AttributionLogOptions {
  clock?: Clock;
  /** How long rows are kept; prune() removes older ones. Default 180 days. */
  retentionDays?: number;
  /** 0 (default): flush once per event-loop turn; otherwise at most this many ms later. */
  batchMs?: number;
  /** Rows held while the database refuses writes; beyond this the oldest are dropped (and logged). */
  maxPending?: number;
  logger?: Logger;
}

export interface ByIpOptions {
  /** Rows within ± this much of `atMs`. Default 10 minutes. */
  windowMs?: number;
  port?: number;
  /** Default 100; the closest in time come first. */
  limit?: number;
}

type Row = Record<string, string | number | null>;

const COLUMNS = 'id, time, queue_id, message_id, account, subscriber, client_ip, client_port, listener, tls_version, tls_cipher, auth_mechanism, sender, recipient_count, size, verdicts';

export function normalizeMessageId(mid: string): string {
  const s = mid.trim();
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1).trim() : s;
}

function toRecord(r: Row): AttributionRecord {
  let verdicts: unknown = null;
  if (typeof r.verdicts === 'string') {
    try { verdicts = JSON.parse(r.verdicts); } catch { verdicts = r.verdicts; }
  }
  return {
    id: Number(r.id), time: Number(r.time), queueId: String(r.queue_id),
    messageId: r.message_id === null ? null : String(r.message_id),
    account: String(r.account), subscriber: r.subscriber === null ? null : String(r.subscriber),
    clientIp: String(r.client_ip), clientPort: r.client_port === null ? null : Number(r.client_port),
    listener: r.listener as string | null, tlsVersion: r.tls_version as string | null, tlsCipher: r.tls_cipher as string | null,
    authMechanism: r.auth_mechanism as string | null, sender: r.sender as string | null,
    recipientCount: Number(r.recipient_count), size: Number(r.size), verdicts,
  };
}

type Params = [number, string, string | null, string, string | null, string, number | null, string | null, string | null, string | null, string | null, string | null, number, number, string | null];

/** Rows per INSERT statement: one round trip on PostgreSQL carries this many. */
const CHUNK = 50;
const INSERT_HEAD = `INSERT INTO attribution (time, queue_id, message_id, account, subscriber, client_ip, client_port, listener,
  tls_version, tls_cipher, auth_mechanism, sender, recipient_count, size, verdicts) VALUES `;
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const insertSql = (n: number): string => INSERT_HEAD + Array.from({ length: n }, () => ROW).join(', ');
const NEAR = 'ORDER BY abs(time - ?), id LIMIT ?';
const Q_QUEUE = `SELECT ${COLUMNS} FROM attribution WHERE queue_id = ? ORDER BY time, id`;
const Q_MID = `SELECT ${COLUMNS} FROM attribution WHERE message_id = ? ORDER BY time, id`;
const Q_IP = `SELECT ${COLUMNS} FROM attribution WHERE client_ip = ? AND time BETWEEN ? AND ? ${NEAR}`;
const Q_IP_PORT = `SELECT ${COLUMNS} FROM attribution WHERE client_ip = ? AND time BETWEEN ? AND ? AND client_port = ? ${NEAR}`;

/** What the submission part records into and `trace` (and the application layer) read from. */
export interface AttributionRepository {
  record(e: AttributionEntry): void;
  flush(): Promise<number>;
  byQueueId(queueId: string): Promise<AttributionRecord[]>;
  byMessageId(messageId: string): Promise<AttributionRecord[]>;
  byIp(ip: string, atMs: number, opts?: ByIpOptions): Promise<AttributionRecord[]>;
  prune(): Promise<number>;
  close(): Promise<void>;
}

export class AttributionLog implements AttributionRepository {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly logger: Logger;
  readonly retentionMs: number;
  private readonly batchMs: number;
  private readonly maxPending: number;
  /** The schema migration started by the constructor; every write and lookup waits for it. */
  readonly ready: Promise<void>;
  private pending: Params[] = [];
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  /** Flushes run one after another: a batch is taken only when the one before it is written. */
  private flushing: Promise<unknown> = Promise.resolve();
  private closed = false;
  private dropped = 0;

  constructor(store: Store, opts: AttributionLogOptions = {}) {
    this.db = store.db;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    const days = opts.retentionDays ?? 180;
    if (!(days > 0)) throw new RangeError('retentionDays must be positive');
    this.retentionMs = days * 86_400_000;
    this.batchMs = opts.batchMs ?? 0;
    this.maxPending = opts.maxPending ?? 100_000;
    this.ready = store.migrate(migrations);
    this.ready.catch(() => {}); // reported by the first flush or lookup that waits for it
  }

  static async open(store: Store, opts: AttributionLogOptions = {}): Promise<AttributionLog> {
    const log = new AttributionLog(store, opts);
    await log.ready;
    return log;
  }

  /** Queues one accepted message; written within the current tick. Never throws on bad data it can store. */
  record(e: AttributionEntry): void {
    if (this.closed) throw new Error('AttributionLog is closed');
    const ip = canonicalIp(e.clientIp) ?? e.clientIp;
    const mid = e.messageId ? normalizeMessageId(e.messageId) : null;
    this.pending.push([
      e.time ?? this.clock.now(), e.queueId, mid || null, e.account, e.subscriber ?? null, ip,
      e.clientPort ?? null, e.listener ?? null, e.tlsVersion ?? null, e.tlsCipher ?? null, e.authMechanism ?? null,
      e.sender ?? null, e.recipientCount, e.size, e.verdicts === undefined ? null : JSON.stringify(e.verdicts),
    ]);
    if (this.pending.length > this.maxPending) {
      this.pending.shift();
      this.noteDropped(1);
    }
    if (!this.scheduled) {
      this.scheduled = this.batchMs > 0 ? setTimeout(this.tick, this.batchMs) : setImmediate(this.tick);
    }
  }

  private readonly tick = (): void => {
    this.scheduled = null;
    void this.flushQuietly();
  };

  /** Writes every queued row in one transaction; rows stay queued when it fails (and the error is thrown). */
  flush(): Promise<number> {
    if (this.scheduled) {
      if (this.batchMs > 0) clearTimeout(this.scheduled as NodeJS.Timeout);
      else clearImmediate(this.scheduled as NodeJS.Immediate);
      this.scheduled = null;
    }
    const next = this.flushing.then(() => this.write());
    this.flushing = next.catch(() => {});
    return next;
  }

  private async write(): Promise<number> {
    await this.ready;
    const rows = this.pending;
    if (!rows.length) return 0;
    this.pending = [];
    try {
      await this.db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          const chunk = rows.slice(i, i + CHUNK);
          await tx.run(insertSql(chunk.length), chunk.flat());
        }
      });
    } catch (err) {
      // Back in front of what was recorded meanwhile; the next record or lookup tries again.
      this.pending = rows.concat(this.pending);
      const over = this.pending.length - this.maxPending;
      if (over > 0) { this.pending.splice(0, over); this.noteDropped(over); }
      throw err;
    }
    return rows.length;
  }

  async byQueueId(queueId: string): Promise<AttributionRecord[]> {
    await this.flushQuietly();
    return (await this.db.all<Row>(Q_QUEUE, [queueId.trim()])).map(toRecord);
  }

  async byMessageId(messageId: string): Promise<AttributionRecord[]> {
    await this.flushQuietly();
    return (await this.db.all<Row>(Q_MID, [normalizeMessageId(messageId)])).map(toRecord);
  }

  /** Who used this address (and port) around `atMs`; the closest in time first. */
  async byIp(ip: string, atMs: number, opts: ByIpOptions = {}): Promise<AttributionRecord[]> {
    await this.flushQuietly();
    const windowMs = opts.windowMs ?? 600_000;
    const where = [canonicalIp(ip) ?? ip.trim(), atMs - windowMs, atMs + windowMs];
    const rows = opts.port === undefined
      ? await this.db.all<Row>(Q_IP, [...where, atMs, opts.limit ?? 100])
      : await this.db.all<Row>(Q_IP_PORT, [...where, opts.port, atMs, opts.limit ?? 100]);
    return rows.map(toRecord);
  }

  /** Deletes rows older than the retention; returns how many. */
  async prune(): Promise<number> {
    await this.flushQuietly();
    return (await this.db.run('DELETE FROM attribution WHERE time < ?', [this.clock.now() - this.retentionMs])).changes;
  }

  /** Flushes what is queued; the store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
  }

  private noteDropped(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.dropped++ % 1000 === 0) this.logger.error({ event: 'attribution', dropped: this.dropped }, 'attribution rows dropped: database not writable');
    }
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (err) {
      this.logger.error({ event: 'attribution', err: String(err), pending: this.pending.length }, 'attribution write failed');
    }
  }
}

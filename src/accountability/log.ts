// The attribution log: who sent each accepted message (RFC 5068 §3.1, REQUIREMENTS D10).
// record() sits on the hot path after the spool's 250, so it only queues the row;
// rows are written in one transaction per event-loop turn (or per batchMs), which
// turns thousands of fsync-free single-row commits into one. Every lookup flushes
// first, so a reader never misses a row that was recorded before it asked.
// What a crash can lose: the rows of the current tick (at most batchMs of traffic;
// `portwarden start` uses accountability.batchMs, 50 ms by default). Another
// process reading the database (`portwarden trace`) sees a row once its batch is written.
import type { StatementSync } from 'node:sqlite';
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
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

export class AttributionLog {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  readonly retentionMs: number;
  private readonly batchMs: number;
  private readonly maxPending: number;
  private readonly insert: StatementSync;
  private readonly qQueue: StatementSync;
  private readonly qMid: StatementSync;
  private readonly qIp: StatementSync;
  private readonly qIpPort: StatementSync;
  private readonly qPrune: StatementSync;
  private pending: Params[] = [];
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private closed = false;
  private dropped = 0;

  constructor(store: Store, opts: AttributionLogOptions = {}) {
    this.store = store;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    const days = opts.retentionDays ?? 180;
    if (!(days > 0)) throw new RangeError('retentionDays must be positive');
    this.retentionMs = days * 86_400_000;
    this.batchMs = opts.batchMs ?? 0;
    this.maxPending = opts.maxPending ?? 100_000;
    store.migrate(migrations);
    const db = store.db;
    this.insert = db.prepare(`INSERT INTO attribution (time, queue_id, message_id, account, subscriber, client_ip, client_port, listener,
      tls_version, tls_cipher, auth_mechanism, sender, recipient_count, size, verdicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.qQueue = db.prepare(`SELECT ${COLUMNS} FROM attribution WHERE queue_id = ? ORDER BY time, id`);
    this.qMid = db.prepare(`SELECT ${COLUMNS} FROM attribution WHERE message_id = ? ORDER BY time, id`);
    const near = 'ORDER BY abs(time - :at), id LIMIT :limit';
    this.qIp = db.prepare(`SELECT ${COLUMNS} FROM attribution WHERE client_ip = :ip AND time BETWEEN :from AND :to ${near}`);
    this.qIpPort = db.prepare(`SELECT ${COLUMNS} FROM attribution WHERE client_ip = :ip AND time BETWEEN :from AND :to AND client_port = :port ${near}`);
    this.qPrune = db.prepare('DELETE FROM attribution WHERE time < ?');
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
      if (this.dropped++ % 1000 === 0) this.logger.error({ event: 'attribution', dropped: this.dropped }, 'attribution rows dropped: database not writable');
    }
    if (!this.scheduled) {
      this.scheduled = this.batchMs > 0 ? setTimeout(this.tick, this.batchMs) : setImmediate(this.tick);
    }
  }

  private readonly tick = (): void => {
    this.scheduled = null;
    try {
      this.flush();
    } catch (err) {
      // The rows stay queued; the next record or lookup tries again.
      this.logger.error({ event: 'attribution', err: String(err), pending: this.pending.length }, 'attribution write failed');
    }
  };

  /** Writes every queued row in one transaction. */
  flush(): number {
    if (this.scheduled) {
      if (this.batchMs > 0) clearTimeout(this.scheduled as NodeJS.Timeout);
      else clearImmediate(this.scheduled as NodeJS.Immediate);
      this.scheduled = null;
    }
    const rows = this.pending;
    if (!rows.length) return 0;
    const insert = this.insert;
    this.store.transaction(() => {
      for (const p of rows) insert.run(...p);
    });
    this.pending = [];
    return rows.length;
  }

  byQueueId(queueId: string): AttributionRecord[] {
    this.flushQuietly();
    return (this.qQueue.all(queueId.trim()) as Row[]).map(toRecord);
  }

  byMessageId(messageId: string): AttributionRecord[] {
    this.flushQuietly();
    return (this.qMid.all(normalizeMessageId(messageId)) as Row[]).map(toRecord);
  }

  /** Who used this address (and port) around `atMs`; the closest in time first. */
  byIp(ip: string, atMs: number, opts: ByIpOptions = {}): AttributionRecord[] {
    this.flushQuietly();
    const windowMs = opts.windowMs ?? 600_000;
    const params = { ip: canonicalIp(ip) ?? ip.trim(), at: atMs, from: atMs - windowMs, to: atMs + windowMs, limit: opts.limit ?? 100 };
    const rows = opts.port === undefined ? this.qIp.all(params) : this.qIpPort.all({ ...params, port: opts.port });
    return (rows as Row[]).map(toRecord);
  }

  /** Deletes rows older than the retention; returns how many. */
  prune(): number {
    this.flushQuietly();
    const r = this.qPrune.run(this.clock.now() - this.retentionMs);
    return Number(r.changes);
  }

  /** Flushes what is queued; the store stays open (its owner closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch (err) {
      this.logger.error({ event: 'attribution', err: String(err), pending: this.pending.length }, 'attribution write failed');
    }
  }
}

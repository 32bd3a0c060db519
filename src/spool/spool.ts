// The queue: directories are states, files are messages. One process owns a
// spool directory (the one that runs recovery); tools open it with
// { recover: false } and only read.
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock, Logger } from '../core/index.ts';
import { systemClock, silentLogger } from '../core/index.ts';
import { bodyStream, scanQueueFile, statusRecord } from './format.ts';
import { QUEUE_ID_RE, newQueueId } from './id.ts';
import type { Envelope, EnvelopeInput, QueueState, StatusRecord } from './types.ts';
import { QUEUE_STATES, SpoolError } from './types.ts';
import type { CommitPoint, SpoolWriter } from './writer.ts';
import { QueueFileWriter } from './writer.ts';

export interface SpoolOptions {
  logger?: Logger;
  clock?: Clock;
  /** Default true: clear incoming/, check every queued file, move damaged ones to corrupt/. */
  recover?: boolean;
  /** Tests only: called at each step of a commit, e.g. to exit the process there. */
  crashHook?: (point: CommitPoint, id: string) => void | Promise<void>;
}

export interface SpoolStats {
  active: number;
  deferred: number;
  hold: number;
  corrupt: number;
  /** Commits since open, and the fsyncs they cost (file fsyncs + shared directory fsyncs). */
  commits: number;
  fileSyncs: number;
  dirSyncs: number;
}

export interface QueuedMessage {
  state: QueueState;
  envelope: Envelope;
  bodyLength: number;
}

interface Entry { state: QueueState; next?: number }

/** One directory fsync per batch: whoever arrives while one runs joins the next. */
class DirSyncer {
  private readonly fh: FileHandle;
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private running = false;
  count = 0;
  constructor(fh: FileHandle) { this.fh = fh; }
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) void this.run();
    });
  }
  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0);
      try {
        await this.fh.sync();
        this.count++;
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
  }
}

/** Memory for just-committed bodies awaiting their first delivery attempt. */
const FRESH_BUDGET = 32 * 1024 * 1024;

export class Spool {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly crashHook: SpoolOptions['crashHook'];
  private readonly index = new Map<string, Entry>();
  private readonly counts: Record<QueueState, number> = { active: 0, deferred: 0, hold: 0, corrupt: 0 };
  private readonly activeDir: FileHandle;
  private readonly syncer: DirSyncer;
  private readonly holdDir: FileHandle;
  private readonly holdSyncer: DirSyncer;
  private readonly listeners = new Set<(id: string) => void>();
  private emptyWaiters: Array<() => void> = [];
  private commits = 0;
  private fileSyncs = 0;
  /**
   * Just-committed small messages, so the relay's first attempt needs no disk read: the
   * envelope (handed out once, since the relay updates it) and the body bytes (for as many
   * readers as need them). Dropped when the message leaves active/ (delivered, deferred, held)
   * and bounded by FRESH_BUDGET; a miss simply reads the file.
   */
  private readonly fresh = new Map<string, { envelope: Envelope | null; chunks: Buffer[]; length: number }>();
  private freshBytes = 0;

  private constructor(dir: string, activeDir: FileHandle, holdDir: FileHandle, opts: SpoolOptions) {
    this.dir = dir;
    this.activeDir = activeDir;
    this.syncer = new DirSyncer(activeDir);
    this.holdDir = holdDir;
    this.holdSyncer = new DirSyncer(holdDir);
    this.logger = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.crashHook = opts.crashHook;
  }

  static async open(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
    for (const d of ['incoming', ...QUEUE_STATES]) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
    const fh = await open(join(dir, 'active'), 'r');
    const hold = await open(join(dir, 'hold'), 'r');
    const spool = new Spool(dir, fh, hold, opts);
    await spool.load(opts.recover ?? true);
    return spool;
  }

  async close(): Promise<void> {
    await this.activeDir.close();
    await this.holdDir.close();
  }

  private path(state: QueueState | 'incoming', id: string): string {
    return join(this.dir, state, id);
  }

  /**
   * Recovery. incoming/ holds only files whose commit() never resolved (a
   * message is acknowledged after its rename into active/ and the directory
   * fsync), so nobody was told 250 for them: delete them, the client retries.
   * A commit that crashed after its rename may leave an unacknowledged copy in
   * active/; it is relayed like any other, a duplicate at worst, never a loss.
   * Files in active/ and deferred/ are read in full and checked; damaged ones
   * go to corrupt/ and are never relayed.
   */
  private async load(recover: boolean): Promise<void> {
    if (recover) {
      for (const name of await readdir(join(this.dir, 'incoming'))) {
        await unlink(this.path('incoming', name)).catch(() => {});
        this.logger.info({ queueId: name }, 'spool recovery: removed unacknowledged incoming file');
      }
    }
    for (const state of QUEUE_STATES) {
      const names = (await readdir(join(this.dir, state))).filter((n) => QUEUE_ID_RE.test(n));
      const check = recover && (state === 'active' || state === 'deferred');
      await mapLimit(names, 16, async (id) => {
        if (!check) { this.setState(id, { state }); return; }
        const r = await scanQueueFile(this.path(state, id));
        if (r.ok) this.setState(id, { state, next: state === 'deferred' ? r.envelope.nextAttemptAt ?? 0 : undefined });
        else await this.quarantine(id, state, r.reason);
      });
    }
  }

  private async quarantine(id: string, from: QueueState, reason: string): Promise<void> {
    this.logger.error({ queueId: id, from, reason }, 'damaged queue file moved to corrupt/');
    await rename(this.path(from, id), this.path('corrupt', id));
    this.setState(id, { state: 'corrupt' });
  }

  /** Starts a new message; the id is also what the Received header and the logs name. */
  create(input: EnvelopeInput): SpoolWriter {
    const now = this.clock.now();
    const envelope: Envelope = {
      id: newQueueId(now),
      mailFrom: input.mailFrom,
      recipients: input.recipients.map((r) => ({ ...r, state: 'pending' as const })),
      account: input.account,
      identity: input.identity,
      client: input.client,
      receivedAt: now,
      attributes: input.attributes ?? {},
      ...(input.canonical ? { canonical: true } : {}),
      attempts: 0,
    };
    return new QueueFileWriter({
      incomingPath: (id) => this.path('incoming', id),
      activePath: (id) => this.path('active', id),
      holdPath: (id) => this.path('hold', id),
      syncActiveDir: () => this.syncer.sync(),
      syncHoldDir: () => this.holdSyncer.sync(),
      countFileSync: () => { this.fileSyncs++; },
      now: () => this.clock.now(),
      committed: (id, body, held) => {
        this.commits++;
        if (body) this.keepFresh(id, envelope, body);
        // Straight into hold/: no active listener (the relay) hears of it.
        this.setState(id, { state: held !== undefined ? 'hold' : 'active' });
      },
      crashHook: this.crashHook,
    }, envelope);
  }

  /** Called with the id of every message that enters active/ (commit, release, due retry). */
  onActive(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private keepFresh(id: string, envelope: Envelope, body: { chunks: Buffer[]; length: number }): void {
    this.fresh.set(id, { envelope, chunks: body.chunks, length: body.length });
    this.freshBytes += body.length;
    for (const [k, v] of this.fresh) {
      if (this.freshBytes <= FRESH_BUDGET) break;
      this.fresh.delete(k);
      this.freshBytes -= v.length;
    }
  }

  private dropFresh(id: string): void {
    const f = this.fresh.get(id);
    if (!f) return;
    this.fresh.delete(id);
    this.freshBytes -= f.length;
  }

  private setState(id: string, e: Entry | null): void {
    if (e?.state !== 'active') this.dropFresh(id);
    const old = this.index.get(id);
    if (old) this.counts[old.state]--;
    if (e) { this.index.set(id, e); this.counts[e.state]++; } else this.index.delete(id);
    if (e?.state === 'active') for (const l of this.listeners) l(id);
    if (this.emptyWaiters.length && this.counts.active + this.counts.deferred === 0) {
      const w = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const f of w) f();
    }
  }

  stateOf(id: string): QueueState | undefined {
    return this.index.get(id)?.state;
  }

  /** Ids in a state, oldest first (ids sort by acceptance time). */
  list(state: QueueState): string[] {
    const ids: string[] = [];
    for (const [id, e] of this.index) if (e.state === state) ids.push(id);
    return ids.sort();
  }

  /** Deferred ids whose next attempt is due at `now`. */
  due(now: number): string[] {
    const ids: string[] = [];
    for (const [id, e] of this.index) if (e.state === 'deferred' && (e.next ?? 0) <= now) ids.push(id);
    return ids.sort();
  }

  /** Earliest next attempt among deferred messages, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const e of this.index.values()) if (e.state === 'deferred' && (min === undefined || (e.next ?? 0) < min)) min = e.next ?? 0;
    return min;
  }

  /**
   * Envelope with progress applied; null if unknown. A file whose structure is
   * damaged goes to corrupt/ and reads as null; the body's checksum is left to
   * body(), which errors (BodyDamaged) instead of ending on a damaged body.
   */
  async read(id: string): Promise<QueuedMessage | null> {
    for (let attempt = 0; ; attempt++) {
      const state = this.stateOf(id);
      if (!state) return null;
      const f = state === 'active' ? this.fresh.get(id) : undefined;
      if (f?.envelope) {
        const envelope = f.envelope;
        f.envelope = null;
        return { state, envelope, bodyLength: f.length };
      }
      let r: Awaited<ReturnType<typeof scanQueueFile>>;
      try {
        // The body's checksum is checked as it is streamed (body()), before anything ends it.
        r = await scanQueueFile(this.path(state, id), { checkBody: false });
      } catch (err) {
        // The relay or an operator moved the file (deferred ⇄ active, hold, delete) while we
        // opened it: look up where it is now and read it there.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 5) {
          await new Promise((res) => setImmediate(res));
          continue;
        }
        throw err;
      }
      if (r.ok) return { state, envelope: r.envelope, bodyLength: r.bodyLength };
      if (state !== 'corrupt') await this.quarantine(id, state, r.reason);
      return null;
    }
  }

  /** The body, streamed and checked; errors (BodyDamaged) instead of ending if the file is damaged. */
  body(id: string): Readable {
    const state = this.stateOf(id);
    if (!state) throw new SpoolError('io', `no such queue file ${id}`);
    const f = state === 'active' ? this.fresh.get(id) : undefined;
    // Kept until the message leaves active/: DKIM signing and sending both read it.
    if (f) return Readable.from(f.chunks, { objectMode: false });
    return bodyStream(this.path(state, id));
  }

  /**
   * Appends progress records and syncs them. A torn record left by an earlier
   * crash is cut off first, or it would hide everything after it. A crash
   * before the sync may lose the records; the recipients are then tried again
   * (a duplicate, never a loss).
   */
  async record(id: string, records: StatusRecord[]): Promise<void> {
    const state = this.stateOf(id);
    if (!state || !records.length) return;
    const path = this.path(state, id);
    const r = await scanQueueFile(path, { checkBody: false }); // appending needs the structure, not the body's checksum
    if (!r.ok) { await this.quarantine(id, state, r.reason); return; }
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(r.validEnd);
      const buf = Buffer.concat(records.map(statusRecord));
      await fh.write(buf, 0, buf.length, r.validEnd);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Moves a message to another state. Not followed by a directory fsync: a
   * crash may undo the move, which only repeats or delays work.
   */
  async move(id: string, to: QueueState, nextAttemptAt?: number): Promise<void> {
    const from = this.stateOf(id);
    if (!from) throw new SpoolError('io', `no such queue file ${id}`);
    // hold/ is left only through release(): a delivery attempt that was in
    // flight when an operator held the message must not take it back out.
    if (from === 'hold' && to !== 'hold' && to !== 'corrupt') return;
    await this.relocate(id, from, to, nextAttemptAt);
  }

  private async relocate(id: string, from: QueueState, to: QueueState, nextAttemptAt?: number): Promise<void> {
    // Synchronous, like the writer's metadata calls: the file's place and the index change together.
    if (from !== to) renameSync(this.path(from, id), this.path(to, id));
    this.setState(id, { state: to, next: to === 'deferred' ? nextAttemptAt ?? 0 : undefined });
  }

  /** Records an attempt (plus any recipient progress) and parks the message until nextAttemptAt. */
  async defer(id: string, nextAttemptAt: number, reply?: string, progress: StatusRecord[] = []): Promise<void> {
    await this.record(id, [...progress, { t: 'attempt', at: this.clock.now(), next: nextAttemptAt, reply }]);
    await this.move(id, 'deferred', nextAttemptAt);
  }

  /** Quarantine: kept, never delivered until released. */
  async hold(id: string, reason: string, progress: StatusRecord[] = []): Promise<void> {
    await this.record(id, [...progress, { t: 'hold', reason, at: this.clock.now() }]);
    await this.move(id, 'hold');
    this.logger.warn({ queueId: id, reason }, 'message held');
  }

  /** Back to active/ for delivery now (from hold or deferred). */
  async release(id: string): Promise<void> {
    const from = this.stateOf(id);
    if (!from) throw new SpoolError('io', `no such queue file ${id}`);
    // Recorded before the move: a crash in between leaves a held message without its reason, never a released one with it.
    if (from === 'hold') await this.record(id, [{ t: 'release', at: this.clock.now() }]);
    await this.relocate(id, from, 'active');
  }

  /** Removes a message for good: after delivery, or by an operator. */
  async delete(id: string): Promise<void> {
    const state = this.stateOf(id);
    if (!state) return;
    await unlink(this.path(state, id));
    this.setState(id, null);
  }

  stats(): SpoolStats {
    return { ...this.counts, commits: this.commits, fileSyncs: this.fileSyncs, dirSyncs: this.syncer.count + this.holdSyncer.count };
  }

  /** Resolves once active/ and deferred/ are both empty (the benchmark's drain). */
  waitEmpty(): Promise<void> {
    if (this.counts.active + this.counts.deferred === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

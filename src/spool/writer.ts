// Writes one new queue file in incoming/ and commits it: END record, fsync of
// the file, rename into active/, then a directory fsync shared with every other
// commit in flight (group commit). Only then does commit() resolve, and only
// then may the MSA answer 250.
// Metadata calls (open, rename, close, unlink) are made synchronously: they take
// microseconds, while in libuv's small thread pool they would queue behind other
// messages' fsyncs and add that wait to every commit. Data calls stay asynchronous.
import { closeSync, fdatasync, open, renameSync, unlinkSync, writev } from 'node:fs';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { MAGIC, REC_DATA, REC_ENVELOPE, REC_VERSION, endRecord, recordHeader, statusRecord } from './format.ts';
import type { Envelope } from './types.ts';
import { SpoolError, toSpoolError } from './types.ts';

/** Where a test may stop the world to simulate a crash. */
/**
 * Body bytes gathered before one write: each write is a trip through libuv's small thread
 * pool, queued behind other messages' fsyncs, so a 1 MB message costs 4 trips, not 16.
 */
const WRITE_BATCH = 256 * 1024;

/** Bodies up to this size are handed to the relay from memory after commit. */
export const KEEP_MAX = 2 * 1024 * 1024;

export type CommitPoint = 'written' | 'file-synced' | 'renamed' | 'dir-synced';

export interface WriterContext {
  incomingPath(id: string): string;
  activePath(id: string): string;
  holdPath(id: string): string;
  /** Resolves after a directory fsync that started after the caller's rename. */
  syncActiveDir(): Promise<void>;
  syncHoldDir(): Promise<void>;
  countFileSync(): void;
  /** `body` is the whole body, in pieces, when it was small enough to keep (the relay then needs no disk read). */
  committed(id: string, body: { chunks: Buffer[]; length: number } | null, held?: string): void;
  now(): number;
  crashHook?: (point: CommitPoint, id: string) => void | Promise<void>;
}

export interface SpoolWriter {
  readonly id: string;
  /** Body bytes, exactly as they should be relayed. Errors never surface here: commit() reports them. */
  readonly stream: Writable;
  /**
   * Durable once resolved; rejects with SpoolError. With `hold`, the file goes to hold/ instead
   * of active/, with a hold record carrying the reason, under the same fsync rules; the relay never sees it.
   */
  commit(opts?: { hold?: string }): Promise<void>;
  /** Drops the message; safe to call at any time, also after a failed commit. */
  abort(): Promise<void>;
}

export class QueueFileWriter implements SpoolWriter {
  readonly id: string;
  readonly stream: Writable;
  private readonly ctx: WriterContext;
  private fd: number | null = null;
  private head: Buffer | null;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private bodyLength = 0;
  private crc = 0;
  private failure: SpoolError | null = null;
  private chain: Promise<void> = Promise.resolve();
  private state: 'open' | 'committing' | 'done' | 'aborted' = 'open';
  /** The body as written, kept for the relay while it stays under KEEP_MAX (null once larger). */
  private kept: Buffer[] | null = [];
  private keptLen = 0;

  constructor(ctx: WriterContext, envelope: Envelope) {
    this.ctx = ctx;
    this.id = envelope.id;
    const env = Buffer.from(JSON.stringify(envelope));
    this.head = Buffer.concat([recordHeader(REC_VERSION, MAGIC.length), MAGIC, recordHeader(REC_ENVELOPE, env.length), env]);
    // 'wx': O_EXCL, so an id clash fails instead of overwriting a message. Creating a
    // file costs ~45 µs of CPU on ext4: done in the thread pool (bin/portwarden gives it
    // threads enough that it never waits behind the fsyncs), while the body arrives.
    // An abort waits for this (cleanup awaits the chain), then closes and removes the file.
    this.chain = openP(ctx.incomingPath(this.id), 'wx', 0o600).then((fd) => { this.fd = fd; }, (err: unknown) => this.fail(err, 'create'));
    this.stream = new Writable({
      highWaterMark: WRITE_BATCH,
      write: (chunk: Buffer, _enc, cb) => {
        if (this.failure || this.state === 'aborted') return cb(); // discard: commit() will say why
        this.pending.push(chunk);
        this.pendingLen += chunk.length;
        if (this.pendingLen < WRITE_BATCH) return cb();
        this.flush(false).then(() => cb(), () => cb());
      },
    });
  }

  private fail(err: unknown, what: string): void {
    this.failure ??= toSpoolError(err, what);
  }

  /** Writes buffered body (and, at the end, the END record) in one writev. */
  private flush(final: boolean, tail?: Buffer): Promise<void> {
    const parts: Buffer[] = [];
    if (this.head) { parts.push(this.head); this.head = null; }
    if (this.pendingLen) {
      // One record over the buffered chunks as they are (writev takes them all): no copy,
      // unless a client's tiny writes left too many pieces for one system call.
      const chunks = this.pending.length > 64 ? [Buffer.concat(this.pending, this.pendingLen)] : this.pending;
      const len = this.pendingLen;
      this.pending = [];
      this.pendingLen = 0;
      if (this.kept) {
        this.keptLen += len;
        if (this.keptLen > KEEP_MAX) this.kept = null;
        else this.kept.push(...chunks);
      }
      parts.push(recordHeader(REC_DATA, len), ...chunks);
      this.bodyLength += len;
    }
    for (const p of parts) this.crc = crc32(p, this.crc);
    if (final) parts.push(endRecord(this.bodyLength, this.crc));
    if (tail) parts.push(tail); // a status record after END: outside the checksum, like every later one
    if (!parts.length) return this.chain;
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await writeAll(this.fd!, parts);
      } catch (err) {
        this.fail(err, 'write');
      }
    });
    return this.chain;
  }

  async commit(opts: { hold?: string } = {}): Promise<void> {
    const hold = opts.hold;
    if (this.state !== 'open') throw new SpoolError('aborted', `commit in state ${this.state}`);
    this.state = 'committing';
    if (!this.stream.writableFinished) {
      await new Promise<void>((resolve) => {
        this.stream.once('finish', resolve);
        if (!this.stream.writableEnded) this.stream.end();
      });
    }
    let renamed = false;
    try {
      await this.flush(true, hold !== undefined ? statusRecord({ t: 'hold', reason: hold, at: this.ctx.now() }) : undefined);
      if (this.failure) throw this.failure;
      const fd = this.fd!;
      await this.ctx.crashHook?.('written', this.id);
      await datasync(fd);
      this.ctx.countFileSync();
      await this.ctx.crashHook?.('file-synced', this.id);
      const target = hold !== undefined ? this.ctx.holdPath(this.id) : this.ctx.activePath(this.id);
      renameSync(this.ctx.incomingPath(this.id), target);
      renamed = true;
      this.fd = null;
      closeSync(fd);
      await this.ctx.crashHook?.('renamed', this.id);
      await (hold !== undefined ? this.ctx.syncHoldDir() : this.ctx.syncActiveDir());
      await this.ctx.crashHook?.('dir-synced', this.id);
    } catch (err) {
      const e = toSpoolError(err, 'commit');
      this.state = 'aborted';
      await this.cleanup(renamed ? (hold !== undefined ? 'hold' : 'active') : null);
      throw e;
    }
    this.state = 'done';
    const kept = this.kept;
    this.kept = null;
    if (hold !== undefined) this.ctx.committed(this.id, null, hold);
    else this.ctx.committed(this.id, kept ? { chunks: kept, length: this.keptLen } : null);
  }

  async abort(): Promise<void> {
    if (this.state === 'done' || this.state === 'aborted') return;
    const wasCommitting = this.state === 'committing';
    this.state = 'aborted';
    this.stream.destroy();
    if (!wasCommitting) await this.cleanup(null);
  }

  private async cleanup(renamed: 'active' | 'hold' | null): Promise<void> {
    await this.chain;
    if (this.fd !== null) {
      try { closeSync(this.fd); } catch { /* closed already */ }
      this.fd = null;
    }
    // A file renamed into active/ whose directory sync failed was never
    // acknowledged: remove it so the client's retry is the only copy.
    const path = renamed === 'active' ? this.ctx.activePath(this.id) : renamed === 'hold' ? this.ctx.holdPath(this.id) : this.ctx.incomingPath(this.id);
    try { unlinkSync(path); } catch { /* gone */ }
  }
}

/**
 * writev may write less than asked without an error: a filesystem that fills
 * up mid-call does exactly that, and the error only comes with the next write.
 * Unchecked, a short write would let a truncated file be acknowledged.
 */
const writevP = promisify(writev);
const datasync = promisify(fdatasync);
const openP = promisify(open) as (path: string, flags: string, mode: number) => Promise<number>;

async function writeAll(fd: number, parts: Buffer[]): Promise<void> {
  let rest = parts;
  for (;;) {
    const want = rest.reduce((n, b) => n + b.length, 0);
    if (want === 0) return;
    const { bytesWritten } = await writevP(fd, rest);
    if (bytesWritten >= want) return;
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'ENOSPC' });
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) { skip -= b.length; continue; }
      next.push(skip ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
}

// Following a file that another program appends to (FreeRADIUS detail files,
// Kea memfile lease files) the way `tail -F` does, with the position kept
// across restarts: (inode, offset) of the last record handed over and applied,
// saved after each batch. Only whole records are handed over (a record ends at
// the delimiter: a blank line for detail files, a newline for CSV), so a
// half-written record waits for the next poll. Rotation: when the path names
// another inode, the old file (still open, or found again by its inode in the
// same directory after a restart) is read to its end first, then the new one
// from its start. A file shorter than the saved offset was truncated: read
// from its start. A record longer than `maxRecord` is skipped and counted.
import { open, readdir, rename, stat, writeFile, mkdir, readFile, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Clock, Logger } from '../core/index.ts';
import type { DirectoryRepository } from './types.ts';

export interface Position { ino: number; offset: number; /** Hex of the last bytes before offset: a file rewritten to the same length is told apart by them. */ tail?: string }

const TAIL = 32;

/** Where positions are kept: one small JSON file per followed path in a directory of the data dir. */
export class PositionFiles {
  private readonly dir: string;
  constructor(dir: string) { this.dir = dir; }

  private file(path: string): string {
    return join(this.dir, `${createHash('sha256').update(path).digest('hex').slice(0, 16)}.json`);
  }

  async load(path: string): Promise<Position | null> {
    try {
      const j = JSON.parse(await readFile(this.file(path), 'utf8')) as Partial<Position> & { path?: string };
      return Number.isSafeInteger(j.ino) && Number.isSafeInteger(j.offset) && j.path === path
        ? { ino: j.ino!, offset: j.offset!, tail: typeof j.tail === 'string' ? j.tail : '' } : null;
    } catch {
      return null; // none yet, or unreadable: start from the beginning (records are applied idempotently)
    }
  }

  async save(path: string, p: Position): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const f = this.file(path);
    await writeFile(`${f}.tmp`, JSON.stringify({ path, ...p }) + '\n', { mode: 0o600 });
    await rename(`${f}.tmp`, f);
  }
}

export interface FollowOptions {
  path: string;
  delimiter: '\n' | '\n\n';
  positions: PositionFiles;
  /** Applies one batch of whole records in order; resolves once stored. A throw keeps the position before the batch. `mtimeMs`: the file's modification time when read (no record in it is later). */
  handle(records: string[], info: { mtimeMs: number }): Promise<void>;
  maxRecord?: number;
  /** Bytes read per poll at most (a large backlog is worked off over several polls). */
  maxRead?: number;
  onOversize?: () => void;
}

interface Open { fh: FileHandle; ino: number; offset: number; tail: string }

export class Follower {
  private readonly o: FollowOptions;
  private cur: Open | null = null;
  private loaded = false;
  private readonly maxRecord: number;
  private readonly maxRead: number;
  /** After an oversized record: skipping up to the next delimiter. */
  private skipping = false;

  constructor(o: FollowOptions) {
    this.o = o;
    this.maxRecord = o.maxRecord ?? 64 * 1024;
    this.maxRead = o.maxRead ?? 4 * 1024 * 1024;
  }

  /** One pass: reads what was appended (and what rotation left behind). Returns the records handled. */
  async poll(): Promise<number> {
    if (!this.loaded) await this.resume();
    let st;
    try { st = await stat(this.o.path); } catch { st = null; }
    let n = 0;
    if (this.cur && st && st.ino !== this.cur.ino) {
      n += await this.drain(this.cur); // rotated: the rest of the old file first
      await this.cur.fh.close();
      this.cur = null;
    }
    if (!st) return n;
    if (!this.cur) {
      this.cur = { fh: await open(this.o.path, 'r'), ino: st.ino, offset: 0, tail: '' };
      await this.save(this.cur);
    }
    if (!await this.intact(this.cur, st.size)) { // truncated (copytruncate), or rewritten in place
      this.cur.offset = 0;
      this.cur.tail = '';
      this.skipping = false;
      await this.save(this.cur);
    }
    return n + await this.drain(this.cur);
  }

  async close(): Promise<void> {
    await this.cur?.fh.close();
    this.cur = null;
    this.loaded = false;
  }

  /** After a restart: the saved file, wherever rotation moved it in the same directory. */
  private async resume(): Promise<void> {
    this.loaded = true;
    const pos = await this.o.positions.load(this.o.path);
    if (!pos) return;
    const candidates = [this.o.path, ...(await readdir(dirname(this.o.path)).catch(() => [] as string[]))
      .filter((f) => f.startsWith(basename(this.o.path))).map((f) => join(dirname(this.o.path), f))];
    for (const p of candidates) {
      const st = await stat(p).catch(() => null);
      if (st?.isFile() && st.ino === pos.ino) {
        this.cur = { fh: await open(p, 'r'), ino: pos.ino, offset: pos.offset, tail: pos.tail ?? '' };
        if (!await this.intact(this.cur, st.size)) Object.assign(this.cur, { offset: 0, tail: '' });
        return;
      }
    }
  }

  /** The file still holds what we read: at least as long, and the bytes before the offset unchanged. */
  private async intact(f: Open, size: number): Promise<boolean> {
    if (size < f.offset) return false;
    if (!f.tail || f.offset === 0) return true;
    const n = f.tail.length / 2;
    const b = Buffer.alloc(n);
    const { bytesRead } = await f.fh.read(b, 0, n, f.offset - n);
    return bytesRead === n && b.toString('hex') === f.tail;
  }

  private save(f: Open): Promise<void> {
    return this.o.positions.save(this.o.path, { ino: f.ino, offset: f.offset, tail: f.tail });
  }

  /** Reads whole records from the offset on and hands them over; the position moves past what was handled. */
  private async drain(f: Open): Promise<number> {
    let handled = 0;
    let budget = this.maxRead;
    while (budget > 0) {
      const want = Math.min(budget, this.maxRecord * 2);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await f.fh.read(buf, 0, want, f.offset);
      if (bytesRead === 0) break;
      // After the read: every byte read was written by then (a stat before it could predate a record read
      // here, and a release would be dated at the write before it — seen under load in the Kea test).
      const { mtimeMs } = await f.fh.stat();
      budget -= bytesRead;
      const chunk = buf.subarray(0, bytesRead);
      const { records, used } = this.split(chunk, bytesRead < want);
      if (used === 0) break; // a partial record: wait for the writer
      if (records.length) await this.o.handle(records, { mtimeMs });
      handled += records.length;
      f.offset += used;
      f.tail = chunk.subarray(Math.max(0, used - TAIL), used).toString('hex');
      await this.save(f);
    }
    return handled;
  }

  private split(chunk: Buffer, atEnd: boolean): { records: string[]; used: number } {
    const d = Buffer.from(this.o.delimiter);
    const records: string[] = [];
    let at = 0;
    for (;;) {
      const i = chunk.indexOf(d, at);
      if (i < 0) break;
      if (this.skipping) this.skipping = false;
      else records.push(chunk.subarray(at, i).toString('utf8'));
      at = i + d.length;
    }
    // No delimiter in a full window: the record is too long to be one of ours; skip to the next delimiter.
    if (at === 0 && !atEnd && chunk.length >= this.maxRecord) {
      if (!this.skipping) this.o.onOversize?.();
      this.skipping = true;
      return { records, used: chunk.length - (d.length - 1) };
    }
    return { records, used: at };
  }
}

/** What a followed file source (FreeRADIUS detail, Kea leases) is given. */
export interface FileSourceOptions {
  path: string;
  repo: DirectoryRepository;
  positions: PositionFiles;
  logger: Logger;
  clock?: Clock;
  pollMs?: number;
  onOutcome?: (outcome: 'accepted' | 'refused', reason?: string) => void;
}

/** Records a file source took, and those it refused by reason. */
export interface FileSourceCounts { accepted: number; refused: Record<string, number> }

/** Counts a refusal and tells the source's listener. */
export function countRefusal(counts: FileSourceCounts, o: Pick<FileSourceOptions, 'onOutcome'>, reason: string): void {
  counts.refused[reason] = (counts.refused[reason] ?? 0) + 1;
  o.onOutcome?.('refused', reason);
}

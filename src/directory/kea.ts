// Following a Kea memfile lease file (kea-leases4.csv or kea-leases6.csv).
// A lease row (state 0, valid_lifetime > 0) is an assignment from
// expire − valid_lifetime; a row ending it (valid_lifetime 0: released or
// deleted; state 1 declined; state 2 expired-reclaimed) ends it. Kea does not
// write when a lease was released, so the end is the file's modification time
// when we read the row (within pollMs of the release when following live),
// never before the last renewal and never after the lease's own expiry, which
// is also when a lease that simply ran out ends (checked at every poll).
//
// The subscriber is the one an access identity names (hw:…, client-id:… for
// DHCPv4; duid:…, hw:… for DHCPv6); a lease of an unknown device is counted
// ('unknown-subscriber') and not recorded, and it ends a previous holder's
// lease of that address: a device is not a subscriber, and a subscriber made
// up for it would have no contact or tier and would hold the identity the
// operator later gives to the real one.
//
// Kea's lease file cleanup (LFC) renames the file to .1, starts a new one and
// later merges into .2 (via .completed). The position is kept as for detail
// files; after a restart the files Kea itself would load (.completed or .2,
// then .1, then the file) are read to learn which leases are open and when
// they expire, and only what lies past the saved position is applied.
import { readFile, stat } from 'node:fs/promises';
import { systemClock, type Clock } from '../core/index.ts';
import { countRefusal, Follower, type FileSourceCounts, type FileSourceOptions } from './follow.ts';
import { Poller } from './poller.ts';
import { DirectoryError } from './input.ts';
import { headerColumns, parseLeaseRow, type Columns } from './kea-parse.ts';

export type KeaSourceOptions = FileSourceOptions;

export class KeaLeaseSource {
  readonly counts: FileSourceCounts = { accepted: 0, refused: {} };
  private readonly o: KeaSourceOptions;
  private readonly clock: Clock;
  private readonly follower: Follower;
  private readonly poller: Poller;
  /** Open leases we know of: session → expire (s). */
  private readonly open = new Map<string, number>();
  private cols: Columns | null = null;
  private replayed = false;
  get path(): string { return this.o.path; }

  constructor(o: KeaSourceOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.follower = new Follower({ path: o.path, delimiter: '\n', positions: o.positions, handle: (r, i) => this.rows(r, true, i.mtimeMs), onOversize: () => this.refuse('oversize') });
    this.poller = new Poller(() => this.poll(), o.pollMs ?? 1000, (err) =>
      o.logger.error({ event: 'kea-leases', path: o.path, err: String(err) }, 'reading the Kea lease file failed; trying again'));
  }

  async poll(): Promise<number> {
    if (!this.replayed) { await this.replay(); this.replayed = true; }
    const n = await this.follower.poll();
    await this.expire();
    return n;
  }

  start(): void { this.poller.start(); }
  async stop(): Promise<void> { await this.poller.stop(); await this.follower.close(); }

  private refuse(reason: string): void {
    countRefusal(this.counts, this.o, reason);
  }

  /** The files before the saved position are read into memory only; the first time ever, the older LFC files are applied. */
  private async replay(): Promise<void> {
    const p = this.o.path;
    const pos = await this.o.positions.load(p);
    const completed = await stat(`${p}.completed`).catch(() => null);
    const files = [...(completed ? [`${p}.completed`] : [`${p}.2`]), `${p}.1`, p];
    const inodes = await Promise.all(files.map((f) => stat(f).then((s) => s.ino, () => -1)));
    const at = pos ? inodes.indexOf(pos.ino) : -1;
    for (let i = 0; i < files.length; i++) {
      if (inodes[i] < 0) continue;
      if (at >= 0 && i > at) break; // the follower applies these
      if (at < 0 && i === files.length - 1) { await this.header(files[i]); break; } // the follower reads it from its start
      const buf = await readFile(files[i]).catch(() => Buffer.alloc(0));
      const mtimeMs = (await stat(files[i]).catch(() => null))?.mtimeMs ?? this.clock.now();
      const lines = buf.subarray(0, i === at ? pos!.offset : buf.length).toString('utf8').split('\n');
      await this.rows(lines, !pos, mtimeMs);
    }
  }

  private async header(file: string): Promise<void> {
    const first = (await readFile(file, 'utf8').catch(() => '')).split('\n', 1)[0];
    this.cols = headerColumns(first) ?? this.cols;
  }

  private async rows(lines: string[], apply: boolean, mtimeMs: number): Promise<void> {
    for (const line of lines) {
      if (!line.trim()) continue;
      const h = headerColumns(line);
      if (h) { this.cols = h; continue; }
      const row = this.cols ? parseLeaseRow(line, this.cols) : null;
      if (!row) { if (apply) this.refuse('malformed'); continue; }
      const session = `kea|${row.prefix}`;
      const cltt = (row.expire - row.validLifetime) * 1000;
      const prev = this.open.get(session);
      if (row.validLifetime === 0 || row.state === 1 || row.state === 2) {
        this.open.delete(session);
        if (!apply) continue;
        const bound = prev === undefined ? Number.POSITIVE_INFINITY : prev * 1000;
        // Declined: at the decline (cltt). Expired-reclaimed: at the expiry the row keeps. Released or deleted: when written.
        const at = row.state === 2 && row.validLifetime > 0 ? row.expire * 1000
          : Math.min(bound, row.state === 1 ? cltt : Math.max(cltt, Math.trunc(mtimeMs)));
        await this.write(() => this.o.repo.end({ source: 'kea', session }, at));
        continue;
      }
      const end = row.expire * 1000 <= this.clock.now() ? row.expire * 1000 : null;
      if (end === null) this.open.set(session, row.expire); else this.open.delete(session);
      if (!apply) continue;
      let subscriber: string | null = null;
      for (const a of row.access) if ((subscriber = await this.o.repo.resolveAccess(a))) break;
      if (!subscriber) {
        this.refuse('unknown-subscriber');
        this.open.delete(session);
        await this.write(() => this.o.repo.end({ source: 'kea', session }, cltt)); // the address moved to a device we cannot name
        continue;
      }
      await this.write(() => this.o.repo.assign({ subscriber: subscriber!, prefix: row.prefix, start: cltt, end, source: 'kea', session }));
      this.counts.accepted++;
      this.o.onOutcome?.('accepted');
    }
  }

  /** Leases that ran out without a row saying so end at their expiry. */
  private async expire(): Promise<void> {
    const now = this.clock.now();
    for (const [session, exp] of this.open) {
      if (exp * 1000 > now) continue;
      await this.write(() => this.o.repo.end({ source: 'kea', session }, exp * 1000));
      this.open.delete(session);
    }
  }

  /** A write the directory refuses (an end before the start) is counted; a store failure is thrown (the rows are read again). */
  private async write(w: () => Promise<unknown>): Promise<void> {
    try { await w(); } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      this.refuse('invalid');
    }
  }
}

// Following FreeRADIUS detail files (rlm_detail in the accounting section):
// each whole record is parsed (detail-parse.ts) and applied exactly as the
// same RADIUS packet sent to our own server would be (accounting.ts,
// accounting-apply.ts). The position survives restarts and rotation
// (follow.ts). A record that does not parse or is refused is counted and
// skipped; a store failure leaves the position where it was, so the records
// are read again at the next poll (applying is idempotent).
import { systemClock, type Clock } from '../core/index.ts';
import { toRecord } from './accounting.ts';
import { AccountingApplier } from './accounting-apply.ts';
import { detailFields, parseDetailRecord } from './detail-parse.ts';
import { countRefusal, Follower, type FileSourceCounts, type FileSourceOptions } from './follow.ts';
import { Poller } from './poller.ts';
import { DirectoryError } from './input.ts';

export type { FileSourceCounts };

export interface DetailSourceOptions extends FileSourceOptions {
  applier?: AccountingApplier;
}

export class DetailSource {
  readonly counts: FileSourceCounts = { accepted: 0, refused: {} };
  private readonly o: DetailSourceOptions;
  private readonly follower: Follower;
  private readonly applier: AccountingApplier;
  private readonly clock: Clock;
  private readonly poller: Poller;

  constructor(o: DetailSourceOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.applier = o.applier ?? new AccountingApplier(o.repo);
    this.follower = new Follower({ path: o.path, delimiter: '\n\n', positions: o.positions, handle: (r) => this.handle(r), onOversize: () => this.refuse('oversize') });
    this.poller = new Poller(() => this.follower.poll(), o.pollMs ?? 1000, (err) =>
      o.logger.error({ event: 'detail-file', path: o.path, err: String(err) }, 'reading the detail file failed; trying again'));
  }

  /** One pass over what was appended; the number of records read. */
  poll(): Promise<number> { return this.follower.poll(); }
  start(): void { this.poller.start(); }
  async stop(): Promise<void> { await this.poller.stop(); await this.follower.close(); }

  private refuse(reason: string): void {
    countRefusal(this.counts, this.o, reason);
  }

  private async handle(records: string[]): Promise<void> {
    for (const text of records) {
      if (!text.trim()) continue;
      const rec = parseDetailRecord(text);
      const d = rec ? detailFields(rec) : 'malformed';
      const r = d === 'malformed' ? d : toRecord(d.fields, d.arrival ?? this.clock.now(), d.source ?? '');
      if (typeof r === 'string') {
        this.refuse(r);
        this.o.logger.debug({ event: 'detail-file', path: this.o.path, refused: r }, 'detail record refused');
        continue;
      }
      try {
        await this.applier.apply(r);
      } catch (err) {
        if (!(err instanceof DirectoryError)) throw err; // the store: read again at the next poll
        this.refuse('invalid');
        continue;
      }
      this.counts.accepted++;
      this.o.onOutcome?.('accepted');
    }
  }
}

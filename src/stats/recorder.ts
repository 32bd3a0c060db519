// The recorder: the mail path pays a map increment, never a write. Counts are
// kept in memory by hour, series and label and written as one transaction every
// flushMs (and at stop, and before a read); a write that fails keeps them for
// the next one. A crash loses at most flushMs of counts: these are charts, not
// the attribution log.
import { silentLogger, systemClock, type Clock, type Logger } from '../core/index.ts';
import { DAY_MS, hourOf, SERIES, type SeriesName } from './series.ts';
import type { Points, PointsQuery, StatsRow, StatsStore } from './store.ts';

export interface RecorderOptions {
  clock?: Clock;
  logger?: Logger;
  /** How often counts are written (default 5000 ms). */
  flushMs?: number;
  /** Rows older than this many days are pruned (default 400). */
  retentionDays?: number;
  /** Distinct labels per series and hour held in memory; more fold into "other" (default 500). */
  maxLabels?: number;
}

const SEP = '\u0000';

interface HourCounts {
  values: Map<string, number>;
  labels: Map<string, number>;
}

export class StatsRecorder {
  private readonly store: StatsStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly maxLabels: number;
  readonly retentionMs: number;
  /** hour → "series\0label" → value, and the labels per series held for that hour. */
  private pending = new Map<number, HourCounts>();
  /** The hour last counted into (almost every call is in the same hour). */
  private curHour = -1;
  private cur: HourCounts | null = null;
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<unknown> = Promise.resolve();
  private failures = 0;

  constructor(store: StatsStore, o: RecorderOptions = {}) {
    this.store = store;
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    this.flushMs = o.flushMs ?? 5000;
    this.maxLabels = o.maxLabels ?? 500;
    const days = o.retentionDays ?? 400;
    if (!(days > 0)) throw new RangeError('retentionDays must be positive');
    this.retentionMs = days * DAY_MS;
  }

  /** Adds n to a counter series' label in the current hour. */
  count(series: SeriesName, label: string, n = 1): void {
    if (!(n > 0)) return;
    const h = this.hourCounts();
    const key = series + SEP + label;
    const v = h.values.get(key);
    if (v !== undefined) { h.values.set(key, v + n); return; }
    const k = this.admit(h, series, key);
    h.values.set(k, (h.values.get(k) ?? 0) + n);
  }

  /** A gauge series' sample: the hour keeps the highest. */
  gauge(series: SeriesName, label: string, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const h = this.hourCounts();
    const key = this.admit(h, series, series + SEP + label);
    const v = h.values.get(key);
    if (v === undefined || value > v) h.values.set(key, value);
  }

  /** The key a new label is counted under: its own while the series has fewer than maxLabels this hour, else "other". */
  private admit(h: HourCounts, series: string, key: string): string {
    if (h.values.has(key)) return key;
    const n = h.labels.get(series) ?? 0;
    if (n >= this.maxLabels) return series + SEP + 'other';
    h.labels.set(series, n + 1);
    return key;
  }

  /** Starts the flush timer, the prune (at start and daily) and the gauge samplers. */
  start(samplers: ReadonlyArray<{ everyMs: number; sample: () => void }> = []): void {
    this.timers.push(setInterval(() => void this.flushQuietly(), this.flushMs).unref());
    const prune = (): void => void this.prune().catch((err: unknown) => this.logger.error({ event: 'stats', err: String(err) }, 'stats prune failed'));
    prune();
    this.timers.push(setInterval(prune, DAY_MS / 4).unref());
    for (const s of samplers) {
      const run = (): void => { try { s.sample(); } catch (err) { this.logger.error({ event: 'stats', err: String(err) }, 'stats sample failed'); } };
      run();
      this.timers.push(setInterval(run, s.everyMs).unref());
    }
  }

  /** Stops the timers and writes what is held. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flush();
  }

  /** Writes what is held in one transaction; on failure it is kept (and the error thrown). */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.write());
    this.flushing = next.catch(() => {});
    return next;
  }

  /** The points of a period, with what is held written first (a reader never misses a count). */
  async points(q: PointsQuery): Promise<Points> {
    await this.flushQuietly();
    return this.store.points(q);
  }

  async prune(): Promise<number> {
    return this.store.prune(hourOf(this.clock.now() - this.retentionMs));
  }

  private hourCounts(): HourCounts {
    const hour = hourOf(this.clock.now());
    if (hour === this.curHour && this.cur) return this.cur;
    this.curHour = hour;
    return (this.cur = this.hourOfPending(hour));
  }

  private hourOfPending(hour: number): HourCounts {
    let h = this.pending.get(hour);
    if (!h) this.pending.set(hour, (h = { values: new Map(), labels: new Map() }));
    return h;
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const taken = this.pending;
    this.pending = new Map();
    this.cur = null;
    this.curHour = -1;
    const rows: StatsRow[] = [];
    for (const [hour, h] of taken) {
      for (const [key, value] of h.values) {
        const i = key.indexOf(SEP);
        rows.push({ hour, series: key.slice(0, i) as SeriesName, label: key.slice(i + 1), value });
      }
    }
    try {
      await this.store.add(rows);
      this.failures = 0;
    } catch (err) {
      // Back into what was counted meanwhile: counters add, gauges keep the larger.
      for (const r of rows) {
        const h = this.hourOfPending(r.hour);
        const key = this.admit(h, r.series, r.series + SEP + r.label);
        const v = h.values.get(key) ?? 0;
        h.values.set(key, SERIES[r.series].kind === 'gauge' ? Math.max(v, r.value) : v + r.value);
      }
      this.cur = null;
      this.curHour = -1;
      throw err;
    }
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (err) {
      if (this.failures++ % 100 === 0) this.logger.error({ event: 'stats', err: String(err) }, 'stats write failed; counts kept for the next try');
    }
  }
}



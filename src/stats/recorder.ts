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

export class StatsRecorder {
  private readonly store: StatsStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly maxLabels: number;
  readonly retentionMs: number;
  /** hour → "series\0label" → value. */
  private pending = new Map<number, Map<string, number>>();
  /** The map of the hour last counted into (almost every call is in the same hour). */
  private curHour = -1;
  private cur: Map<string, number> | null = null;
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
    const m = this.hourMap();
    const key = series + SEP + label;
    const v = m.get(key);
    if (v !== undefined) m.set(key, v + n);
    else if (m.size < this.maxLabels * 4 || this.labelsOf(m, series) < this.maxLabels) m.set(key, n);
    else m.set(series + SEP + 'other', (m.get(series + SEP + 'other') ?? 0) + n);
  }

  /** A gauge series' sample: the hour keeps the highest. */
  gauge(series: SeriesName, label: string, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const m = this.hourMap();
    const key = series + SEP + label;
    const v = m.get(key);
    if (v === undefined || value > v) m.set(key, value);
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

  private hourMap(): Map<string, number> {
    const h = hourOf(this.clock.now());
    if (h === this.curHour && this.cur) return this.cur;
    let m = this.pending.get(h);
    if (!m) this.pending.set(h, (m = new Map()));
    this.curHour = h;
    this.cur = m;
    return m;
  }

  private labelsOf(m: Map<string, number>, series: string): number {
    let n = 0;
    const prefix = series + SEP;
    for (const k of m.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const taken = this.pending;
    this.pending = new Map();
    this.cur = null;
    this.curHour = -1;
    const rows: StatsRow[] = [];
    for (const [hour, m] of taken) {
      for (const [key, value] of m) {
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
        let m = this.pending.get(r.hour);
        if (!m) this.pending.set(r.hour, (m = new Map()));
        const key = r.series + SEP + r.label;
        const v = m.get(key) ?? 0;
        m.set(key, SERIES[r.series].kind === 'gauge' ? Math.max(v, r.value) : v + r.value);
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



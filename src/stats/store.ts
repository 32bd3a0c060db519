// The hourly statistics on the state store (SQLite or PostgreSQL): add() writes
// a batch of (hour, series, label, value) in one transaction, counters adding
// to what the row holds and gauges keeping the larger; points() reads a period
// back by hour or by UTC day; prune() drops rows older than the retention.
import type { Db, Store } from '../store/index.ts';
import { STATS_MIGRATIONS } from './schema.ts';
import { DAY_MS, HOUR_MS, SERIES, type SeriesName } from './series.ts';

export interface StatsRow {
  hour: number;
  series: SeriesName;
  label: string;
  value: number;
}

export type Step = 'hour' | 'day';

export interface PointsQuery {
  series: readonly SeriesName[];
  /** Inclusive, ms since the epoch; rounded down to its hour (or UTC day). */
  since: number;
  /** Exclusive, ms since the epoch; rounded up to its hour (or UTC day). */
  until: number;
  step: Step;
}

export interface SeriesPoints {
  series: SeriesName;
  kind: 'counter' | 'gauge';
  /** One per label seen in the period, by label; `values[i]` belongs to `times[i]`. */
  labels: Array<{ label: string; values: number[]; total: number }>;
}

export interface Points {
  step: Step;
  /** The start of each bucket (ms since the epoch). */
  times: number[];
  series: SeriesPoints[];
}

/** Buckets one answer may hold (31 days by hour, 400 days by day): a bound on the work one request makes. */
export const MAX_BUCKETS = { hour: 31 * 24, day: 400 } as const;

const CHUNK = 100;
const upsert = (dialect: Db['dialect'], gauge: boolean, n: number): string => {
  const rows = Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ');
  const keep = gauge ? (dialect === 'postgres' ? 'GREATEST(stats_hourly.value, excluded.value)' : 'max(stats_hourly.value, excluded.value)') : 'stats_hourly.value + excluded.value';
  return `INSERT INTO stats_hourly (hour, series, label, value) VALUES ${rows} ON CONFLICT (series, hour, label) DO UPDATE SET value = ${keep}`;
};

/** The bucket start of `ms` for a step. */
const floorTo = (ms: number, size: number): number => Math.floor(ms / size) * size;

export class StatsStore {
  private readonly db: Db;
  /** The migration, started by the constructor; every call waits for it. */
  readonly ready: Promise<void>;

  constructor(store: Store) {
    this.db = store.db;
    this.ready = store.migrate(STATS_MIGRATIONS);
    this.ready.catch(() => {}); // reported by the first call that waits for it
  }

  static async open(store: Store): Promise<StatsStore> {
    const s = new StatsStore(store);
    await s.ready;
    return s;
  }

  /** Writes the rows in one transaction. */
  async add(rows: readonly StatsRow[]): Promise<void> {
    await this.ready;
    if (!rows.length) return;
    const counters = rows.filter((r) => SERIES[r.series].kind === 'counter');
    const gauges = rows.filter((r) => SERIES[r.series].kind === 'gauge');
    await this.db.transaction(async (tx) => {
      for (const [list, gauge] of [[counters, false], [gauges, true]] as const) {
        for (let i = 0; i < list.length; i += CHUNK) {
          const chunk = list.slice(i, i + CHUNK);
          await tx.run(upsert(tx.dialect, gauge, chunk.length), chunk.flatMap((r) => [r.hour, r.series, r.label, Math.round(r.value)]));
        }
      }
    });
  }

  /** The points of each series over the period, zero where nothing was counted. Throws RangeError for a period too long or reversed. */
  async points(q: PointsQuery): Promise<Points> {
    await this.ready;
    const size = q.step === 'day' ? DAY_MS : HOUR_MS;
    const from = floorTo(q.since, size);
    const to = floorTo(q.until + size - 1, size);
    const n = (to - from) / size;
    if (!(n > 0)) throw new RangeError('until must be after since');
    if (n > MAX_BUCKETS[q.step]) throw new RangeError(`at most ${MAX_BUCKETS[q.step]} ${q.step}s at a time`);
    const times = Array.from({ length: n }, (_, i) => from + i * size);
    const names = [...new Set(q.series)];
    const out: SeriesPoints[] = [];
    for (const name of names) {
      const kind = SERIES[name].kind;
      // Buckets made by the database: a month by day reads 31 rows per label, not 744.
      const rows = await this.db.all<{ i: number | string; label: string; value: number | string }>(
        `SELECT CAST((hour - ?) / ? AS BIGINT) AS i, label, ${kind === 'gauge' ? 'MAX' : 'SUM'}(value) AS value FROM stats_hourly
         WHERE series = ? AND hour >= ? AND hour < ? GROUP BY i, label ORDER BY label, i`, [from, size, name, from, to]);
      const byLabel = new Map<string, number[]>();
      for (const r of rows) {
        let values = byLabel.get(r.label);
        if (!values) byLabel.set(r.label, (values = new Array<number>(n).fill(0)));
        values[Number(r.i)] = Number(r.value);
      }
      const labels = [...byLabel].map(([label, values]) => ({ label, values, total: kind === 'gauge' ? Math.max(...values) : values.reduce((a, b) => a + b, 0) }));
      out.push({ series: name, kind, labels });
    }
    return { step: q.step, times, series: out };
  }

  /** Deletes the hours before `before` (ms); returns how many rows. */
  async prune(before: number): Promise<number> {
    await this.ready;
    return (await this.db.run('DELETE FROM stats_hourly WHERE hour < ?', [before])).changes;
  }
}

// The hourly statistics (stats part): the points of chosen series over a
// period, by hour or UTC day, per label. What the console's charts draw and
// `portwarden stats` prints; read only.
import { Type } from 'typebox';
import { SERIES, SERIES_NAMES, type SeriesName } from '../../stats/index.ts';
import { AppError } from '../errors.ts';
import { operation } from '../operation.ts';
import { need, type AppDeps } from '../deps.ts';
import { Input } from './common.ts';

const Series = Type.Union(SERIES_NAMES.map((n) => Type.Literal(n)), { description: SERIES_NAMES.map((n) => `${n}: ${SERIES[n].summary}`).join('; ') });
const Ms = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description });

export const statsSeries = operation({
  name: 'stats.series', summary: 'hourly statistics: the points of each series per label, by hour or by UTC day', scope: 'read', mutates: false,
  http: { method: 'GET', path: '/stats/series' },
  input: Input({
    series: Type.Optional(Type.Array(Series, { maxItems: SERIES_NAMES.length * 2, description: 'which series (all when absent)' })),
    since: Ms('start, ms since the epoch (rounded down to its hour or day)'),
    until: Type.Optional(Ms('end, ms since the epoch, exclusive (default now; rounded up)')),
    step: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')], { description: 'hour (default; at most 31 days) or day (at most 400 days)' })),
  }),
  output: Type.Object({
    step: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
    times: Type.Array(Type.Integer(), { description: 'the start of each bucket, ms since the epoch' }),
    series: Type.Array(Type.Object({
      series: Type.String(), kind: Type.Union([Type.Literal('counter'), Type.Literal('gauge')]),
      labels: Type.Array(Type.Object({ label: Type.String(), values: Type.Array(Type.Number()), total: Type.Number() })),
    })),
  }),
  async run(i, _c, deps: AppDeps) {
    const step = i.step ?? 'hour';
    const until = i.until ?? deps.clock.now();
    if (until <= i.since) throw new AppError('bad-request', 'until must be after since');
    try {
      return await need(deps, 'stats').points({ series: (i.series ?? SERIES_NAMES) as SeriesName[], since: i.since, until, step });
    } catch (err) {
      if (err instanceof RangeError) throw new AppError('bad-request', err.message);
      throw err;
    }
  },
});

export const STATS_OPS = [statsSeries] as const;

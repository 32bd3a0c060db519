// `portwarden stats`: the hourly statistics (the stats.series operation) as a
// table per series, a row per hour (or day) and a column per label, read from
// the state store. The running server writes its counts every stats.flushMs,
// so the last few seconds may not be there yet.
import { parseArgs } from 'node:util';
import { terminalJson, visible } from '../core/index.ts';
import { SERIES_NAMES, StatsStore, type Points, type SeriesName } from '../stats/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';
import { parseWhen } from './audit.ts';

const USAGE = `usage: portwarden stats [--series NAME[,NAME…]] [--since TIME] [--until TIME] [--step hour|day] [--json] [--config FILE]
  TIME is ISO 8601 or an age: 30m, 12h, 7d (default --since 24h, --until now). Times are UTC.
  series: ${SERIES_NAMES.join(', ')}`;

const when = (ms: number, step: string): string => new Date(ms).toISOString().slice(0, step === 'day' ? 10 : 16).replace('T', ' ');

/** The points as text: per series a header line and a tab-separated table (labels through visible()). */
export function formatPoints(p: Points): string {
  const out: string[] = [];
  for (const s of p.series) {
    if (!s.labels.length) { out.push(`${s.series}: nothing counted`, ''); continue; }
    out.push(`${s.series} (${s.kind === 'gauge' ? 'highest sample' : 'count'} per ${p.step})`);
    out.push(['TIME', ...s.labels.map((l) => visible(l.label))].join('\t'));
    p.times.forEach((t, i) => out.push([when(t, p.step), ...s.labels.map((l) => String(l.values[i]))].join('\t')));
    out.push([s.kind === 'gauge' ? 'HIGHEST' : 'TOTAL', ...s.labels.map((l) => String(l.total))].join('\t'), '');
  }
  return out.join('\n').trimEnd();
}

export const statsCommand: Command = {
  summary: 'hourly statistics: messages, refusals by reason, limit hits, blocked port 25, cases, queue',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, series: { type: 'string' },
      since: { type: 'string' }, until: { type: 'string' }, step: { type: 'string' } } });
    if (values.help) { io.out(USAGE); return 0; }
    if (positionals.length) { io.err(USAGE); return 2; }
    const now = Date.now();
    const at = (k: 'since' | 'until', v: string): number => {
      const t = parseWhen(v, now);
      if (t === null) throw new UsageError(`--${k}: expected ISO 8601 or an age like 30m, 12h, 7d, not ${JSON.stringify(v)}`);
      return t;
    };
    const series = values.series?.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of series ?? []) if (!(SERIES_NAMES as string[]).includes(s)) throw new UsageError(`--series: no series ${JSON.stringify(s)} (${SERIES_NAMES.join(', ')})`);
    if (values.step !== undefined && values.step !== 'hour' && values.step !== 'day') throw new UsageError(`--step: hour or day, not ${JSON.stringify(values.step)}`);
    const input = { series: series as SeriesName[] | undefined, since: at('since', values.since ?? '24h'), until: values.until === undefined ? undefined : at('until', values.until), step: values.step };
    const app = await openApp(values.config, io, (store) => ({ stats: new StatsStore(store) }));
    if (!app) return 1;
    try {
      const r = await runOp<Points>(app, 'stats.series', input);
      if (!r.ok) return refuse(io, 'stats', r.error);
      io.out(values.json ? terminalJson(r.value) : formatPoints(r.value));
      return 0;
    } finally {
      await app.close();
    }
  },
};

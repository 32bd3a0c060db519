// The charts page (/charts): a period chooser (a GET form: the last 24 hours,
// 7 days, 30 days, or from one day to another) and one chart per statistics
// series, each an inline SVG followed by its figures as a table. The data come
// from the stats.series operation run as the signed-in person.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../app/index.ts';
import { SERIES_NAMES, type Points } from '../../stats/index.ts';
import { html, type Html } from '../html.ts';
import { consolePage } from './shell.ts';
import { sendPage } from '../respond.ts';
import { runAs } from '../run.ts';
import type { ConsoleDeps, PageAnswer, StaffPrincipal } from '../types.ts';
import { CHARTS } from './charts-texts.ts';
import { chartSvg, chartTable, legend, timeText, type ChartData } from './charts-svg.ts';

const HOUR = 3_600_000, DAY = 86_400_000;
const PERIODS = ['24h', '7d', '30d', 'range'] as const;
type Period = (typeof PERIODS)[number];

export interface ChosenPeriod {
  period: Period;
  since: number;
  until: number;
  step: 'hour' | 'day';
}

export interface PeriodForm { period: string; from: string; to: string }
type FieldErrors = Partial<Record<'from' | 'to', string>>;

const one = (v: unknown): string => (typeof (Array.isArray(v) ? v[0] : v) === 'string' ? String(Array.isArray(v) ? v[0] : v).slice(0, 100) : '');

function day(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return timeText(t, 'day') === s.trim() ? t : null; // 2026-02-30 is no day
}

/** The period asked for, or the errors beside its fields. The last 24 hours and 7 days go by hour, longer periods by day. */
export function choosePeriod(f: PeriodForm, now: number): { ok: true; value: ChosenPeriod } | { ok: false; errors: FieldErrors } {
  const period = (PERIODS as readonly string[]).includes(f.period) ? (f.period as Period) : f.from || f.to ? 'range' : '24h';
  if (period === '24h') return { ok: true, value: { period, since: now - 24 * HOUR, until: now, step: 'hour' } };
  if (period === '7d') return { ok: true, value: { period, since: now - 7 * DAY, until: now, step: 'hour' } };
  if (period === '30d') return { ok: true, value: { period, since: now - 30 * DAY, until: now, step: 'day' } };
  const errors: FieldErrors = {};
  const from = f.from.trim() ? day(f.from) : null;
  const to = f.to.trim() ? day(f.to) : null;
  if (!f.from.trim()) errors.from = CHARTS.needFrom;
  else if (from === null) errors.from = CHARTS.badDate;
  if (f.to.trim() && to === null) errors.to = CHARTS.badDate;
  if (from !== null && to !== null && to < from) errors.to = CHARTS.toBeforeFrom;
  if (errors.from || errors.to) return { ok: false, errors };
  const since = from!;
  // The future has no figures: a period reaching past now ends now.
  const until = Math.max(since + HOUR, Math.min(to !== null ? to + DAY : since + DAY, now));
  if (until - since > 400 * DAY) return { ok: false, errors: { to: CHARTS.tooLong } };
  return { ok: true, value: { period, since, until, step: until - since <= 7 * DAY ? 'hour' : 'day' } };
}

function periodForm(f: PeriodForm, chosen: Period, errors: FieldErrors): Html {
  const field = (name: 'from' | 'to', text: string) => html`<p><label for="${name}">${text}</label>
<input id="${name}" name="${name}" type="text" placeholder="${CHARTS.dateHint}" value="${f[name]}" size="12"${errors[name] ? html` aria-invalid="true" aria-describedby="${name}-error"` : ''}>
${errors[name] ? html`<span class="error" id="${name}-error">${errors[name]}</span>` : ''}</p>`;
  return html`<form method="get" action="/charts" class="period">
<fieldset><legend>${CHARTS.periodLegend}</legend>
${PERIODS.map((p) => html`<label class="choice"><input type="radio" name="period" value="${p}"${p === chosen ? html` checked` : ''}> ${CHARTS.periods[p]}</label>`)}
${field('from', CHARTS.from)}
${field('to', CHARTS.to)}
<p><button type="submit">${CHARTS.show}</button></p>
</fieldset>
</form>`;
}

const STYLE = html`<style>
fieldset{border:1px solid #ccc}label.choice{display:inline-block;font-weight:400;margin-right:1.2em}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.3em 1.2em;padding:0;margin:.3em 0}
svg.chart{max-width:720px;display:block}figure{margin:1.5em 0}
</style>`;

/** One section per series: its chart (or "nothing counted"), the legend, and the figures. */
export function chartSections(points: Points): Html[] {
  return points.series.map((s) => {
    const c: ChartData = { title: CHARTS.series[s.series as keyof typeof CHARTS.series] ?? s.series, kind: s.kind, step: points.step, times: points.times, labels: s.labels };
    const empty = s.labels.every((l) => l.total === 0);
    return html`<section aria-labelledby="h-${s.series}" id="chart-${s.series}">
<h2 id="h-${s.series}">${c.title}</h2>
${empty ? html`<p class="muted">${CHARTS.nothing}</p>` : html`<figure>${chartSvg(c)}${legend(c)}</figure>${chartTable(c)}`}
</section>`;
  });
}

async function chartsPage(req: FastifyRequest, deps: ConsoleDeps, me: StaffPrincipal): Promise<PageAnswer> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const f: PeriodForm = { period: one(q.period), from: one(q.from), to: one(q.to) };
  const now = deps.clock.now();
  const chosen = choosePeriod(f, now);
  const shownPeriod: Period = chosen.ok ? chosen.value.period : 'range';
  let body: Html;
  let status = 200;
  if (!chosen.ok) {
    status = 400;
    body = html``;
  } else {
    const p = chosen.value;
    try {
      const points = await runAs<Points>(deps, me, req.ip, 'stats.series', { series: SERIES_NAMES, since: p.since, until: p.until, step: p.step });
      const last = points.times.length ? points.times[points.times.length - 1] + (p.step === 'day' ? DAY : HOUR) : p.until;
      body = html`<p>${CHARTS.showing(timeText(points.times[0] ?? p.since, 'hour'), timeText(last, 'hour'), p.step === 'day' ? CHARTS.byDay : CHARTS.byHour)}</p>
${chartSections(points)}`;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      status = e.code === 'bad-request' ? 400 : e.code === 'forbidden' ? 403 : 503;
      body = html`<p class="error" role="alert">${CHARTS.unavailable}${e.message}</p>`;
    }
  }
  return {
    status,
    body: consolePage(me, {
      title: CHARTS.title, path: '/charts',
      main: html`${STYLE}<p>${CHARTS.intro}</p>${periodForm(f, shownPeriod, chosen.ok ? {} : chosen.errors)}${body}`,
    }).body,
  };
}

/** The page module (CONSOLE_PAGES). */
export function chartPages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/charts', async (req, reply) => {
    const me = await deps.gate.current(req);
    if (!me) {
      return sendPage(reply, consolePage(null, { status: 401, title: CHARTS.notSignedInTitle,
        main: html`<p>${CHARTS.notSignedIn} <a href="/signin">${CHARTS.signIn}</a></p>` }));
    }
    return sendPage(reply, await chartsPage(req, deps, me));
  });
}

// One chart as inline SVG, built on the server from numbers: stacked bars for a
// counter series, lines for a gauge, y-axis ticks, x-axis times, a title, and
// role="img" with an aria-label that says the figures in words. Built with the
// `html` tag, so a label (a reply key, a rule, an edge name) is escaped like any
// value. No script, no external image: the page's CSP allows neither.
import { html, type Html } from '../html.ts';
import { CHARTS } from './charts-texts.ts';

export interface ChartData {
  title: string;
  kind: 'counter' | 'gauge';
  step: 'hour' | 'day';
  times: readonly number[];
  labels: ReadonlyArray<{ label: string; values: readonly number[]; total: number }>;
}

/** Colour-blind-safe (Okabe–Ito) in order, then grey for "the rest". */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D00'] as const;
const REST = '#8a8a8a';
const W = 720, H = 260, LEFT = 52, RIGHT = 12, TOP = 30, BOTTOM = 40;
const PW = W - LEFT - RIGHT, PH = H - TOP - BOTTOM;

const pad = (n: number): string => String(n).padStart(2, '0');
/** "2026-12-01 14:00" (UTC), or the day alone for a day step. */
export function timeText(ms: number, step: 'hour' | 'day'): string {
  const d = new Date(ms);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return step === 'day' ? day : `${day} ${pad(d.getUTCHours())}:00`;
}

/** A step of 1, 2 or 5 × 10^k at least x (at least 1: counts are whole). */
function niceStep(x: number): number {
  if (!(x > 1)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * e >= x) return m * e;
  return 10 * e;
}

/** The labels drawn: the first PALETTE.length by total, the rest as one. */
export function drawn(c: ChartData): Array<{ label: string; values: number[]; total: number; colour: string }> {
  const sorted = [...c.labels].sort((a, b) => b.total - a.total || (a.label < b.label ? -1 : 1));
  const out = sorted.slice(0, PALETTE.length).map((l, i) => ({ label: l.label, values: [...l.values], total: l.total, colour: PALETTE[i] as string }));
  const rest = sorted.slice(PALETTE.length);
  if (rest.length) {
    const values = c.times.map((_, i) => rest.reduce((s, l) => (c.kind === 'gauge' ? Math.max(s, l.values[i]) : s + l.values[i]), 0));
    out.push({ label: CHARTS.other(rest.length), values, total: c.kind === 'gauge' ? Math.max(0, ...values) : values.reduce((a, b) => a + b, 0), colour: REST });
  }
  return out;
}

/** The chart's figures in one sentence (the image's accessible name). */
export function summary(c: ChartData): string {
  const series = drawn(c);
  const n = c.times.length;
  const per = Array.from({ length: n }, (_, i) => series.reduce((s, l) => (c.kind === 'gauge' ? Math.max(s, l.values[i]) : s + l.values[i]), 0));
  let peakAt = 0;
  for (let i = 1; i < n; i++) if (per[i] > per[peakAt]) peakAt = i;
  const peak = per[peakAt] ?? 0;
  if (!series.length || peak === 0) return CHARTS.summaryEmpty(c.title);
  const parts = series.map((l) => `${l.label} ${l.total}`).join(', ');
  const at = timeText(c.times[peakAt], c.step);
  if (c.kind === 'gauge') return CHARTS.summaryGauge(c.title, parts, peak, at);
  return CHARTS.summaryCounter(c.title, per.reduce((a, b) => a + b, 0), parts, peak, at);
}

export function chartSvg(c: ChartData): Html {
  const series = drawn(c);
  const n = Math.max(1, c.times.length);
  const stacks = Array.from({ length: n }, (_, i) => series.reduce((s, l) => (c.kind === 'gauge' ? Math.max(s, l.values[i] ?? 0) : s + (l.values[i] ?? 0)), 0));
  const max = Math.max(0, ...stacks);
  const step = niceStep(max / 4);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v: number): number => TOP + PH - (v / top) * PH;
  const slot = PW / n;
  const r1 = (v: number): number => Math.round(v * 10) / 10;

  const ticks: Html[] = [];
  for (let v = 0; v <= top; v += step) {
    ticks.push(html`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${r1(y(v))}" y2="${r1(y(v))}" stroke="#ddd"/><text x="${LEFT - 6}" y="${r1(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  const every = Math.max(1, Math.ceil(n / 8));
  const xs: Html[] = [];
  for (let i = 0; i < c.times.length; i += every) {
    const t = timeText(c.times[i], c.step);
    const text = c.step === 'day' ? t.slice(5) : every >= 24 || i === 0 || new Date(c.times[i]).getUTCHours() < every ? t.slice(5) : t.slice(11);
    xs.push(html`<text x="${r1(LEFT + (i + 0.5) * slot)}" y="${H - BOTTOM + 16}" text-anchor="middle">${text}</text>`);
  }

  let marks: Html[];
  if (c.kind === 'counter') {
    const bw = r1(Math.max(1, slot * 0.8));
    marks = [];
    for (let i = 0; i < c.times.length; i++) {
      let base = 0;
      for (const l of series) {
        const v = l.values[i] ?? 0;
        if (v <= 0) continue;
        marks.push(html`<rect x="${r1(LEFT + i * slot + (slot - bw) / 2)}" y="${r1(y(base + v))}" width="${bw}" height="${r1(y(base) - y(base + v))}" fill="${l.colour}"/>`);
        base += v;
      }
    }
  } else {
    marks = series.map((l) => html`<polyline fill="none" stroke="${l.colour}" stroke-width="2" points="${c.times.map((_, i) => `${r1(LEFT + (i + 0.5) * slot)},${r1(y(l.values[i] ?? 0))}`).join(' ')}"/>`);
  }
  const label = summary(c);
  return html`<svg class="chart" role="img" aria-label="${label}" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11" fill="#333">
<title>${label}</title>
<text x="${LEFT}" y="18" font-size="14" font-weight="600" fill="#111">${c.title}</text>
${ticks}
<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + PH}" stroke="#999"/>
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${TOP + PH}" y2="${TOP + PH}" stroke="#999"/>
${marks}
${xs}
</svg>`;
}

/** The colours' key, beside the chart (text the reader can select). */
export function legend(c: ChartData): Html {
  const series = drawn(c);
  if (!series.length) return html``;
  return html`<ul class="legend">${series.map((l) => html`<li><svg width="12" height="12" aria-hidden="true" focusable="false"><rect width="12" height="12" fill="${l.colour}"/></svg> ${l.label}</li>`)}</ul>`;
}

/** The same figures as a table: a row per bucket, a column per label, totals last. */
export function chartTable(c: ChartData): Html {
  const labels = [...c.labels].sort((a, b) => b.total - a.total || (a.label < b.label ? -1 : 1));
  const agg = (vs: number[]): number => (c.kind === 'gauge' ? Math.max(0, ...vs) : vs.reduce((a, b) => a + b, 0));
  return html`<details><summary>${CHARTS.figures}</summary>
<table>
<caption>${c.title}</caption>
<thead><tr><th scope="col">${CHARTS.time}</th>${labels.map((l) => html`<th scope="col">${l.label}</th>`)}<th scope="col">${c.kind === 'gauge' ? CHARTS.highest : CHARTS.total}</th></tr></thead>
<tbody>
${c.times.map((t, i) => html`<tr><th scope="row">${timeText(t, c.step)}</th>${labels.map((l) => html`<td>${l.values[i]}</td>`)}<td>${agg(labels.map((l) => l.values[i]))}</td></tr>\n`)}
</tbody>
<tfoot><tr><th scope="row">${c.kind === 'gauge' ? CHARTS.highest : CHARTS.total}</th>${labels.map((l) => html`<td>${l.total}</td>`)}<td>${agg(labels.map((l) => l.total))}</td></tr></tfoot>
</table>
</details>`;
}

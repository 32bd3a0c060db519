// The charts page: over HTTP (the period form's refusals in words with the input
// kept, escaping, the operation's refusal shown) and in a real Chromium on a test
// listener with two days of seeded statistics: a chart (inline SVG, role="img",
// its figures in the aria-label) and a table per series, no script, nothing
// fetched from elsewhere; screenshot console-charts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { ManualClock, MemoryLogger } from '../../core/index.ts';
import { openStore, type Store } from '../../store/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, loadOperations, type AppDeps } from '../../app/index.ts';
import { StatsRecorder, StatsStore, type StatsRow } from '../../stats/index.ts';
import { launchBrowser, screenshot, CHROMIUM } from '../../../test/lib/browser.ts';
import { existsSync } from 'node:fs';
import { CONSOLE_PAGES, PAGE_HEADERS, type ConsoleDeps, type SessionGate, type StaffPrincipal } from '../index.ts';
import { choosePeriod } from './charts.ts';

const H = 3_600_000;
const DAY1 = Date.UTC(2026, 11, 1);
const NOW = Date.UTC(2026, 11, 2, 10, 30);
const dora: StaffPrincipal = { kind: 'staff', name: 'dora', role: 'desk', sessionId: 's1', csrf: 'c1' };

/** A gate that signs everyone in as dora, unless the request says `x-anon`. */
const gate: SessionGate<StaffPrincipal> = {
  async current(req) { return req.headers['x-anon'] ? null : dora; },
  csrfOk: () => true,
};

async function setup(t: { after(fn: () => unknown): void }, withStats = true): Promise<{ app: FastifyInstance; store: Store; stats: StatsStore }> {
  const store = await openStore(':memory:');
  await store.migrate(AUDIT_MIGRATIONS);
  const clock = new ManualClock(NOW);
  const stats = await StatsStore.open(store);
  const appDeps: AppDeps = { clock, logger: new MemoryLogger(), ...(withStats ? { stats: new StatsRecorder(stats, { clock }) } : {}) };
  const deps: ConsoleDeps = { app: appDeps, audit: new AuditLog(store.db), operations: new Map((await loadOperations()).map((o) => [o.name, o])), clock, logger: new MemoryLogger(), gate };
  const app = Fastify();
  for (const m of CONSOLE_PAGES) await m(app, deps);
  await app.ready();
  t.after(async () => { await app.close(); await store.close(); });
  return { app, store, stats };
}

/** Two days of figures: refusals by reason, accepted mail, a case, the queue; nothing for the other series. */
function seed(): StatsRow[] {
  const rows: StatsRow[] = [];
  for (let h = 0; h < 34; h++) {
    const hour = DAY1 + h * H;
    rows.push({ hour, series: 'messages', label: 'accepted', value: 10 + (h % 5) });
    if (h % 3 === 0) rows.push({ hour, series: 'refusals', label: 'authRequired', value: 2 });
    rows.push({ hour, series: 'queue', label: 'active', value: h % 7 });
  }
  rows.push({ hour: DAY1 + 14 * H, series: 'refusals', label: 'limited', value: 9 });
  rows.push({ hour: DAY1 + 30 * H, series: 'cases', label: 'opened', value: 1 });
  rows.push({ hour: DAY1 + 14 * H, series: 'limit-hits', label: '<script>alert(1)</script>', value: 3 });
  return rows;
}

test('period: the last 24 h and 7 days by hour, 30 days and long ranges by day; bad dates refused in words', () => {
  const ok = (f: { period?: string; from?: string; to?: string }) => choosePeriod({ period: f.period ?? '', from: f.from ?? '', to: f.to ?? '' }, NOW);
  assert.deepEqual(ok({}), { ok: true, value: { period: '24h', since: NOW - 24 * H, until: NOW, step: 'hour' } });
  assert.deepEqual(ok({ period: '30d' }), { ok: true, value: { period: '30d', since: NOW - 30 * 24 * H, until: NOW, step: 'day' } });
  assert.deepEqual(ok({ from: '2026-12-01', to: '2026-12-02' }), { ok: true, value: { period: 'range', since: DAY1, until: NOW, step: 'hour' } }, 'ends now, not in the future');
  assert.deepEqual(ok({ from: '2026-11-30', to: '2026-11-30' }), { ok: true, value: { period: 'range', since: DAY1 - 24 * H, until: DAY1, step: 'hour' } });
  assert.equal((ok({ period: 'range', from: '2026-10-01', to: '2026-12-02' }) as { value: { step: string } }).value.step, 'day');
  assert.deepEqual(ok({ period: 'range', from: '2026-02-30' }), { ok: false, errors: { from: 'Give a date as YYYY-MM-DD, for example 2026-12-01.' } });
  assert.deepEqual(ok({ period: 'range', to: '2026-12-01' }), { ok: false, errors: { from: 'Give the first day of the period.' } });
  assert.deepEqual(ok({ period: 'range', from: '2026-12-02', to: '2026-12-01' }), { ok: false, errors: { to: 'The last day must not be before the first.' } });
  assert.deepEqual(ok({ period: 'range', from: '2025-01-01', to: '2026-12-01' }), { ok: false, errors: { to: 'At most 400 days at a time.' } });
});

test('over HTTP: the page headers, a refused period with the input kept, a label escaped, not signed in, no statistics here', async (t) => {
  const { app, stats } = await setup(t);
  await stats.add(seed());
  const r = await app.inject({ url: '/charts?period=range&from=2026-12-01&to=2026-12-02' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-security-policy'], PAGE_HEADERS['content-security-policy']);
  assert.ok(!r.body.includes('<script'), 'the hostile label is text');
  assert.ok(r.body.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
  assert.equal((r.body.match(/<svg class="chart" role="img"/g) ?? []).length, 5, 'a chart for each series with figures');
  assert.equal((r.body.match(/Nothing was counted in this period\./g) ?? []).length, 4);

  const bad = await app.inject({ url: '/charts?period=range&from=2026-13-01&to=%22%3E%3Cb%3E' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /<input id="from" name="from"[^>]*value="2026-13-01"[^>]*aria-invalid="true" aria-describedby="from-error">\s*<span class="error" id="from-error">Give a date as YYYY-MM-DD/);
  assert.match(bad.body, /value="&#34;&#62;&#60;b&#62;"/, 'the typed text comes back, escaped');
  assert.match(bad.body, /<input type="radio" name="period" value="range" checked>/);

  assert.equal((await app.inject({ url: '/charts', headers: { 'x-anon': '1' } })).statusCode, 401);
  const { app: bare } = await setup(t, false);
  const u = await bare.inject({ url: '/charts' });
  assert.equal(u.statusCode, 503);
  assert.match(u.body, /role="alert">The statistics are not available here: the hourly statistics is not available here/);
});

test('in Chromium: two days of charts, each an inline SVG image with its figures in words and in a table; screenshot console-charts', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, async (t) => {
  const { app, stats } = await setup(t);
  await stats.add(seed());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const b = await launchBrowser();
  t.after(() => b.close());
  const ctx = await b.context();
  const page = await ctx.newPage();
  const problems: string[] = [];
  // A CSP violation would be a console error; a failed load is checked by its response (the browser's own /favicon.ico is no page's).
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
  page.on('request', (req) => { if (!req.url().startsWith(base)) problems.push(`fetched ${req.url()}`); });
  await page.goto(`${base}/charts`);
  // The form, as a person uses it: choose the range, type the days, press Show (a GET: the period is in the address).
  await page.getByLabel('From … to …').check();
  await page.getByLabel('From (date, UTC)').fill('2026-12-01');
  await page.getByLabel('To (date, UTC, included)').fill('2026-12-02');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/period=range&from=2026-12-01&to=2026-12-02/);
  assert.equal(await page.locator('h1').textContent(), 'Charts');
  const imgs = page.getByRole('img');
  assert.equal(await page.locator('svg.chart[role="img"]').count(), 5);
  const refusals = page.locator('#chart-refusals');
  const label = await refusals.locator('svg.chart').getAttribute('aria-label');
  // 12 hours with 2 authRequired (h 0, 3, …, 33) = 24, and 9 limited at 14:00 on the first day (with 2 authRequired? no: 14 is not a multiple of 3).
  assert.equal(label, 'Refusals by reason: 33 in all (authRequired 24, limited 9); at most 9 in one bucket, at 2026-12-01 14:00.');
  assert.ok(await imgs.filter({ has: page.locator('title') }).count() >= 5);
  assert.equal(await refusals.locator('svg.chart rect').count(), 13, 'a bar for each hour with a refusal');
  assert.deepEqual(await refusals.locator('svg.chart text[text-anchor="end"]').allTextContents(), ['0', '5', '10'], 'y ticks: a round step above the highest bar');
  // The same figures as a table, behind <details>.
  await refusals.getByText('Figures of this chart').click();
  const table = refusals.getByRole('table', { name: 'Refusals by reason' });
  assert.equal(await table.isVisible(), true);
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['Time (UTC)', 'authRequired', 'limited', 'Total']);
  assert.equal(await table.locator('tbody tr').count(), 24 + 11, 'every hour of the two days up to now (10:30)');
  assert.deepEqual(await table.locator('tbody tr', { hasText: '2026-12-01 14:00' }).locator('td').allTextContents(), ['0', '9', '9']);
  assert.deepEqual(await table.locator('tfoot td').allTextContents(), ['24', '9', '33']);
  const queue = await page.locator('#chart-queue svg.chart').getAttribute('aria-label');
  assert.match(queue ?? '', /^Queue size \(highest sample\): highest 6 at 2026-12-01 06:00 \(active 6\)\.$/);
  assert.equal(await page.locator('#chart-queue svg.chart polyline').count(), 1, 'a gauge is a line');
  assert.equal(await page.locator('#chart-limit-hits .legend li').textContent(), ' <script>alert(1)</script>', 'the label shown as text');
  assert.equal(await page.locator('script').count(), 0);
  await refusals.getByText('Figures of this chart').click(); // closed again for the picture
  await screenshot(page, 'console-charts');
  assert.deepEqual(problems, []);
});

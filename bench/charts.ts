// The charts page's weight and build time: a month of statistics (every series,
// three labels, every hour) in an in-memory store, /charts rendered through
// Fastify's inject for the last 24 hours, 7 days (by hour) and 30 days (by day).
// Prints figures; asserts nothing. Run: node bench/charts.ts
import Fastify from 'fastify';
import { ManualClock, MemoryLogger } from '../src/core/index.ts';
import { openStore } from '../src/store/index.ts';
import { AUDIT_MIGRATIONS, AuditLog, loadOperations } from '../src/app/index.ts';
import { StatsRecorder, StatsStore, SERIES_NAMES, type StatsRow } from '../src/stats/index.ts';
import { CONSOLE_PAGES } from '../src/web/index.ts';
const NOW = Date.UTC(2026, 11, 2, 10, 30);
const store = await openStore(':memory:'); await store.migrate(AUDIT_MIGRATIONS);
const clock = new ManualClock(NOW); const stats = await StatsStore.open(store);
const rows: StatsRow[] = [];
for (let h = 0; h < 24 * 31; h++) for (const s of SERIES_NAMES) for (let l = 0; l < 3; l++) rows.push({ hour: Math.floor(NOW / 3600000) * 3600000 - h * 3600000, series: s, label: `label-${l}`, value: (h * 7 + l) % 13 });
await stats.add(rows);
const gate = { current: async () => ({ kind: 'staff' as const, name: 'd', role: 'desk' as const, sessionId: 's', csrf: 'c' }), csrfOk: () => true };
const app = Fastify();
const deps = { app: { clock, logger: new MemoryLogger(), stats: new StatsRecorder(stats, { clock }) }, audit: new AuditLog(store.db), operations: new Map((await loadOperations()).map((o) => [o.name, o])), clock, logger: new MemoryLogger(), gate };
for (const m of CONSOLE_PAGES) await m(app, deps as never);
for (const p of ['24h', '7d', '30d']) {
  await app.inject({ url: `/charts?period=${p}` });
  const t0 = performance.now(); let r; for (let i = 0; i < 20; i++) r = await app.inject({ url: `/charts?period=${p}` });
  console.log(`/charts?period=${p}: ${(Buffer.byteLength(r!.body) / 1024).toFixed(0)} KiB, ${((performance.now() - t0) / 20).toFixed(1)} ms per page (built and sent by inject)`);
}
await app.close();
await store.close();

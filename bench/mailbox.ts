// The abuse mailbox: reports accepted per second over SMTP on loopback, each
// with the durable commit a 250 stands for (file written, fdatasync'd, renamed,
// directory fsync'd; row in SQLite with WAL) and the parse (mailparser) — the
// full ARF fixture, 10 sessions each sending REPORTS/10 reports in turn. No
// directory or engine behind it (their cost is theirs). Prints figures; asserts nothing.
// Run: node bench/mailbox.ts [reports, default 2000, at most 20000]
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../src/core/index.ts';
import { InProcessBus } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import { parseReport, ReportStore, startMailbox } from '../src/abuse/index.ts';
import { RawClient } from '../test/lib/smtpclient.ts';
import { ARF, own } from '../test/lib/abuse-reports.ts';
import { tempDir } from '../test/lib/tools.ts';

const total = Math.min(Math.max(Number(process.argv[2] ?? 2000), 10), 20_000);
const SESSIONS = 10;
const dir = tempDir('pw-bench-mailbox-');
const store = await openStore(join(dir.path, 'state.db'));
const reports = await ReportStore.open(store, join(dir.path, 'reports'));
let signals = 0;
const mb = await startMailbox({ hostname: 'mx.bench.example', domains: ['provider.example'], maxReportBytes: 1 << 20, host: '127.0.0.1', port: 0 },
  { store: reports, isOwn: own, sink: { ingest: () => { signals++; return true; } }, bus: new InProcessBus(), logger: new MemoryLogger(), clock: systemClock });
const body = Buffer.concat([ARF, Buffer.from('.\r\n')]);
const latencies: number[] = [];
const session = async (n: number): Promise<void> => {
  const c = await RawClient.connect(mb.port);
  await c.read();
  await c.cmd('EHLO bench.example');
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.cmd('MAIL FROM:<fbl@isp.example>');
    await c.cmd('RCPT TO:<abuse@provider.example>');
    await c.cmd('DATA');
    c.write(body);
    const r = await c.read(30_000);
    if (r.code !== 250) throw new Error(`report refused: ${r.raw}`);
    latencies.push(performance.now() - t);
  }
  await c.cmd('QUIT');
  c.close();
};
const t0 = performance.now();
await Promise.all(Array.from({ length: SESSIONS }, (_, i) => session(Math.floor(total / SESSIONS) + (i < total % SESSIONS ? 1 : 0))));
const ms = performance.now() - t0;
await mb.close();
const stored = (await store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM abuse_reports'))!.n;
await store.close();
dir.remove();
// The parse alone, for where the time goes.
const P = 1000;
const tp = performance.now();
for (let i = 0; i < P; i++) await parseReport(ARF, { isOwn: own });
const parseMs = performance.now() - tp;
latencies.sort((a, b) => a - b);
const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1);
console.log(`abuse mailbox: ${total} ARF reports (${ARF.length} octets) over ${SESSIONS} sessions in ${(ms / 1000).toFixed(2)} s: ${Math.round((total / ms) * 1000)} reports/s`);
console.log(`parseReport alone: ${Math.round((P / parseMs) * 1000)} reports/s on one core`);
console.log(`per report (MAIL to 250): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms; stored ${stored}, signals ${signals}`);

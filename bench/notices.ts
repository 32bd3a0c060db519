// Notices: link tokens signed and verified per second, notice messages built
// per second (template + MIME, no spool), and the notice page's throughput
// with 50 concurrent clients (autocannon) in the garden (case found by the
// client's address through a fake directory and case service: this measures
// the page, not a store). Prints figures; asserts nothing.
// Run: node bench/notices.ts [seconds-per-page-case, default 5]
import autocannon from 'autocannon';
import { MemoryLogger } from '../src/core/index.ts';
import { InProcessBus } from '../src/events/index.ts';
import { loadTemplates, NoticeDesk, NoticeMailer, NoticeTokens, evidenceLines } from '../src/abuse/index.ts';
import { createHttpListener, noticeRoutes } from '../src/http/index.ts';
import { FakeCases, fakeHolders } from '../test/lib/abuse-fakes.ts';

const seconds = Math.min(Math.max(Number(process.argv[2] ?? 5), 1), 60);
const tokens = new NoticeTokens({ secret: Buffer.alloc(32, 1), ttlHours: 24 });
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

let t0 = performance.now();
const N = 100_000;
const links: string[] = [];
for (let i = 0; i < N; i++) links.push(tokens.link(`c${i}`, `cust-${i}`));
const signMs = performance.now() - t0;
t0 = performance.now();
let ok = 0;
for (const l of links) if (tokens.verifyLink(l).ok) ok++;
const verifyMs = performance.now() - t0;

let built = 0;
const mailer = new NoticeMailer({
  from: 'abuse@isp.example', pageUrl: 'https://portal.isp.example/notice', hostname: 'mx.isp.example', templates: loadTemplates(), tokens,
  spool: { async queue(_e, m) { built += m.length; return 'q'; } },
});
const M = 20_000;
const ev = evidenceLines([{ class: 'edge-destinations', amount: 412, count: 9, firstAt: 0, lastAt: 60_000, detail: {} }]);
t0 = performance.now();
for (let i = 0; i < M; i++) {
  await mailer.send({ kind: 'quarantine', caseId: `c${i}`, subscriber: 'cust-1', contacts: ['a@home.example'], evidence: ev, until: null, selfRelease: { allowed: true, why: '', quietSince: 0, left: 1 } });
}
const buildMs = performance.now() - t0;

const cases = new FakeCases();
cases.add({ id: 'c1', subscriber: 'cust-1', active: [{ decision: 'd', action: 'quarantine', rule: 'bot', at: 0, until: null }],
  evidence: [{ id: 1, caseId: 'c1', class: 'edge-destinations', address: '127.0.0.1', port: null, account: null, origin: 'edge:x', amount: 412, count: 9, firstAt: 0, lastAt: 60_000, detail: {} }] });
const desk = new NoticeDesk({ tokens, cases, holders: fakeHolders({ '127.0.0.1': 'cust-1' }), bus: new InProcessBus() });
const l = createHttpListener({ name: 'notice', logger: new MemoryLogger(), maxConnections: 256 });
noticeRoutes(l.app, { desk, contact: 'abuse@isp.example', portalUrl: 'https://portal.isp.example/notice', logger: new MemoryLogger() });
const port = await l.listen('127.0.0.1', 0);
const rows: string[][] = [['page case', 'req/s (mean)', 'p50 ms', 'p99 ms', 'non-2xx']];
for (const [name, path] of [['garden GET / (by address)', '/'], ['link GET /notice?t=', `/notice?t=${tokens.link('c1', 'cust-1')}`], ['captive-portal API', '/captive-portal/api']]) {
  const url = `http://127.0.0.1:${port}${path}`;
  await autocannon({ url, connections: 10, duration: 1 });
  const r = await autocannon({ url, connections: 50, duration: seconds });
  rows.push([name, r.requests.average.toFixed(0), String(r.latency.p50), String(r.latency.p99), String(r.non2xx)]);
}
await l.close();
console.log(`link tokens: sign ${rate(N, signMs)}, verify ${rate(N, verifyMs)} (${ok}/${N} good)`);
console.log(`notice messages built: ${rate(M, buildMs)} (${Math.round(built / M)} bytes each)`);
console.log(`notice page, 50 connections, ${seconds} s per case, plain HTTP, in-process fakes behind it`);
const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((x, i) => (i ? x.padStart(width[i]) : x.padEnd(width[i]))).join('  '));

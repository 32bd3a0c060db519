// The public portal pages: page weight (bytes of the HTML, which is the whole
// page: the style sheet is inline, there is no script, no image, no font) and
// time to first byte, p50 and p99 of sequential requests on one keep-alive
// connection (the time until the response's status line and headers arrive),
// then throughput with 50 concurrent clients (autocannon). "Am I blocked?" runs
// policy.explain on a real SQLite store with the world of test/lib/portal.ts,
// asked as a dynamic subscriber behind a trusted proxy and as a visitor from
// outside our space. Prints figures; asserts nothing.
// Run: node bench/portal.ts [requests-per-page, default 2000] [seconds of load, default 5]
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { ADDR, portalWorld, servePortal } from '../test/lib/portal.ts';

const n = Math.min(Math.max(Number(process.argv[2] ?? 2000), 50), 100_000);
const seconds = Math.min(Math.max(Number(process.argv[3] ?? 5), 1), 60);
const world = await portalWorld();
const { listener, port } = await servePortal(world, { trustedProxies: ['127.0.0.0/8'] });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function once(path: string, headers: Record<string, string>): Promise<{ ttfb: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      const ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ ttfb, bytes, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const PAGES: Array<[string, string, Record<string, string>]> = [
  ['/guides', '/guides', {}],
  ['/guides/thunderbird', '/guides/thunderbird', {}],
  ['/guides/apple (profile link)', '/guides/apple?emailaddress=carol%40isp.example', {}],
  ['/blocked (dynamic, via proxy)', '/blocked', { 'x-forwarded-for': ADDR.dynamic }],
  ['/blocked (quarantined, via proxy)', '/blocked', { 'x-forwarded-for': ADDR.quarantined }],
  ['/blocked (outside our space)', '/blocked', {}],
];
console.log(`portal pages, ${n} sequential requests each (one keep-alive connection), then ${seconds} s with 50 connections`);
for (const [name, path, headers] of PAGES) {
  for (let i = 0; i < 50; i++) await once(path, headers); // warm-up
  const ttfb: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = await once(path, headers);
    if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    ttfb.push(r.ttfb);
    bytes = r.bytes;
  }
  ttfb.sort((a, b) => a - b);
  const load = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 50, duration: seconds, headers });
  console.log(`${name.padEnd(34)} ${String(bytes).padStart(6)} B  TTFB p50 ${pct(ttfb, 50).toFixed(2)} ms  p99 ${pct(ttfb, 99).toFixed(2)} ms  `
    + `| 50 conns: ${Math.round(load.requests.average).toLocaleString('en')} req/s, p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}`);
}
agent.destroy();
await listener.close();
await world.close();

// Admin API throughput: requests/s and latency percentiles for a read
// (GET /api/v1/tokens) and a write (POST /api/v1/tokens: an insert plus its
// audit row) with 100 concurrent clients (autocannon) against the real
// portwarden process over HTTPS, started here with its own data directory.
// Prints a table; asserts nothing (a shared machine moves the numbers).
// Run: node bench/api.ts [seconds-per-case, default 5]
// With PW_BENCH_STORE_URL=postgres://… the server runs on that (empty) PostgreSQL database.
import autocannon from 'autocannon';
import { join } from 'node:path';
import { startWithSink } from '../test/lib/portwarden.ts';

const seconds = Math.min(Math.max(Number(process.argv[2] ?? 5), 1), 60);
const pg = process.env.PW_BENCH_STORE_URL;
const { sink, pw } = await startWithSink({
  extraYaml: `api: {listen: "127.0.0.1:0", maxConnections: 256}\n${pg ? `store: postgres\nstoreUrl: "${pg}"\n` : ''}`,
});
try {
  const token = (await pw.cli(['token', 'add', 'bench', '--scope', 'admin'])).stdout.trim();
  const url = `https://127.0.0.1:${pw.port('api')}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let n = 0;
  const cases: Array<{ name: string; opts: autocannon.Options }> = [
    { name: 'read  GET /api/v1/tokens', opts: { url: `${url}/api/v1/tokens`, headers } },
    {
      name: 'write POST /api/v1/tokens',
      opts: { url: `${url}/api/v1/tokens`, method: 'POST', headers, requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: `b${n++}`, scope: 'read' }) }) }] },
    },
  ];
  const rows: string[][] = [['case', 'req/s (mean)', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors']];
  for (const c of cases) {
    // One short warm-up (JIT, statement cache), then the measured run.
    await autocannon({ ...c.opts, connections: 10, duration: 1 });
    const r = await autocannon({ ...c.opts, connections: 100, duration: seconds });
    rows.push([c.name, r.requests.average.toFixed(0), String(r.latency.p50), String(r.latency.p99), String(r.latency.max), String(r.non2xx), String(r.errors)]);
  }
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`admin API, 100 connections, ${seconds} s per case, HTTPS, store ${pg ? 'postgres' : join(pw.dir, 'data', 'state.db')}`);
  for (const r of rows) console.log(r.map((x, i) => (i ? x.padStart(width[i]) : x.padEnd(width[i]))).join('  '));
} finally {
  await pw.destroy();
  await sink.close();
}

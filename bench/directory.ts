// The directory: "who held ADDRESS[:PORT] at TIME?" with N assignments stored
// (default 1 M): 70% IPv4 /32 dynamic leases (five leases per address over five
// days, the last one open), 20% IPv6 /56 delegated prefixes (two per prefix),
// 10% CGNAT port blocks (50 blocks of 1024 ports per address, two per block).
// The history is written in bulk (batched INSERTs, as if accumulated); then
// assign() itself is timed on the real write path, the repository opened (its
// open index loaded), and lookups timed: at the current time (the in-memory
// index) and at past times (the database's (prefix, start) index), one at a
// time and 32 in flight. Prints figures; asserts nothing.
// Run: node --expose-gc bench/directory.ts [N, default 1000000] [sqlite|postgres]
import { join } from 'node:path';
import os from 'node:os';
import { ManualClock, MemoryLogger } from '../src/core/index.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { directoryMigrations, openDirectory } from '../src/directory/index.ts';
import { startPostgres } from '../test/lib/postgres.ts';
import { tempDir } from '../test/lib/tools.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 1_000_000), 10_000), 5_000_000);
const kind = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const NOW = T0 + 5 * DAY;
const LOOKUPS = 200_000;

const dir = tempDir('pw-bench-dir-');
const pg = kind === 'postgres' ? await startPostgres() : null;
const store: Store = await openStore(pg ? { kind: 'postgres', url: await pg.createDatabase('bench_dir'), poolSize: 8 } : { kind: 'sqlite', path: join(dir.path, 'state.db') });
await store.migrate(directoryMigrations);

const v4Addrs = Math.floor((0.7 * N) / 5);
const v6Prefixes = Math.floor((0.2 * N) / 2);
const cgAddrs = Math.floor((0.1 * N) / 100);
const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const v6 = (i: number) => `2001:db8:${((i >> 8) & 0xffff).toString(16)}:${((i & 255) << 8).toString(16)}::/56`;
const v6Addr = (i: number) => `2001:db8:${((i >> 8) & 0xffff).toString(16)}:${((i & 255) << 8 | 0x12).toString(16)}::1`;
const cg = (i: number) => `100.64.${(i >> 8) & 255}.${i & 255}`;

type Row = [string, string, number, number, number | null, number | null, number, number | null, string, string];
async function fill(): Promise<number> {
  let batch: Row[] = [];
  let n = 0;
  const flush = async () => {
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    await store.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += 100) {
        const part = rows.slice(i, i + 100);
        await tx.run(`INSERT INTO directory_assignments (subscriber, prefix, family, plen, port_lo, port_hi, start_at, end_at, source, session) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, part.flat());
      }
    });
  };
  const add = async (r: Row) => { batch.push(r); n++; if (batch.length >= 5000) await flush(); };
  for (let i = 0; i < v4Addrs; i++) {
    for (let k = 0; k < 5; k++) await add([`sub-${(i * 5 + k) % 700_000}`, v4(i), 4, 32, null, null, T0 + k * DAY + (i % 1000), k === 4 ? null : T0 + (k + 1) * DAY + (i % 1000), 'kea', `l${i}-${k}`]);
  }
  for (let i = 0; i < v6Prefixes; i++) {
    for (let k = 0; k < 2; k++) await add([`sub-${(i * 2 + k) % 700_000}`, v6(i), 6, 56, null, null, T0 + k * 2 * DAY, k === 1 ? null : T0 + 2 * DAY, 'radius', `p${i}-${k}`]);
  }
  for (let i = 0; i < cgAddrs; i++) {
    for (let b = 0; b < 50; b++) {
      for (let k = 0; k < 2; k++) await add([`sub-${(i * 100 + b * 2 + k) % 700_000}`, cg(i), 4, 32, 1024 * (b + 1), 1024 * (b + 1) + 1023, T0 + k * 2 * DAY, k === 1 ? null : T0 + 2 * DAY, 'radius', `c${i}-${b}-${k}`]);
    }
  }
  await flush();
  for (const [f, l] of [[4, 32], [6, 56]]) await store.db.run('INSERT INTO directory_prefix_lengths (family, plen) VALUES (?, ?) ON CONFLICT DO NOTHING', [f, l]);
  return n;
}

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;
const mb = () => `${Math.round(process.memoryUsage().rss / 1048576)} MB`;

let t0 = performance.now();
const stored = await fill();
const fillMs = performance.now() - t0;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => { gc(); return process.memoryUsage().heapUsed; };
const clock = new ManualClock(NOW);
const heap0 = heap();
t0 = performance.now();
const d = await openDirectory(store, { clock, logger: new MemoryLogger(), syncMs: 0 });
const openMs = performance.now() - t0;
const indexMb = Math.round((heap() - heap0) / 1048576);
const rssOpen = mb();

// A query mix like the stored one: 70% v4 dynamic, 20% v6 inside a /56, 10% CGNAT with a port.
let x = 12345;
const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2 ** 31; return x % n; };
function query(): [string, number | undefined] {
  const r = rnd(10);
  if (r < 7) return [v4(rnd(v4Addrs)), undefined];
  if (r < 9) return [v6Addr(rnd(v6Prefixes)), undefined];
  return [cg(rnd(cgAddrs)), 1024 + rnd(50 * 1024)];
}

/** The questions are made before the clock starts: the figure is the lookups', not the bench's string building. */
async function time(name: string, at: () => number, inFlight: number): Promise<string> {
  const n = LOOKUPS;
  const qs = Array.from({ length: n }, () => [...query(), at()] as const);
  const lat = new Float64Array(n);
  let found = 0;
  let next = 0;
  const one = async () => {
    const i = next++;
    const [a, p, when] = qs[i];
    const s = performance.now();
    const h = await d.holdersAt(a, when, p);
    lat[i] = performance.now() - s;
    if (h.length) found++;
  };
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i += inFlight) {
    if (inFlight === 1) await one();
    else await Promise.all(Array.from({ length: Math.min(inFlight, n - i) }, one));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  lat.sort();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(3);
  return `${name.padEnd(28)} ${rate(n, ms).padStart(9)} wall, ${rate(n, cpuMs).padStart(9)} per CPU-second  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  answered ${Math.round((found / n) * 100)}%`;
}

const lines: string[] = [`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs (other work on the machine lowers the wall figures)`];
lines.push(await time('current time, 1 in flight', () => NOW, 1));
lines.push(await time('past time, 1 in flight', () => T0 + rnd(5 * DAY - 60_000), 1));
lines.push(await time('past time, 32 in flight', () => T0 + rnd(5 * DAY - 60_000), 32));

// The real write path: new leases moving addresses between subscribers (each ends the one before).
const W = 20_000;
t0 = performance.now();
for (let i = 0; i < W; i++) {
  clock.advance(10);
  await d.assign({ subscriber: `sub-new-${i}`, prefix: v4(rnd(v4Addrs)), start: clock.now(), source: 'kea', session: `new-${i}` });
}
const writeMs = performance.now() - t0;

console.log(`directory on ${kind}: ${stored.toLocaleString('en')} assignments stored (${v4Addrs.toLocaleString('en')} IPv4 /32 × 5 leases, ${v6Prefixes.toLocaleString('en')} IPv6 /56 × 2, ${cgAddrs} CGNAT addresses × 50 blocks × 2)`);
console.log(`bulk fill ${(fillMs / 1000).toFixed(1)} s; open (load the index of ${d.indexSize.toLocaleString('en')} open/recent assignments) ${(openMs / 1000).toFixed(2)} s, index ≈ ${indexMb} MB of heap; RSS after open ${rssOpen}`);
for (const l of lines) console.log(l);
console.log(`assign() (a moved lease: ends the previous holder, inserts, events) ${rate(W, writeMs)}; RSS at end ${mb()}`);
await d.close();
await store.close();
await pg?.stop();
dir.remove();

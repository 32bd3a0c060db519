// Decisions per second: in-process (goal ≥ 1 M/s on one core) and against a real
// redis-server this script starts (goal ≥ 50 k/s from one node, one round trip
// per decision). Run: node bench/limits/decisions.ts [seconds-per-case]
import { ManualClock, systemClock } from '../../src/core/index.ts';
import { compileLimits, MemoryLimitStore, RedisLimitStore, type LimitKey } from '../../src/limits/index.ts';
import { RedisServer } from '../../src/limits/redis-fixture.ts';

const seconds = Number(process.argv[2] ?? 2);
const compiled = compileLimits({
  tiers: {
    residential: [
      { scope: 'account', counts: 'messages', per: 'hour', limit: 1e9 },
      { scope: 'subscriber', counts: 'messages', per: 'day', limit: 1e9 },
      { scope: 'ip', counts: 'messages', per: 'minute', limit: 1e9 },
      { scope: 'prefix', counts: 'messages', per: 'hour', limit: 1e9 },
    ],
  },
  global: [{ name: 'all', scope: 'aggregate', counts: 'messages', per: 'second', limit: 1e9 }],
});
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const ACCOUNTS = 10_000;
const plans = Array.from({ length: ACCOUNTS }, (_, i) =>
  compiled.limits.plan({ account: `user${i}`, subscriber: `cust${i >> 1}`, ip: `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::1` }).messages);
const single = plans.map((p) => [p[0]]);

function memBench(name: string, keysets: (readonly LimitKey[])[]): void {
  const store = new MemoryLimitStore({ clock: systemClock });
  let n = 0, allowed = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) if (store.check(keysets[(n + i) % ACCOUNTS], 1).allowed) allowed++;
    n += 10_000;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`in-process ${name}: ${Math.round(n / s).toLocaleString('en')} decisions/s (${allowed === n ? 'all allowed' : 'refusals!'})`);
}

function planBench(): void {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 1000; i++) compiled.ok && compiled.limits.plan({ account: `user${i}`, ip: '2001:db8:1:2::3' });
    n += 1000;
  }
  console.log(`plan() (context → keys, once per session): ${Math.round(n / ((performance.now() - t0) / 1000)).toLocaleString('en')}/s`);
}

async function redisBench(name: string, keysets: (readonly LimitKey[])[], concurrency: number): Promise<void> {
  const store = new RedisLimitStore({ url: server.url, clock: new ManualClock() });
  await store.ready(3000);
  let n = 0, degraded = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const d = await store.check(keysets[(n++ * 7 + w) % ACCOUNTS], 1);
      if (d.degraded || d.outcome === 'unavailable') degraded++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const s = (performance.now() - t0) / 1000;
  console.log(`redis ${name}, ${concurrency} in flight: ${Math.round(n / s).toLocaleString('en')} decisions/s${degraded ? ` (${degraded} degraded!)` : ''}`);
  await store.close();
}

memBench('1 key', single);
memBench('5 keys (account, subscriber, ip, /64, aggregate)', plans);
planBench();
const server = new RedisServer();
await server.start();
try {
  await redisBench('1 key', single, 1);
  await redisBench('1 key', single, 256);
  await redisBench('5 keys', plans, 256);
} finally {
  await server.stop();
}

// Peak resident memory of a burst of 100 concurrent cold argon2id checks (each
// holds 7 MiB while it runs): unbounded (concurrency 100, what main did before
// the hash limiter) against the default slots. Each case runs in its own child
// process so its peak RSS (getrusage maxrss) is its own.
// Run: node bench/auth/memory.ts [burst]
import { execFileSync } from 'node:child_process';
import { configureHashing, checkPassword, hashPassword, hashStats } from '../../src/auth/index.ts';

const burst = Number(process.argv[3] ?? process.argv[2] ?? 100);
if (process.argv[2] === 'child') {
  const concurrency = Number(process.argv[4]) || undefined;
  const hash = await hashPassword('pw');
  configureHashing({ concurrency, queue: 10_000 });
  const base = process.memoryUsage().rss;
  const t = performance.now();
  await Promise.all(Array.from({ length: burst }, () => checkPassword(hash, 'wrong')));
  const ms = performance.now() - t;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ base, peak, ms, peakSlots: hashStats().peak }));
} else {
  const me = new URL(import.meta.url).pathname;
  for (const [label, c] of [['unbounded (100 at once)', 100], ['default slots', 0]] as const) {
    const out = JSON.parse(execFileSync(process.execPath, [me, 'child', String(burst), String(c)], { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '32' } }));
    const mib = (b: number) => (b / 1048576).toFixed(0);
    console.log(`${label.padEnd(24)} ${burst} cold argon2id checks: peak RSS ${mib(out.peak)} MiB (idle ${mib(out.base)} MiB), ${out.peakSlots} at once, ${out.ms.toFixed(0)} ms for all`);
  }
}

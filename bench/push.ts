// Benchmark (not a test): decision-to-edge latency by push with ~100 k set
// elements loaded (issue 12 goal: ≤ 1 s). The time from PolicyStore.quarantine()
// (the decision, committed and published as policy.changed) to the agent having
// applied the new version (nft loaded), and to the server's edge.applied (the
// agent's acknowledgement), over 20 decisions; plus the compile time and the
// transfer size of the policy. As root, the real agent applies to nft in a
// network namespace; without root, nft is replaced by a stand-in that accepts
// every script (the compile, transfer, check and diff path only) — the output says which.
// Run: node bench/push.ts [decisions, default 20, at most 100] [--stand-in]  (--stand-in: no nft even as root)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { silentLogger, systemClock } from '../src/core/index.ts';
import { InProcessBus } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import {
  NftApplier, PolicyAgent, PolicyCompiler, PolicyStore, compileNft, compilePolicy, nftRunner, type NftRunner,
} from '../src/netpolicy/index.ts';
import { loopbackCert } from '../test/lib/cert.ts';
import { serveEdge } from '../test/lib/http.ts';
import { canUseNetns, tempDir } from '../test/lib/tools.ts';

const argv = process.argv.slice(2);
const decisions = Math.min(Math.max(Number(argv.find((a) => /^\d+$/.test(a)) ?? 20), 1), 100);
const v4 = (n: number): string => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const ms = (x: number): string => `${x.toFixed(0)} ms`;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const root = canUseNetns() && !argv.includes('--stand-in');
const ns = `pw-bench-push-${randomBytes(3).toString('hex')}`;
const dir = tempDir('pw-bench-push-');
const cert = loopbackCert();
const TOKEN = 'bench-token-0123456789abcdef';

/** Without root: accepts every script and reads back the last full table it was given (what verify() checks). */
function standIn(): NftRunner {
  let table = '';
  return async (args, input) => {
    if (args[0] === '-f' && input?.includes('delete table')) table = input.replace(/^# .*\n/, '');
    return { code: 0, stdout: args[0] === 'list' ? table : args.includes('-j') ? '{"nftables":[]}' : '', stderr: '' };
  };
}

if (root) execFileSync('ip', ['netns', 'add', ns]);
try {
  const store = await openStore(join(dir.path, 'state.db'));
  const bus = new InProcessBus({});
  const policy = await PolicyStore.open(store, systemClock, { changed: (e) => bus.publish('policy.changed', e) });
  // ~100 k elements: 90 k dynamic /28 pools that do not touch (nothing merges) and 10 k quarantined hosts.
  // Rows are written directly: the bench measures the push path, not 100 k audited inserts.
  await store.transaction(async (tx) => {
    for (let i = 0; i < 90_000; i++) await tx.run('INSERT INTO netpolicy_pool (prefix, class) VALUES (?, ?)', [`${v4(0x0a000000 + i * 32)}/28`, 'dynamic']);
    const q = "INSERT INTO netpolicy_quarantine (prefix, subscriber, reason, since, by) VALUES (?, ?, 'bench', 0, 'bench')";
    for (let i = 0; i < 10_000; i++) await tx.run(q, [v4(0x0a000000 + i * 32 * 9 + 3), `s${i}`]);
  });
  const by = { actor: 'bench', reason: 'bench' };
  await policy.addGarden('192.0.2.53', 'both', '53', 'resolver', by);
  await policy.setSettings({ subscriberIfaces: ['ppp*'], upstreamIfaces: ['eth0'], notice4: '192.0.2.80', notice6: '[2001:db8::80]' }, by);

  let t = performance.now();
  const full = compilePolicy(await policy.snapshot());
  const compileMs = performance.now() - t;
  const elements = Object.values(full.sets).reduce((n, s) => n + s.length, 0);
  t = performance.now();
  const nftText = compileNft(full);
  const nftMs = performance.now() - t;
  const body = JSON.stringify(full);
  const cc = new PolicyCompiler();
  await cc.compile(policy);
  await policy.quarantine('198.51.100.1', 'probe', '', by);
  t = performance.now();
  await cc.compile(policy);
  const incMs = performance.now() - t;
  await policy.release('198.51.100.1', by);

  const server = await serveEdge({ store, clock: systemClock, logger: silentLogger, bus, tokens: [{ edge: 'bench', token: TOKEN }], tls: { cert: cert.cert, key: cert.key } });
  const applier = new NftApplier({ runner: root ? nftRunner({ netns: ns }) : standIn(), logger: silentLogger });
  // When each version was enforced: the applier's answer, timed as it returns to the agent.
  const appliedAt = new Map<string, number>(), receivedAt = new Map<string, number>();
  const apply = applier.apply.bind(applier);
  applier.apply = async (p) => {
    receivedAt.set(p.version, performance.now()); // pulled, parsed and checked: what is left is the diff and nft
    const r = await apply(p);
    if (r.ok) appliedAt.set(p.version, performance.now());
    return r;
  };
  const agent = new PolicyAgent({ url: server.url, token: TOKEN, edge: 'bench', applier, logger: silentLogger, trust: { ca: cert.cert }, reportEveryMs: 3_600_000, intervalMs: 3_600_000 });
  const acked = new Map<string, number>();
  bus.subscribe('edge.applied', (e) => acked.set(e.version, performance.now()));
  const ac = new AbortController();
  t = performance.now();
  const running = agent.run(ac.signal);
  const waitFor = async (cond: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
    if (!cond()) throw new Error(`bench: ${what} did not happen within ~6 s`);
  };
  await waitFor(() => !!applier.current && acked.has(applier.current.version) && server.edge!.waiting() === 1, 'the first full apply');
  const firstMs = performance.now() - t;

  const toApply: number[] = [], toAck: number[] = [], toAgent: number[] = [];
  for (let i = 0; i < decisions; i++) {
    const before = applier.current!.version;
    const t0 = performance.now();
    await policy.quarantine(v4(0xc6336400 + 100 + i), `bench-${i}`, `case-${i}`, by);
    await waitFor(() => applier.current!.version !== before && acked.has(applier.current!.version), `decision ${i}`);
    const v = applier.current!.version;
    toApply.push(appliedAt.get(v)! - t0);
    toAgent.push(receivedAt.get(v)! - t0);
    toAck.push(acked.get(v)! - t0);
    await waitFor(() => server.edge!.waiting() === 1, 'the agent waiting again'); // the next decision starts from a held pull
  }
  ac.abort();
  await running;
  await server.close();
  await store.close();
  for (const l of [toApply, toAck, toAgent]) l.sort((a, b) => a - b);

  console.log(`enforcement: ${root ? `real nft ${execFileSync('nft', ['--version'], { encoding: 'utf8' }).trim()} in a network namespace` : 'no root: nft replaced by a stand-in (compile, transfer, check, diff only)'}`);
  console.log(`policy: ${elements} set elements (${Object.entries(full.sets).filter(([, s]) => s.length).map(([k, s]) => `${k}=${s.length}`).join(' ')})`);
  console.log(`compile: full compilePolicy ${ms(compileMs)}; compileNft ${ms(nftMs)} (${(nftText.length / 1e6).toFixed(2)} MB ruleset); one quarantine through the caching compiler ${ms(incMs)}`);
  console.log(`transfer: ${(Buffer.byteLength(body) / 1e6).toFixed(2)} MB of JSON per full pull (every pull after a change is one; no compression)`);
  console.log(`first pull + full apply + acknowledgement: ${ms(firstMs)}`);
  console.log(`decision → policy at the agent, checked, before the diff and nft (the push itself): median ${ms(pct(toAgent, 50))}, p99 ${ms(pct(toAgent, 99))}`);
  console.log(`decision → applied at the edge (${decisions} decisions): median ${ms(pct(toApply, 50))}, p99 ${ms(pct(toApply, 99))}, max ${ms(toApply[toApply.length - 1])}`);
  console.log(`decision → edge.applied at the server (acknowledged): median ${ms(pct(toAck, 50))}, p99 ${ms(pct(toAck, 99))}${decisions < 100 ? ` (p99 of ${decisions} is the largest)` : ''}`);
  console.log(`goal ≤ 1000 ms (p99 decision → applied): ${pct(toApply, 99) <= 1000 ? 'met' : 'NOT met'}; machine load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores`);
} finally {
  cert.remove();
  dir.remove();
  if (root) try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
}

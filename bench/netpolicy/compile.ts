// Benchmark (not a test): compile time and ruleset size for ~1 M prefixes + 100 k exemptions,
// full apply time, and change-to-enforcement latency with 100 k-element sets loaded.
// Run as root: node bench/netpolicy/compile.ts [--no-apply] [--scattered]
// --scattered makes pool prefixes non-adjacent, so nothing aggregates (worst case).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, systemClock } from '../../src/core/index.ts';
import { openStore } from '../../src/store/index.ts';
import { loopbackCert } from '../../test/lib/cert.ts';
import { serveEdge, type Served } from '../../test/lib/http.ts';
import {
  DEFAULT_SETTINGS, NftApplier, PolicyAgent, PolicyStore, compileIos, compileNft, compilePolicy, compileRbldnsd,
  nftRunner, type PolicySnapshot,
} from '../../src/netpolicy/index.ts';

const args = new Set(process.argv.slice(2));
const scattered = args.has('--scattered');
const v4 = (n: number): string => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex = (n: number): string => n.toString(16);

function snapshot(): PolicySnapshot {
  const at = Date.now();
  const pools: PolicySnapshot['pools'] = [];
  const step = scattered ? 2 : 1;
  // 50 k IPv4 /26 pools in 10.0.0.0/8 and 950 k IPv6 /56 delegations in 2001:db8::/32.
  for (let i = 0; i < 50_000; i++) pools.push({ prefix: `${v4(0x0a000000 + i * step * 64)}/26`, class: 'dynamic', note: '' });
  for (let i = 0; i < 950_000; i++) {
    const k = i * step;
    pools.push({ prefix: `2001:db8:${hex((k >>> 8) & 0xffff)}:${hex((k & 0xff) << 8)}::/56`, class: 'dynamic', note: '' });
  }
  const exemptions: PolicySnapshot['exemptions'] = [];
  for (let i = 0; i < 100_000; i++) {
    // 60 k IPv4 hosts and 40 k IPv6 /56s, spread so that none are adjacent.
    const prefix = i < 60_000 ? v4(0x0a000000 + i * 37 * 2) : `2001:db8:${hex(((i * 7) >>> 8) & 0xffff)}:${hex(((i * 7) & 0xff) << 8)}::/56`;
    exemptions.push({ id: i, prefix, customer: `c${i}`, reason: 'bench', grantedBy: 'bench', grantedAt: at, expiresAt: null });
  }
  const quarantines: PolicySnapshot['quarantines'] = [];
  for (let i = 0; i < 10_000; i++) quarantines.push({ prefix: v4(0x0a000001 + i * 101 * 2), subscriber: `s${i}`, reason: 'bench', caseId: '', since: at, by: 'bench' });
  return {
    at, pools, exemptions, quarantines,
    relays: [{ prefix: '192.0.2.25', kind: 'provider', customer: '', note: '' }],
    garden: [{ prefix: '192.0.2.53', proto: 'both', ports: '53', note: '' }],
    settings: { ...DEFAULT_SETTINGS, subscriberIfaces: ['ppp*'], upstreamIfaces: ['eth0'] },
  };
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;
const snap = snapshot();
console.log(`input: ${snap.pools.length} pool prefixes (${scattered ? 'scattered' : 'adjacent'}), ${snap.exemptions.length} exemptions, ${snap.quarantines.length} quarantined`);
let t = performance.now();
const p = compilePolicy(snap);
console.log(`compilePolicy (parse, merge, hash): ${ms(t)}`);
t = performance.now();
const nft = compileNft(p);
console.log(`compileNft: ${ms(t)}; ruleset ${(nft.length / 1e6).toFixed(1)} MB; set elements: ${Object.entries(p.sets).map(([k, v]) => `${k}=${v.length}`).join(' ')}`);
t = performance.now();
const ios = compileIos(p);
console.log(`compileIos: ${ms(t)}; ${(ios.length / 1e6).toFixed(1)} MB`);
t = performance.now();
const z = compileRbldnsd(p);
console.log(`compileRbldnsd: ${ms(t)}; ${((z.ip4trie.length + z.ip6trie.length) / 1e6).toFixed(1)} MB`);

if (!args.has('--no-apply')) {
  const ns = `pw-${randomBytes(3).toString('hex')}-bench`;
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-'));
  execFileSync('ip', ['netns', 'add', ns]);
  const cert = loopbackCert();
  let server: Served | undefined;
  try {
    // The same policy, in a real store (rows written directly: the bench measures compile and apply, not 1 M audited inserts).
    const store = await openStore(join(dir, 'state.db'));
    const policy = await PolicyStore.open(store, systemClock);
    t = performance.now();
    await store.transaction(async (tx) => {
      for (const x of snap.pools) await tx.run('INSERT INTO netpolicy_pool (prefix, class) VALUES (?, ?)', [x.prefix, x.class]);
      const ex = "INSERT INTO netpolicy_exempt (prefix, customer, reason, granted_by, granted_at) VALUES (?, ?, 'bench', 'bench', 0)";
      for (const x of snap.exemptions) await tx.run(ex, [x.prefix, x.customer]);
      const q = "INSERT INTO netpolicy_quarantine (prefix, subscriber, reason, since, by) VALUES (?, ?, 'bench', 0, 'bench')";
      for (const x of snap.quarantines) await tx.run(q, [x.prefix, x.subscriber]);
    });
    console.log(`store filled: ${ms(t)}`);
    const by = { actor: 'bench', reason: 'bench' };
    await policy.setSettings({ subscriberIfaces: ['ppp*'], upstreamIfaces: ['eth0'] }, by);
    server = await serveEdge({ store, clock: systemClock, logger: silentLogger, tokens: [{ edge: 'bench', token: 'bench-token-0123456789' }], tls: { cert: cert.cert, key: cert.key } });
    const url = `${server.url}/v1/netpolicy`;
    const applier = new NftApplier({ runner: nftRunner({ netns: ns }), logger: silentLogger });
    const agent = new PolicyAgent({ url, token: 'bench-token-0123456789', edge: 'bench', applier, logger: silentLogger, trust: { ca: cert.cert } });
    t = performance.now();
    const first = await agent.step();
    console.log(`first pull + full apply + verify (server compiles from store): ${ms(t)} ${first.kind === 'applied' && first.result.ok ? '' : JSON.stringify(first)}`);
    const lat: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      if (i % 2) await policy.addExemption(v4(0x0b000000 + i), `b${i}`, null, by);
      else await policy.quarantine(v4(0x0b000100 + i), `b${i}`, '', by);
      const r = await agent.step();
      lat.push(performance.now() - t0);
      if (r.kind !== 'applied' || !r.result.ok || r.result.mode !== 'delta') console.log('unexpected', JSON.stringify(r));
    }
    lat.sort((x, y) => x - y);
    console.log(`one change → enforced at the edge (store write, recompile part, pull, diff, nft batch): `
      + `median ${lat[5].toFixed(0)} ms, max ${lat[9].toFixed(0)} ms; add up to one poll interval (250 ms default) of waiting`);
    for (const n of [100, 1000, 10_000]) {
      const t0 = performance.now();
      await store.transaction(async () => { for (let i = 0; i < n; i++) await policy.quarantine(v4(0x0c000000 + n * 4 + i * 2), `q${i}`, '', by); });
      const r = await agent.step();
      const dt = performance.now() - t0;
      console.log(`${n} quarantines in one poll: ${dt.toFixed(0)} ms (${r.kind === 'applied' && r.result.ok ? r.result.mode : 'failed'}) → ${(n / (dt / 1000)).toFixed(0)} changes/s`);
    }
    const nftOnly: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      execFileSync('ip', ['netns', 'exec', ns, 'nft', 'add', 'element', 'inet', 'portwarden', 'quarantine4', `{ 11.1.0.${i} }`]);
      nftOnly.push(performance.now() - t0);
    }
    console.log(`for comparison, nft add element as one process per change: ${nftOnly.map((x) => x.toFixed(0)).join(', ')} ms`);
    // nft -i: one long-lived process, one transaction per line.
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-i'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) child.stdin.write(`add element inet portwarden quarantine4 { 11.2.0.${i} }\n`);
    child.stdin.end();
    await new Promise((r) => child.on('close', r));
    console.log(`for comparison, nft -i (long-lived), single-element commands: ${((performance.now() - t0) / 5).toFixed(0)} ms per command`);
    await store.close();
  } finally {
    await server?.close();
    cert.remove();
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Real enforcement: the compiled nftables policy loaded into an edge namespace,
// a reachability matrix for IPv4 and IPv6, forged source-port-25 segments (G3),
// incremental changes, rollback, the agent pull, and blocked-attempt telemetry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  NftApplier, PolicyAgent, PolicyStore, compilePolicy, nftRunner, type NftRunner,
} from '../../src/netpolicy/index.ts';
import { loopbackCert } from '../lib/cert.ts';
import { serveEdge } from '../lib/http.ts';
import { canUseNetns, needTools } from '../lib/tools.ts';
import { Lab } from './lab.ts';

const skip = needTools('nft', 'ip', 'python3') || (canUseNetns() ? false : 'needs root for network namespaces');
const lab = new Lab();
let dir = '', store: Store, policy: PolicyStore, applier: NftApplier, runner: NftRunner;
const clock = new ManualClock(Date.now());
const by = { actor: 'test', reason: 'lab' };

before(async () => {
  if (skip) return;
  await lab.create();
  dir = mkdtempSync(join(tmpdir(), 'pw-netpolicy-'));
  store = await openStore(join(dir, 'state.db'));
  policy = await PolicyStore.open(store, clock);
  const ok = (r: { ok: boolean }) => assert.ok(r.ok);
  ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)));
  ok((await policy.addPool('2001:db8:1::/64', 'dynamic', '', by)));
  ok((await policy.addPool('203.0.113.0/24', 'static', '', by)));
  ok((await policy.addPool('2001:db8:3::/64', 'static', '', by)));
  ok((await policy.addRelay('192.0.2.25', 'provider', '', 'smtp.isp', by)));
  ok((await policy.addRelay('2001:db8:ff::25', 'provider', '', 'smtp.isp', by)));
  for (const a of ['198.51.100.20', '2001:db8:1::20', '198.51.100.30', '2001:db8:1::30']) ok((await policy.addExemption(a, 'c', null, by)));
  ok((await policy.quarantine('198.51.100.30', 's-30', 'case-1', by)));
  ok((await policy.quarantine('2001:db8:1::30', 's-30', 'case-1', by)));
  ok((await policy.addGarden('192.0.2.25', 'tcp', '80', 'portal', by)));
  ok((await policy.addGarden('2001:db8:ff::25', 'tcp', '80', 'portal', by)));
  ok((await policy.setSettings({ subscriberIfaces: ['br-sub'], upstreamIfaces: ['br-up'], action: 'reject' }, by)));
  runner = nftRunner({ netns: lab.edge });
  // Someone else's table on the same host: apply must leave it alone.
  lab.exec(lab.edge, ['nft', '-f', '-'], 'table inet other { chain c { type filter hook input priority 10; counter accept; }; }\n');
  applier = new NftApplier({ runner, logger: silentLogger });
  const r = await applier.applyFull(compilePolicy((await policy.snapshot())));
  assert.ok(r.ok, JSON.stringify(r));
});

after(async () => {
  if (skip) return;
  lab.destroy();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('reachability matrix, IPv4 and IPv6', { skip }, async () => {
  lab.matrix('dyn', [['outside', 25, 'blocked'], ['outside', 587, 'open'], ['outside', 465, 'open'], ['relay', 25, 'open'], ['relay', 587, 'open']]);
  lab.matrix('exempt', [['outside', 25, 'open'], ['outside', 587, 'open']]);
  lab.matrix('static', [['outside', 25, 'open']]);
  lab.matrix('outside', [['static', 25, 'open'], ['exempt', 25, 'open']]);
  // Quarantine wins over the exemption this host also holds: only the walled garden answers.
  lab.matrix('quar', [['relay', 80, 'open'], ['relay', 25, 'blocked'], ['outside', 25, 'blocked'], ['outside', 587, 'blocked'], ['outside', 80, 'blocked']]);
});

test('forged segments from source port 25 never reach dynamic space; exempt hosts get them (G3)', { skip }, async () => {
  for (const f of [4, 6] as const) {
    assert.equal(lab.forgedArrivals('dyn', f), 0, `IPv${f} leak into dynamic space`);
    assert.equal(lab.forgedArrivals('exempt', f), 2, `IPv${f} exempt host should receive both segments`);
  }
});

test('blocked attempts are counted per source with distinct destinations (G6)', { skip }, async () => {
  lab.probe('dyn', [[lab.addr('outside', 4), 25], [lab.addr('static', 4), 25], [lab.addr('outside', 6), 25]]);
  const b = await applier.readBlocked();
  const v4 = b.find((x) => x.source === lab.addr('dyn', 4));
  const v6 = b.find((x) => x.source === lab.addr('dyn', 6));
  assert.ok(v4 && v4.packets >= 2 && v4.destinations === 2, JSON.stringify(b));
  assert.ok(v6 && v6.packets >= 1 && v6.destinations >= 1, JSON.stringify(b));
});

test('apply replaces only portwarden\'s table and leaves the host as it was on failure', { skip }, async () => {
  const other = lab.exec(lab.edge, ['nft', 'list', 'table', 'inet', 'other']);
  assert.match(other, /counter packets \d+ bytes \d+ accept/);
  const good = applier.current!;
  // A read-back that disagrees (the table arrives with another version) must roll back to the previous table.
  let tamper = true;
  const lossy: NftRunner = (args, input) => {
    if (!input || !tamper) return runner(args, input);
    tamper = false;
    return runner(args, input.replace(/comment "portwarden netpolicy [0-9a-f]+"/, 'comment "tampered"'));
  };
  const bad = new NftApplier({ runner: lossy, logger: silentLogger });
  bad.current = good;
  const r = await bad.applyFull(compilePolicy({ ...(await policy.snapshot()), relays: [] }));
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.restored);
  assert.equal(await applier.verify(good), null, 'previous policy is back');
  // nft refusing the script changes nothing at all.
  const broken = new NftApplier({ runner, logger: silentLogger, nft: { telemetryTimeout: 'never' } });
  const r2 = await broken.applyFull(compilePolicy((await policy.snapshot())));
  assert.equal(r2.ok, false);
  assert.equal(await applier.verify(good), null);
  assert.equal(lab.exec(lab.edge, ['nft', 'list', 'table', 'inet', 'other']).replace(/packets \d+ bytes \d+/, ''), other.replace(/packets \d+ bytes \d+/, ''));
});

test('agent pulls over HTTPS with a token, applies changes as element batches, reports counters', { skip }, async () => {
  const cert = loopbackCert();
  const token = 'edge-token-0123456789';
  const server = await serveEdge({ store, clock, logger: silentLogger, tokens: [{ edge: 'edge1', token }], tls: { cert: cert.cert, key: cert.key } });
  try {
    const url = `${server.url}/v1/netpolicy`;
    const trust = { ca: cert.cert };
    const agent = new PolicyAgent({ url, token, edge: 'edge1', applier, logger: silentLogger, trust });
    const first = await agent.step();
    assert.equal(first.kind, 'applied');
    assert.equal((await agent.step()).kind, 'unchanged');
    // Grant an exemption: enforced after one pull, as an element batch.
    assert.ok((await policy.addExemption('198.51.100.10', 'c-10', clock.now() + 60_000, by)).ok);
    const t0 = performance.now();
    const s = await agent.step();
    const latency = performance.now() - t0;
    assert.ok(s.kind === 'applied' && s.result.ok && s.result.mode === 'delta', JSON.stringify(s));
    assert.ok(latency < 1000, `change reached the edge in ${latency} ms`);
    assert.equal(lab.probe('dyn', [[lab.addr('outside', 4), 25]]).get(`${lab.addr('outside', 4)} 25`), 'open');
    // The exemption expires by itself: the next pull takes it away.
    clock.advance(60_001);
    const s2 = await agent.step();
    assert.ok(s2.kind === 'applied' && s2.result.ok && s2.result.mode === 'delta');
    const got = lab.probe('dyn', [[lab.addr('outside', 4), 25]]);
    assert.notEqual(got.get(`${lab.addr('outside', 4)} 25`), 'open');
    // Release from quarantine: the exemption the host holds applies again.
    assert.ok((await policy.release('198.51.100.30', by)).ok);
    assert.equal((await agent.step()).kind, 'applied');
    const q = lab.probe('quar', [[lab.addr('outside', 4), 25], [lab.addr('outside', 4), 587]]);
    assert.equal(q.get(`${lab.addr('outside', 4)} 25`), 'open');
    assert.equal(await agent.report(), true);
    assert.equal((await policy.lastApplied('edge1'))?.version, applier.current?.version);
    assert.ok((await policy.blocked()).some((b) => b.source === lab.addr('dyn', 4) && b.edge === 'edge1'));
    const wrong = new PolicyAgent({ url, token: 'nope', edge: 'edge1', applier, logger: silentLogger, trust });
    assert.deepEqual(await wrong.step(), { kind: 'error', error: 'pull answered 401' });
  } finally {
    await server.close();
    cert.remove();
  }
});

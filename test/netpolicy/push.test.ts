// Push to a real agent (issue 12, item 4): the agent long-polls over real
// HTTPS and applies to real nft in a network namespace. A quarantine reaches it
// on the pull the server was already holding — no new pull, though the agent's
// interval is an hour — and its report makes the server publish edge.applied.
// Stopping the agent ends its held pull; a server that holds nothing is pulled
// on the interval. Orders of events and counts of pulls are asserted, not times.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { InProcessBus, type EventMap } from '../../src/events/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { NftApplier, PolicyAgent, PolicyStore, nftRunner, type PolicyHttpOptions } from '../../src/netpolicy/index.ts';
import { loopbackCert, type TestCert } from '../lib/cert.ts';
import { serveEdge, type Served } from '../lib/http.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('nft', 'ip', 'openssl') || (canUseNetns() ? false : 'needs root for network namespaces');
const ns = `pw-push-${randomBytes(3).toString('hex')}`;
const TOKEN = 'edge1-token-0123456789abcdef';
const by = { actor: 'test', reason: 'push' };
const HOUR = 3_600_000;
let dir: ReturnType<typeof tempDir>, store: Store, policy: PolicyStore, cert: TestCert;
const bus = new InProcessBus({});
const clock = new ManualClock(Date.now());
/** What happened, in order: the server's pulls, committed changes, acknowledgements. */
let log: string[] = [];
bus.subscribe('policy.changed', (e) => log.push(`changed ${e.action} ${e.object}`));
bus.subscribe('edge.applied', (e) => log.push(`applied ${e.version}`));

before(async () => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', ns]);
  dir = tempDir('pw-push-');
  cert = loopbackCert();
  store = await openStore(join(dir.path, 'state.db'));
  policy = await PolicyStore.open(store, clock, { changed: (e) => bus.publish('policy.changed', e) });
  assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
  assert.ok((await policy.addGarden('192.0.2.80', 'tcp', '80', 'notice', by)).ok);
});

after(async () => {
  if (skip) return;
  await store?.close();
  cert?.remove();
  dir?.remove();
  try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
});

/** The edge endpoint over HTTPS; every pull it receives is logged. Only the bus wakes held pulls (no recheck). */
async function server(over: Partial<PolicyHttpOptions> = {}, oldServer = false): Promise<Served> {
  return serveEdge({ store, clock, logger: new MemoryLogger(), bus, recheckMs: 10 * HOUR, tokens: [{ edge: 'edge1', token: TOKEN }], tls: { cert: cert.cert, key: cert.key }, ...over }, (l) => {
    l.app.addHook('preValidation', async (req) => {
      if (!req.url.includes('/compiled')) return;
      // A server from before push: the wait is not understood.
      if (oldServer) delete (req.query as Record<string, unknown>).wait;
      log.push(`pull${(req.query as Record<string, unknown>).wait ? ' wait' : ''}`);
    });
  });
}

function agentFor(url: string, over: Partial<ConstructorParameters<typeof PolicyAgent>[0]> = {}) {
  const applier = new NftApplier({ runner: nftRunner({ netns: ns }), logger: new MemoryLogger() });
  return { applier, agent: new PolicyAgent({ url, token: TOKEN, edge: 'edge1', applier, logger: new MemoryLogger(), trust: { ca: cert.cert }, reportEveryMs: HOUR, ...over }) };
}

/** Resolves with the first event of that name matching pred, from now on. */
function next<K extends 'edge.applied' | 'policy.changed'>(name: K, pred: (e: EventMap[K]) => boolean = () => true): Promise<EventMap[K]> {
  return new Promise((resolve) => { const off = bus.subscribe(name, (e) => { if (pred(e)) { off(); resolve(e); } }); });
}

const quarantined = (): string => execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'set', 'inet', 'portwarden', 'quarantine4'], { encoding: 'utf8' });

test('a quarantine reaches the agent on the pull the server holds, not on the next interval; stopping the agent ends the pull', { skip, timeout: 30_000 }, async () => {
  const srv = await server();
  const ac = new AbortController();
  try {
    const { agent, applier } = agentFor(srv.url, { intervalMs: HOUR, waitSeconds: 50 });
    log = [];
    const first = next('edge.applied');
    const running = agent.run(ac.signal);
    const v1 = (await first).version;
    const held = async (): Promise<void> => {
      for (let i = 0; i < 500 && srv.edge!.waiting() !== 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(srv.edge!.waiting(), 1, 'the agent\'s pull is held');
    };
    await held();
    const second = next('edge.applied', (e) => e.version !== v1);
    assert.ok((await policy.quarantine('198.51.100.66', 's-66', 'case-1', by)).ok);
    const v2 = (await second).version;
    assert.equal(applier.current?.version, v2);
    assert.match(quarantined(), /198\.51\.100\.66/);
    // The first pull names no version; the second is held and answered by the change; the third is held again.
    assert.deepEqual(log.slice(0, 5), ['pull', `applied ${v1}`, 'pull wait', 'changed quarantine.add 198.51.100.66', `applied ${v2}`]);
    await held();
    assert.equal(log[5], 'pull wait');
    ac.abort();
    await running; // an hour's interval and a 50 s wait: without the abort reaching the held pull this would not end
    for (let i = 0; i < 500 && srv.edge!.waiting() !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(srv.edge!.waiting(), 0, 'the server let go of the pull');
  } finally {
    ac.abort();
    await srv.close();
  }
});

test('a server that does not hold pulls is pulled on the interval (the fallback); one at its cap says so and is too', { skip, timeout: 30_000 }, async () => {
  for (const [what, srv, host] of [['old server', await server({}, true), '198.51.100.101'], ['cap reached', await server({ maxWaiters: 0 }), '198.51.100.102']] as const) {
    const ac = new AbortController();
    try {
      const { agent, applier } = agentFor(srv.url, { intervalMs: 50, waitSeconds: 50 });
      log = [];
      const first = next('edge.applied');
      const running = agent.run(ac.signal);
      const v1 = (await first).version;
      const changed = next('edge.applied', (e) => e.version !== v1);
      assert.ok((await policy.quarantine(host, 's', 'c', by)).ok);
      const v2 = (await changed).version;
      assert.equal(applier.current?.version, v2, what);
      const at = log.findIndex((l) => l.startsWith('changed'));
      // Nothing was held: the change was picked up by a pull made after it.
      assert.ok(log.slice(at, log.indexOf(`applied ${v2}`)).some((l) => l.startsWith('pull')), `${what}: ${log.join(', ')}`);
      ac.abort();
      await running;
      // What made the agent wait for its interval: the answer says the pull was not held.
      assert.deepEqual(await agent.step(50), { kind: 'unchanged', held: false }, what);
    } finally {
      ac.abort();
      await srv.close();
    }
  }
  const srv = await server({ maxWaitMs: 1000 });
  try {
    const { agent } = agentFor(srv.url);
    assert.equal((await agent.step()).kind, 'applied');
    assert.deepEqual(await agent.step(50), { kind: 'unchanged', held: true }, 'a held pull that timed out: pull again at once');
  } finally { await srv.close(); }
});

test('a failing server is retried with growing, jittered pauses', { skip }, () => {
  const { agent } = agentFor('https://127.0.0.1:1', { retryMs: 1000, maxRetryMs: 8000 });
  const pauses = [1, 2, 3, 4, 5, 10].map((n) => agent.backoff(n));
  const bounds = [[500, 1000], [1000, 2000], [2000, 4000], [4000, 8000], [4000, 8000], [4000, 8000]];
  pauses.forEach((p, i) => assert.ok(p >= bounds[i][0] && p <= bounds[i][1], `failure ${i}: ${p}`));
  assert.ok(new Set(Array.from({ length: 20 }, () => agent.backoff(3))).size > 1, 'jitter');
});

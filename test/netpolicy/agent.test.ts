// The agent trusts nothing it pulls (issue 10, item 11): a server that sends a
// tampered policy, even one whose hashes it recomputed to match, gets it refused
// field by field; the edge's nft ruleset stays byte for byte what it was, and the
// refusal reaches the server in the next report. The agent verifies the server's
// certificate and, when pinned, its key. Real nft in a network namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  NftApplier, PolicyAgent, PolicyStore, compilePolicy, nftRunner, policyHashes, spkiPin, type CompiledPolicy,
} from '../../src/netpolicy/index.ts';
import { loopbackCert, type TestCert } from '../lib/cert.ts';
import { serveEdge, type Served } from '../lib/http.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';

const skip = needTools('nft', 'ip', 'openssl') || (canUseNetns() ? false : 'needs root for network namespaces');
const ns = `pw-agent-${randomBytes(3).toString('hex')}`;
const TOKEN = 'edge1-token-0123456789abcdef';
const by = { actor: 'test', reason: 'agent checks' };
let dir: ReturnType<typeof tempDir>, store: Store, policy: PolicyStore, cert: TestCert, server: Served | undefined, url = '';
/** When set, /compiled answers this body instead of the real policy: a compromised or impersonated server. */
let tampered: CompiledPolicy | null = null;
const clock = new ManualClock(Date.now());
const ruleset = (): string => execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });

before(async () => {
  if (skip) return;
  execFileSync('ip', ['netns', 'add', ns]);
  dir = tempDir('pw-agent-');
  cert = loopbackCert();
  store = await openStore(join(dir.path, 'state.db'));
  policy = await PolicyStore.open(store, clock);
  assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
  assert.ok((await policy.addRelay('192.0.2.25', 'provider', '', '', by)).ok);
  assert.ok((await policy.addGarden('192.0.2.25', 'tcp', '80,443', 'portal', by)).ok);
  assert.ok((await policy.setSettings({ subscriberIfaces: ['ppp*'], upstreamIfaces: ['eth0'] }, by)).ok);
  server = await serveEdge({ store, clock, logger: new MemoryLogger(), tokens: [{ edge: 'edge1', token: TOKEN }], tls: { cert: cert.cert, key: cert.key } }, (l) => {
    l.app.addHook('onRequest', async (req, reply) => {
      if (tampered && req.url.endsWith('/compiled')) {
        return reply.code(200).header('content-type', 'application/json').header('etag', `"${tampered.version}"`).send(JSON.stringify(tampered));
      }
    });
  });
  url = server.url;
});

after(async () => {
  if (skip) return;
  server?.close();
  await store?.close();
  cert?.remove();
  dir?.remove();
  try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ }
});

const agentWith = (over: Partial<ConstructorParameters<typeof PolicyAgent>[0]> = {}) => {
  const logger = new MemoryLogger();
  const applier = new NftApplier({ runner: nftRunner({ netns: ns }), logger });
  return { logger, applier, agent: new PolicyAgent({ url, token: TOKEN, edge: 'edge1', applier, logger, trust: { ca: cert.cert }, ...over }) };
};

/** The good policy with one change, hashes recomputed as a malicious server would. */
async function forge(change: (p: Record<string, any>) => void): Promise<CompiledPolicy> {
  const p = structuredClone(compilePolicy((await policy.snapshot()))) as unknown as Record<string, any>;
  change(p);
  try { Object.assign(p, policyHashes(p.settings, p.garden, p.sets)); } catch { /* unhashable garbage: sent as it is */ }
  return p as unknown as CompiledPolicy;
}

test('a tampered policy is refused field by field and leaves the nft ruleset unchanged; the refusal is reported', { skip }, async () => {
  const { agent, applier } = agentWith();
  const first = await agent.step();
  assert.ok(first.kind === 'applied' && first.result.ok, JSON.stringify(first));
  const good = ruleset();
  assert.match(good, /iifname "ppp\*" tcp dport 25 jump smtp_out/);
  const cases: Array<[string, (p: Record<string, any>) => void, RegExp]> = [
    ['interface name with nft syntax', (p) => { p.settings.subscriberIfaces = ['ppp0" accept; iifname "x']; }, /settings\.subscriberIfaces: bad interface name/],
    ['interface name with a newline', (p) => { p.settings.upstreamIfaces = ['eth0\n}\ntable inet evil {']; }, /settings\.upstreamIfaces: bad interface name/],
    ['unknown action', (p) => { p.settings.action = 'accept'; }, /settings\.action: "accept" is not one of reject, icmp, drop/],
    ['relay25 not a boolean', (p) => { p.settings.relay25 = 'yes'; }, /settings\.relay25/],
    ['set element with nft syntax', (p) => { p.sets.relay4 = ['0.0.0.0/0 }; flush ruleset; #']; }, /sets\.relay4\[0\]: .* is not an IPv4 address/],
    ['bad prefix (host bits set)', (p) => { p.sets.dynamic4 = ['198.51.100.1/24']; }, /sets\.dynamic4\[0\]/],
    ['IPv6 element in an IPv4 set', (p) => { p.sets.exempt4 = ['2001:db8::1']; }, /sets\.exempt4\[0\]/],
    ['overlapping elements', (p) => { p.sets.dynamic4 = ['10.0.0.0/8', '10.1.0.0/16']; }, /sets\.dynamic4\[1\]: .* overlaps/],
    ['garden port 70000', (p) => { p.garden[0].ports = '70000'; }, /garden\[0\]\.ports: bad port list/],
    ['garden ports with nft syntax', (p) => { p.garden[0].ports = '80 accept; tcp dport 25'; }, /garden\[0\]\.ports: bad port list/],
    ['garden prefix not a prefix', (p) => { p.garden[0].prefix = '192.0.2.25 tcp dport 25 accept; ip daddr 192.0.2.25'; }, /garden\[0\]\.prefix/],
    ['garden family that disagrees', (p) => { p.garden[0].family = 6; }, /garden\[0\]\.family/],
    ['unknown garden protocol', (p) => { p.garden[0].proto = 'sctp'; }, /garden\[0\]\.proto/],
    ['content that does not match its version', (p) => { p.sets.dynamic4 = []; }, /version: .* does not match the content/],
  ];
  for (const [what, change, why] of cases) {
    tampered = await forge(change);
    if (what.startsWith('content')) tampered.version = 'f'.repeat(32);
    const r = await agent.step();
    assert.equal(r.kind, 'rejected', `${what}: ${JSON.stringify(r)}`);
    assert.match(r.kind === 'rejected' ? r.error : '', why, what);
    assert.equal(ruleset(), good, `${what}: the ruleset changed`);
    assert.equal(applier.current?.version, first.kind === 'applied' ? first.version : '', what);
  }
  // The refusal travels with the next report and is kept as the edge's status.
  assert.equal(await agent.report(), true);
  const [st] = (await policy.edges());
  assert.equal(st.edge, 'edge1');
  assert.match(st.rejected?.error ?? '', /version: .* does not match the content/);
  // A sound policy again is applied, and clears the refusal.
  const old = compilePolicy((await policy.snapshot()));
  tampered = null;
  assert.ok((await policy.quarantine('198.51.100.66', 's', 'c', by)).ok);
  const again = await agent.step();
  assert.ok(again.kind === 'applied' && again.result.ok, JSON.stringify(again));
  assert.equal(agent.rejected, null);
  assert.equal(await agent.report(), true);
  assert.equal((await policy.edges())[0].rejected, null);
  // The older policy replayed (genuine, hashes and all) is refused: it would lift the quarantine.
  const newer = ruleset();
  tampered = old;
  const replay = await agent.step();
  assert.ok(replay.kind === 'rejected' && /^revision: \d+ is older than the enforced \d+/.test(replay.error), JSON.stringify(replay));
  assert.equal(ruleset(), newer);
  tampered = null;
});

test('the agent verifies the server: an unknown CA, a wrong pin and plain http are refused; the right pin is accepted', { skip }, async () => {
  const other = loopbackCert('someone-else');
  try {
    const { agent: untrusting } = agentWith({ trust: { ca: other.cert } });
    const r = await untrusting.step();
    assert.ok(r.kind === 'error' && /self-signed|unable to verify|certificate/i.test(r.error), JSON.stringify(r));
    const { agent: wrongPin } = agentWith({ trust: { ca: cert.cert, pins: [spkiPin(other.cert)] } });
    const w = await wrongPin.step();
    assert.ok(w.kind === 'error' && /matches no --pin/.test(w.error), JSON.stringify(w));
    const { agent: pinned } = agentWith({ trust: { ca: cert.cert, pins: [spkiPin(cert.cert)] } });
    assert.notEqual((await pinned.step()).kind, 'error');
    assert.throws(() => agentWith({ url: url.replace('https:', 'http:') }), /HTTPS only/);
  } finally { other.remove(); }
});

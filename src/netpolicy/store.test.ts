import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { serveEdge, tempStore } from '../../test/lib/http.ts';
import { PolicyCompiler, PolicyStore, compilePolicy, runPolicyCommand } from './index.ts';

async function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'pw-netpolicy-'));
  const store = await openStore(join(dir, 'state.db'));
  const clock = new ManualClock();
  return { store, clock, policy: await PolicyStore.open(store, clock), done: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}
const by = { actor: 'alice', reason: 'ticket 7' };

test('every change is audited with who, when, what, why; changes without them are refused', async () => {
  const { policy, clock, done } = await fresh();
  try {
    assert.equal((await policy.addPool('198.51.100.0/24', 'dynamic', '', { actor: 'alice', reason: '' })).ok, false);
    assert.equal((await policy.addPool('198.51.100.1/24', 'dynamic', '', by)).ok, false);
    const r0 = (await policy.revision());
    assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', 'dhcp', by)).ok);
    clock.advance(1000);
    assert.ok((await policy.quarantine('198.51.100.66', 's-66', 'case-1', { actor: 'abuse', reason: 'bot' })).ok);
    assert.equal((await policy.revision()), r0 + 2);
    const a = (await policy.audit());
    assert.deepEqual(a.map((x) => [x.actor, x.action, x.object, x.reason, x.at]), [
      ['abuse', 'quarantine.add', '198.51.100.66', 'bot', clock.now()],
      ['alice', 'pool.add', '198.51.100.0/24', 'ticket 7', clock.now() - 1000],
    ]);
    assert.equal((await policy.release('198.51.100.67', by)).ok, false);
    assert.equal((await policy.audit()).length, 2, 'a refused change leaves no audit record');
  } finally { await done(); }
});

test('expired exemptions stop applying by themselves', async () => {
  const { policy, clock, done } = await fresh();
  try {
    assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
    assert.ok((await policy.addExemption('198.51.100.7', 'c-7', clock.now() + 3_600_000, by)).ok);
    assert.ok((await policy.addExemption('198.51.100.8', 'c-8', null, by)).ok);
    assert.equal((await policy.addExemption('198.51.100.9', 'c-9', clock.now() - 1, by)).ok, false);
    const before = compilePolicy((await policy.snapshot()));
    assert.deepEqual(before.sets.exempt4, ['198.51.100.7-198.51.100.8']);
    const rev = (await policy.revision()), expired = (await policy.expiredCount());
    clock.advance(3_600_000);
    assert.equal((await policy.revision()), rev);
    assert.equal((await policy.expiredCount()), expired + 1, 'the cache key moves without any write');
    assert.deepEqual(compilePolicy((await policy.snapshot())).sets.exempt4, ['198.51.100.8']);
    assert.equal((await policy.listExemptions(true)).length, 2, 'history is kept');
  } finally { await done(); }
});

test('CLI: add, list, compile, diff, help; usage errors exit 2', async () => {
  const { store, clock, done } = await fresh();
  let out = '', err = '';
  const ctx = { store, clock, logger: silentLogger, out: (s: string) => { out += s; }, err: (s: string) => { err += s; }, actor: 'ops' };
  const run = async (line: string) => { out = ''; err = ''; return runPolicyCommand(line.split(' '), ctx); };
  try {
    assert.equal(await run('pool add 198.51.100.0/24 --class dynamic --reason roll-out'), 0);
    assert.equal(await run('pool add 2001:db8:1000::/40 --class cgnat --reason roll-out'), 0);
    assert.equal(await run('pool add 198.51.100.0/24 --class nope --reason x'), 2);
    assert.equal(await run('exempt add 198.51.100.7 --customer c-7 --expires 30d --reason premium'), 0);
    assert.match(out, /granted until 2026-01-31T00:00:00.000Z/);
    assert.equal(await run('exempt add 198.51.100.8 --customer c-8'), 1);
    assert.match(err, /reason/);
    assert.equal(await run('exempt list'), 0);
    assert.match(out, /198\.51\.100\.7\s+c-7\s+ops/);
    assert.equal(await run('diff'), 0);
    assert.match(out, /\+ dynamic4 198\.51\.100\.0\/24/);
    assert.match(out, /\+ exempt4 198\.51\.100\.7/);
    assert.equal(await run('compile --format nft'), 0);
    assert.match(out, /ip6 saddr @dynamic6 counter reject with tcp reset/);
    assert.equal(await run('compile --format rbldnsd'), 0);
    assert.match(out, /^198\.51\.100\.0\/24\n!198\.51\.100\.7\/32\n$/m);
    assert.equal(await run('compile --format pdf'), 2);
    assert.equal(await run('quarantine add --help'), 0);
    assert.match(out, /--subscriber/);
    assert.equal(await run('frobnicate'), 2);
    assert.equal(await run('exempt add 198.51.100.9 --bogus'), 2);
    assert.equal(await run('show'), 0);
    assert.match(out, /exemptions in force 1/);
    assert.match(out, /quarantined HTTP to the notice page: no/);
    assert.equal(await run('edge set --notice4 192.0.2.80:8080 --notice6 2001:db8::80 --reason notice'), 0);
    assert.equal(await run('edge set --notice4 portal.isp.example --reason notice'), 1);
    assert.match(err, /not an IPv4 address/);
    assert.equal(await run('show'), 0);
    assert.match(out, /quarantined HTTP to the notice page: 192\.0\.2\.80:8080 \[2001:db8::80\]:80/);
    assert.equal(await run('compile --format nft'), 0);
    assert.match(out, /dnat ip to 192\.0\.2\.80:8080/);
  } finally { await done(); }
});

test('HTTP handler: token required, ETag short-circuits, reports are stored', async () => {
  const { store, clock, policy, done } = await fresh();
  const server = await serveEdge({ store, clock, logger: silentLogger, tokens: [{ edge: 'bng1', token: 's3cret-s3cret-s3cret' }] });
  const base = `${server.url}/v1/netpolicy`;
  try {
    assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
    assert.equal((await fetch(`${base}/compiled`)).status, 401);
    assert.equal((await fetch(`${base}/compiled`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const auth = { authorization: 'Bearer s3cret-s3cret-s3cret' };
    const r1 = await fetch(`${base}/compiled`, { headers: auth });
    assert.equal(r1.status, 200);
    const p = await r1.json() as { version: string };
    assert.equal(r1.headers.get('etag'), `"${p.version}"`);
    const r2 = await fetch(`${base}/compiled`, { headers: { ...auth, 'if-none-match': `"${p.version}"` } });
    assert.equal(r2.status, 304);
    assert.ok((await policy.quarantine('198.51.100.66', 's', '', by)).ok);
    const r3 = await fetch(`${base}/compiled`, { headers: { ...auth, 'if-none-match': `"${p.version}"` } });
    assert.equal(r3.status, 200);
    const p3 = await r3.json() as { version: string };
    const rep = await fetch(`${base}/report`, { method: 'POST', headers: auth, body: JSON.stringify({ edge: 'bng1', version: p3.version, blocked: [{ source: '198.51.100.5', packets: 50, destinations: 50 }] }) });
    assert.equal(rep.status, 200);
    assert.deepEqual(await rep.json(), { accepted: 1, rejected: 0, duplicates: 0 });
    assert.equal((await policy.lastApplied('bng1'))?.version, p3.version);
    assert.deepEqual((await policy.blocked()).map((b) => [b.source, b.destinations]), [['198.51.100.5', 50]]);
    assert.equal((await fetch(`${base}/report`, { method: 'POST', headers: auth, body: '{"edge":"../x"}' })).status, 422);
  } finally { await server.close(); await done(); }
});

test('the caching compiler recompiles only changed parts and agrees with compilePolicy', async () => {
  const { policy, clock, done } = await fresh();
  try {
    const c = new PolicyCompiler();
    assert.ok((await policy.addPool('198.51.100.0/24', 'dynamic', '', by)).ok);
    assert.ok((await policy.addExemption('198.51.100.7', 'c', clock.now() + 1000, by)).ok);
    const a = (await c.compile(policy));
    assert.equal(a.version, compilePolicy((await policy.snapshot())).version);
    assert.equal((await c.compile(policy)), a, 'nothing changed: same object, no recompilation');
    assert.ok((await policy.quarantine('198.51.100.66', 's', '', by)).ok);
    const b = (await c.compile(policy));
    assert.deepEqual(b.sets.quarantine4, ['198.51.100.66']);
    assert.equal(b.version, compilePolicy((await policy.snapshot())).version);
    clock.advance(1000);
    const e = (await c.compile(policy));
    assert.deepEqual(e.sets.exempt4, [], 'expiry alone invalidates the exemptions part');
    assert.equal(e.version, compilePolicy((await policy.snapshot())).version);
    assert.ok((await policy.setSettings({ action: 'drop' }, by)).ok);
    assert.equal((await c.compile(policy)).settings.action, 'drop');
  } finally { await done(); }
});

test('pools: one covering nearly the whole address space is refused; one overlapping a pool of another class is refused', async () => {
  const { policy, store, done } = await fresh();
  try {
    for (const wide of ['0.0.0.0/0', '::/0', '0.0.0.0/1', '128.0.0.0/7', '::/15']) {
      const r = (await policy.addPool(wide, 'dynamic', '', by));
      assert.equal(r.ok, false, wide);
      assert.match(!r.ok ? r.error : '', /wider than \/(8|16)/, wide);
    }
    assert.ok((await policy.addPool('10.0.0.0/8', 'dynamic', '', by)).ok, 'a /8 is a real pool');
    const inner = (await policy.addPool('10.1.0.0/16', 'business', '', by));
    assert.equal(inner.ok, false);
    assert.match(!inner.ok ? inner.error : '', /10\.1\.0\.0\/16 \(business\) overlaps pool 10\.0\.0\.0\/8 \(dynamic\)/);
    assert.ok((await policy.addPool('10.2.0.0/16', 'dynamic', 'same class: merged', by)).ok);
    assert.ok((await policy.addPool('11.0.0.0/8', 'business', '', by)).ok);
    assert.equal((await policy.addPool('11.5.0.0/16', 'dynamic', '', by)).ok, false, 'a wider pool of another class holds it');
    assert.ok((await policy.addPool('2001:db8::/32', 'dynamic', '', by)).ok);
    assert.equal((await policy.addPool('2001:db8:1::/48', 'static', '', by)).ok, false);
    assert.ok((await policy.addPool('11.0.0.0/8', 'static', 'the same prefix again is a reclassification', by)).ok);
    assert.equal((await policy.addPool('10.0.0.0/8', 'cgnat', '', by)).ok, false, 'not while a dynamic pool lies inside it');
    assert.deepEqual((await policy.listPools()).map((p) => `${p.prefix} ${p.class}`), ['10.0.0.0/8 dynamic', '10.2.0.0/16 dynamic', '11.0.0.0/8 static', '2001:db8::/32 dynamic']);
    // The CLI says why, exit 1, and writes no audit record.
    const audits = (await policy.audit()).length;
    const err: string[] = [];
    const code = await runPolicyCommand(['pool', 'add', '0.0.0.0/0', '--class', 'dynamic', '--reason', 'oops', '--by', 'bob'],
      { store, logger: silentLogger, out: () => {}, err: (s) => err.push(s) });
    assert.equal(code, 1);
    assert.match(err.join(''), /0\.0\.0\.0\/0/);
    assert.equal((await policy.audit()).length, audits);
  } finally { await done(); }
});

test('a prefix is stored in one canonical form (RFC 5952, a host as a bare address): two spellings are one entry', async () => {
  const { policy, done } = await fresh();
  try {
    assert.ok((await policy.addPool('2001:DB8:0:0::/48', 'dynamic', 'first spelling', by)).ok);
    assert.ok((await policy.addPool('2001:0db8::/48', 'dynamic', 'second spelling', by)).ok);
    assert.deepEqual((await policy.listPools()).map((p) => `${p.prefix} ${p.note}`), ['2001:db8::/48 second spelling']);
    assert.ok((await policy.addRelay('192.0.2.25/32', 'provider', '', 'mx-out', by)).ok);
    assert.ok((await policy.addRelay('192.0.2.25', 'provider', '', 'mx-out again', by)).ok);
    assert.deepEqual((await policy.listRelays()).map((r) => r.prefix), ['192.0.2.25']);
    assert.ok((await policy.quarantine('2001:DB8::0042', 's-42', 'case-9', by)).ok);
    assert.ok((await policy.release('2001:db8::42/128', by)).ok, 'released by another spelling of the same host');
    assert.ok((await policy.removePool('2001:db8:0::/48', by)).ok);
    assert.deepEqual((await policy.listPools()), []);
  } finally { await done(); }
});

test('prefixes stored before the canonical form are rewritten once at open; a collision keeps one row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-netpolicy-'));
  const path = join(dir, 'state.db');
  try {
    let store = await openStore(path);
    await PolicyStore.open(store, new ManualClock());
    // As an older portwarden stored them: lower-cased, otherwise as typed.
    for (const sql of [
      "INSERT INTO netpolicy_pool (prefix, class) VALUES ('2001:db8:0:0::/48', 'dynamic'), ('2001:0db8::/48', 'dynamic'), ('198.51.100.0/24', 'dynamic')",
      "INSERT INTO netpolicy_relay (prefix, kind) VALUES ('192.0.2.25/32', 'provider')",
      "INSERT INTO netpolicy_quarantine (prefix, subscriber, reason, since, by) VALUES ('2001:db8::0042', 's', 'r', 0, 'x')",
      "INSERT INTO netpolicy_exempt (prefix, customer, reason, granted_by, granted_at) VALUES ('203.0.113.7/32', 'c', 'r', 'x', 0)",
      "INSERT INTO netpolicy_garden (prefix, proto, ports) VALUES ('192.0.2.53/32', 'udp', '53')",
      "DELETE FROM schema_migrations WHERE id = 'netpolicy/003-canonical-prefixes'",
    ]) await store.db.run(sql);
    await store.close();
    store = await openStore(path);
    const policy = await PolicyStore.open(store, new ManualClock());
    assert.deepEqual((await policy.listPools()).map((p) => p.prefix), ['198.51.100.0/24', '2001:db8::/48']);
    assert.deepEqual((await policy.listRelays()).map((r) => r.prefix), ['192.0.2.25']);
    const col = async (t: string) => (await store.db.all<{ prefix: string }>(`SELECT prefix FROM ${t}`)).map((r) => r.prefix);
    assert.deepEqual([await col('netpolicy_quarantine'), await col('netpolicy_exempt'), await col('netpolicy_garden')], [['2001:db8::42'], ['203.0.113.7'], ['192.0.2.53']]);
    await store.close();
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('notice addresses: an address of its family with an optional port, stored canonically; a name, a prefix or a bad port is refused; "" clears', async () => {
  const { store, close } = await tempStore();
  try {
    const p = await PolicyStore.open(store, new ManualClock(0));
    const by = { actor: 't', reason: 'notice' };
    const before = compilePolicy(await p.snapshot()).version;
    for (const [patch, why] of [
      [{ notice4: 'notice.isp.example' }, /notice4: "notice\.isp\.example" is not an IPv4 address/],
      [{ notice4: '192.0.2.0/24' }, /is not an IPv4 address/],
      [{ notice4: '192.0.2.80:0' }, /port 0 is not 1-65535/],
      [{ notice4: '192.0.2.80:65536' }, /port 65536 is not 1-65535/],
      [{ notice6: '192.0.2.80' }, /notice6: .* is not an IPv6 address/],
      [{ notice6: '2001:db8::80:8080]' }, /is not an IPv6 address/],
    ] as const) {
      const r = await p.setSettings(patch, by);
      assert.ok(!r.ok && why.test(r.error), `${JSON.stringify(patch)}: ${JSON.stringify(r)}`);
    }
    assert.ok((await p.setSettings({ notice4: '192.0.2.80', notice6: '[2001:DB8:0::80]:8080' }, by)).ok);
    assert.deepEqual([(await p.settings()).notice4, (await p.settings()).notice6], ['192.0.2.80:80', '[2001:db8::80]:8080']);
    assert.notEqual(compilePolicy(await p.snapshot()).version, before);
    assert.ok((await p.setSettings({ notice4: '', notice6: '' }, by)).ok);
    const s = await p.settings();
    assert.ok(!('notice4' in s) && !('notice6' in s), JSON.stringify(s));
    assert.equal(compilePolicy(await p.snapshot()).version, before, 'a policy without notices has the version it had before notices existed');
  } finally { await close(); }
});

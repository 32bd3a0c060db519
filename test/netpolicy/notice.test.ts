// The notice redirect, enforced for real (issue 12, item 4): with notice4/notice6
// set, a quarantined host's HTTP to any outside address lands on the notice page
// inside the walled garden, while HTTPS and other ports outside stay blocked and
// garden entries keep their own port 80; a host that is not quarantined reaches
// the outside web server; a release restores it. IPv4 and IPv6, first through
// nftables (the applier, one transaction), then through iptables + ipset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../../src/core/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { NftApplier, PolicyStore, compileIptables, compilePolicy, nftRunner } from '../../src/netpolicy/index.ts';
import { canUseNetns, needTools, tempDir } from '../lib/tools.ts';
import { Lab, type HostName } from './lab.ts';

const skip = needTools('nft', 'ip', 'python3', 'curl', 'ipset', 'iptables-restore', 'ip6tables-restore')
  || (canUseNetns() ? false : 'needs root for network namespaces');
const lab = new Lab();
const by = { actor: 'test', reason: 'notice lab' };
let dir: ReturnType<typeof tempDir>, store: Store, policy: PolicyStore;
const ok = (r: { ok: boolean }): void => assert.ok(r.ok, JSON.stringify(r));

before(async () => {
  if (skip) return;
  await lab.create();
  await lab.serveHttp('notice', 80, 'NOTICE-PAGE');
  await lab.serveHttp('web', 80, 'OUTSIDE-WEB');
  await lab.serveHttp('web', 443, 'OUTSIDE-TLS-PORT');
  dir = tempDir('pw-notice-');
  store = await openStore(join(dir.path, 'state.db'));
  policy = await PolicyStore.open(store, new ManualClock(Date.now()));
  ok(await policy.addPool('198.51.100.0/24', 'dynamic', '', by));
  ok(await policy.addPool('2001:db8:1::/64', 'dynamic', '', by));
  ok(await policy.addRelay('192.0.2.25', 'provider', '', '', by));
  ok(await policy.addRelay('2001:db8:ff::25', 'provider', '', '', by));
  // A garden entry that allows port 80 itself (an update site, say): it must not be redirected.
  ok(await policy.addGarden('192.0.2.25', 'tcp', '80', 'updates', by));
  ok(await policy.addGarden('2001:db8:ff::25', 'tcp', '80', 'updates', by));
  for (const a of ['198.51.100.30', '2001:db8:1::30']) ok(await policy.quarantine(a, 's-30', 'case-1', by));
  // The notice page is in no garden entry: the compiler lets quarantined hosts reach it.
  ok(await policy.setSettings({ subscriberIfaces: ['br-sub'], upstreamIfaces: ['br-up'], action: 'reject', notice4: '192.0.2.80', notice6: '2001:db8:ff::80' }, by));
});

after(async () => {
  if (skip) return;
  lab.destroy();
  await store?.close();
  dir?.remove();
});

const url = (h: HostName, f: 4 | 6, port = 80): string => (f === 4 ? `http://${lab.addr(h, f)}:${port}/` : `http://[${lab.addr(h, f)}]:${port}/`);

/** The walled garden as the quarantined host and a free host see it, both families. */
function expectQuarantined(): void {
  for (const f of [4, 6] as const) {
    assert.equal(lab.httpGet('quar', url('web', f)), 'NOTICE-PAGE', `IPv${f}: quarantined HTTP to outside lands on the notice page`);
    assert.equal(lab.httpGet('quar', `http://${f === 4 ? '203.0.113.80' : '[2001:db8:3::80]'}/`), 'NOTICE-PAGE', `IPv${f}: even to an address nobody has`);
    assert.equal(lab.httpGet('quar', url('notice', f)), 'NOTICE-PAGE', `IPv${f}: the notice page itself`);
    // The garden entry with its own port 80 reaches its own server, which accepts and closes: an empty reply (52)
    // or a reset (56), not the notice page, and not refused (7) or timed out (28).
    assert.match(lab.httpGet('quar', url('relay', f)), /^curl exit (52|56)$/, `IPv${f}: the garden entry keeps its port 80`);
    assert.notEqual(lab.httpGet('quar', url('web', f, 443)), 'OUTSIDE-TLS-PORT', `IPv${f}: other ports stay blocked`);
    assert.equal(lab.httpGet('dyn', url('web', f)), 'OUTSIDE-WEB', `IPv${f}: a host not quarantined is not redirected`);
  }
  lab.matrix('quar', [['relay', 80, 'open'], ['web', 443, 'blocked'], ['outside', 25, 'blocked'], ['outside', 587, 'blocked']]);
}

function expectReleased(): void {
  for (const f of [4, 6] as const) {
    assert.equal(lab.httpGet('quar', url('web', f)), 'OUTSIDE-WEB', `IPv${f}: released, HTTP reaches the outside again`);
    assert.equal(lab.httpGet('quar', url('web', f, 443)), 'OUTSIDE-TLS-PORT', `IPv${f}: and the other ports`);
  }
}

test('nftables: quarantined HTTP goes to the notice page, nothing else leaves the garden; a release restores (one transaction each)', { skip }, async () => {
  const applier = new NftApplier({ runner: nftRunner({ netns: lab.edge }), logger: silentLogger });
  const r = await applier.apply(compilePolicy(await policy.snapshot()));
  assert.ok(r.ok && r.mode === 'full', JSON.stringify(r));
  expectQuarantined();
  for (const a of ['198.51.100.30', '2001:db8:1::30']) ok(await policy.release(a, by));
  const released = await applier.apply(compilePolicy(await policy.snapshot()));
  assert.ok(released.ok && released.mode === 'delta', JSON.stringify(released));
  expectReleased();
  for (const a of ['198.51.100.30', '2001:db8:1::30']) ok(await policy.quarantine(a, 's-30', 'case-2', by));
  assert.ok((await applier.apply(compilePolicy(await policy.snapshot()))).ok);
  expectQuarantined();
  lab.exec(lab.edge, ['nft', 'delete', 'table', 'inet', 'portwarden']);
});

test('iptables + ipset: the same through PW-NOTICE in the nat table; clearing the notice address clears the redirect', { skip }, async () => {
  const load = async (): Promise<void> => {
    const out = compileIptables(compilePolicy(await policy.snapshot()));
    lab.exec(lab.edge, ['ipset', 'restore', '-exist'], out.ipset);
    lab.exec(lab.edge, ['iptables-restore', '--noflush'], out.iptables);
    lab.exec(lab.edge, ['ip6tables-restore', '--noflush'], out.ip6tables);
  };
  await load();
  // The one-time hooks acl.ts documents.
  for (const cmd of ['iptables', 'ip6tables']) {
    lab.exec(lab.edge, [cmd, '-I', 'FORWARD', '-j', 'PW-FORWARD']);
    lab.exec(lab.edge, [cmd, '-t', 'nat', '-I', 'PREROUTING', '-j', 'PW-NOTICE']);
  }
  expectQuarantined();
  for (const a of ['198.51.100.30', '2001:db8:1::30']) ok(await policy.release(a, by));
  await load();
  expectReleased();
  for (const a of ['198.51.100.30', '2001:db8:1::30']) ok(await policy.quarantine(a, 's-30', 'case-3', by));
  ok(await policy.setSettings({ notice4: '', notice6: '' }, by));
  await load();
  for (const f of [4, 6] as const) {
    assert.match(lab.httpGet('quar', url('web', f)), /^curl exit/, `IPv${f}: no notice address, no redirect: HTTP is refused like the rest`);
  }
  assert.doesNotMatch(lab.exec(lab.edge, ['iptables', '-t', 'nat', '-S', 'PW-NOTICE']), /DNAT/);
});

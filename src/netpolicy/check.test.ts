// checkCompiled: what an agent pulled passes only when every field is what the
// compiler itself would write (the nft-level proof is test/netpolicy/agent.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCompiled, compilePolicy, policyHashes, type CompiledPolicy } from './index.ts';

const good = compilePolicy({
  at: 0,
  pools: [{ prefix: '198.51.100.0/24', class: 'dynamic', note: '' }, { prefix: '2001:db8:1::/48', class: 'cgnat', note: '' }],
  relays: [{ prefix: '192.0.2.25', kind: 'provider', customer: '', note: '' }],
  exemptions: [], quarantines: [],
  garden: [{ prefix: '192.0.2.0/24', proto: 'both', ports: '53,80,443', note: '' }],
  settings: { subscriberIfaces: ['ppp*', 'eth1.100'], upstreamIfaces: ['eth0'], action: 'drop', relay25: false },
});

function forged(change: (p: Record<string, any>) => void, rehash = true): unknown {
  const p = structuredClone(good) as unknown as Record<string, any>;
  change(p);
  if (rehash) { try { Object.assign(p, policyHashes(p.settings, p.garden, p.sets)); } catch { /* left as it is */ } }
  return p;
}

test('the compiler\'s own output passes, rebuilt without unknown fields', () => {
  const r = checkCompiled({ ...JSON.parse(JSON.stringify(good)), extra: 'ignored' });
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.deepEqual(r.value, good as CompiledPolicy);
});

test('every field is checked: names, elements, garden, action, types and hashes', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /policy: not a JSON object/],
    ['format', forged((p) => { p.format = 'v2'; }), /^format: /],
    ['version not a hash', forged((p) => { p.version = '1; flush ruleset'; }, false), /^version: .* is not a policy hash/],
    ['version of other content', forged((p) => { p.sets.relay4 = []; }, false), /^version: .* does not match the content/],
    ['shape of other settings', forged((p) => { p.settings.relay25 = true; }, false), /^shape: .* does not match/],
    ['iface with a quote', forged((p) => { p.settings.subscriberIfaces = ['a"b']; }), /subscriberIfaces: bad interface name/],
    ['iface too long', forged((p) => { p.settings.upstreamIfaces = ['a'.repeat(16)]; }), /upstreamIfaces: bad interface name/],
    ['iface not a string', forged((p) => { p.settings.upstreamIfaces = [7]; }), /upstreamIfaces: 7 is not a name/],
    ['action', forged((p) => { p.settings.action = 'accept'; }), /settings\.action/],
    ['relay25', forged((p) => { p.settings.relay25 = 1; }), /settings\.relay25/],
    ['notice with nft syntax', forged((p) => { p.settings.notice4 = '192.0.2.80:80; flush ruleset'; }), /settings\.notice4: .* is not an IPv4 address/],
    ['notice of the other family', forged((p) => { p.settings.notice6 = '192.0.2.80:80'; }), /settings\.notice6: .* is not an IPv6 address/],
    ['notice not canonical', forged((p) => { p.settings.notice4 = '192.0.2.80'; }), /settings\.notice4: .* is not in canonical form/],
    ['notice not a string', forged((p) => { p.settings.notice4 = 80; }), /settings\.notice4: 80 is not an address/],
    ['element with syntax', forged((p) => { p.sets.dynamic4 = ['198.51.100.0/24 }']; }), /sets\.dynamic4\[0\]/],
    ['element not canonical', forged((p) => { p.sets.dynamic6 = ['2001:DB8:1::/48']; }), /sets\.dynamic6\[0\]: .* not in canonical form/],
    ['element of the wrong family', forged((p) => { p.sets.relay6 = ['192.0.2.25']; }), /sets\.relay6\[0\]/],
    ['elements out of order', forged((p) => { p.sets.exempt4 = ['192.0.2.9', '192.0.2.1']; }), /sets\.exempt4\[1\]: .* precedes/],
    ['set missing', forged((p) => { delete p.sets.quarantine6; }), /sets\.quarantine6: not a list/],
    ['garden port 0', forged((p) => { p.garden[0].ports = '0'; }), /garden\[0\]\.ports: bad port list/],
    ['garden port 70000', forged((p) => { p.garden[0].ports = '80,70000'; }), /garden\[0\]\.ports: bad port list/],
    ['garden ports not canonical', forged((p) => { p.garden[0].ports = '443,53,80'; }), /garden\[0\]\.ports: .* not in canonical form/],
    ['garden prefix with host bits', forged((p) => { p.garden[0].prefix = '192.0.2.1/24'; }), /garden\[0\]\.prefix/],
    ['garden proto', forged((p) => { p.garden[0].proto = 'icmp'; }), /garden\[0\]\.proto/],
    ['garden family', forged((p) => { p.garden[0].family = 6; }), /garden\[0\]\.family/],
  ];
  for (const [what, input, why] of cases) {
    const r = checkCompiled(input);
    assert.equal(r.ok, false, what);
    assert.match(!r.ok ? r.error : '', why, what);
    assert.ok(!/[\u0000-\u001f]/.test(!r.ok ? r.error : ''), `${what}: the error holds no control character`);
  }
});

test('a set equal to the enforced one is trusted as checked; a changed one is checked again', () => {
  const next = forged((p) => { p.sets.quarantine4 = ['198.51.100.66']; }) as CompiledPolicy;
  assert.ok(checkCompiled(next, good).ok);
  const bad = forged((p) => { p.sets.quarantine4 = ['198.51.100.66/8']; });
  assert.equal(checkCompiled(bad, good).ok, false);
});

test('revision: a non-negative integer that never goes back below the enforced one', () => {
  const at = (revision: unknown) => ({ ...structuredClone(good), revision });
  for (const bad of [-1, 1.5, '3', null]) assert.match((checkCompiled(at(bad)) as { error: string }).error, /^revision: /, String(bad));
  const enforced = at(7) as CompiledPolicy;
  assert.ok(checkCompiled(at(7), enforced).ok, 'the same revision (an expiry changed the content)');
  assert.ok(checkCompiled(at(8), enforced).ok);
  assert.match((checkCompiled(at(6), enforced) as { error: string }).error, /^revision: 6 is older than the enforced 7/);
});

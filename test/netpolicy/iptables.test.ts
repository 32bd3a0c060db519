// Real enforcement for the iptables + ipset output (older Linux edges): the
// compiled ipset script, iptables-restore and ip6tables-restore input loaded into
// an edge namespace, then a reduced reachability matrix for IPv4 and IPv6,
// forged source-port-25 segments (G3), the blocked-source set (G6), and a
// reload with changed sets (the swap path every later load takes).
// Whichever iptables Debian's alternative points at is used (iptables-nft on bookworm).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DEFAULT_SETTINGS, compileIptables, compilePolicy, type PolicySnapshot } from '../../src/netpolicy/index.ts';
import { canUseNetns, needTools } from '../lib/tools.ts';
import { Lab } from './lab.ts';

const skip = needTools('ipset', 'iptables', 'iptables-restore', 'ip6tables', 'ip6tables-restore', 'nft', 'ip', 'python3')
  || (canUseNetns() ? false : 'needs root for network namespaces');
const lab = new Lab();
const at = Date.UTC(2026, 0, 1);

const exemption = (id: number, prefix: string): PolicySnapshot['exemptions'][number] =>
  ({ id, prefix, customer: `c${id}`, reason: 'lab', grantedBy: 'test', grantedAt: at, expiresAt: null });

const base: PolicySnapshot = {
  at,
  pools: [
    { prefix: '198.51.100.0/24', class: 'dynamic', note: '' },
    { prefix: '2001:db8:1::/64', class: 'dynamic', note: '' },
    { prefix: '203.0.113.0/24', class: 'static', note: '' },
    { prefix: '2001:db8:3::/64', class: 'static', note: '' },
  ],
  relays: [
    { prefix: '192.0.2.25', kind: 'provider', customer: '', note: '' },
    { prefix: '2001:db8:ff::25', kind: 'provider', customer: '', note: '' },
  ],
  exemptions: [exemption(1, '198.51.100.20'), exemption(2, '2001:db8:1::20'), exemption(3, '198.51.100.30'), exemption(4, '2001:db8:1::30')],
  quarantines: [
    { prefix: '198.51.100.30', subscriber: 's-30', reason: 'lab', caseId: '', since: at, by: 'test' },
    { prefix: '2001:db8:1::30', subscriber: 's-30', reason: 'lab', caseId: '', since: at, by: 'test' },
  ],
  garden: [
    { prefix: '192.0.2.25', proto: 'tcp', ports: '80', note: 'portal' },
    { prefix: '2001:db8:ff::25', proto: 'tcp', ports: '80', note: 'portal' },
  ],
  settings: { ...DEFAULT_SETTINGS, subscriberIfaces: ['br-sub'], upstreamIfaces: ['br-up'], action: 'reject' },
};

function load(snap: PolicySnapshot, ns = lab.edge): void {
  const out = compileIptables(compilePolicy(snap));
  lab.exec(ns, ['ipset', 'restore', '-exist'], out.ipset);
  lab.exec(ns, ['iptables-restore', '--noflush'], out.iptables);
  lab.exec(ns, ['ip6tables-restore', '--noflush'], out.ip6tables);
}

before(async () => {
  if (skip) return;
  await lab.create();
  load(base);
  // The one-time hook acl.ts documents.
  lab.exec(lab.edge, ['iptables', '-I', 'FORWARD', '-j', 'PW-FORWARD']);
  lab.exec(lab.edge, ['ip6tables', '-I', 'FORWARD', '-j', 'PW-FORWARD']);
});

after(() => {
  if (skip) return;
  lab.destroy();
});

test('reduced reachability matrix through iptables + ipset, IPv4 and IPv6', { skip }, (t) => {
  t.diagnostic(lab.exec(lab.edge, ['iptables', '--version']).trim());
  lab.matrix('dyn', [['outside', 25, 'blocked'], ['outside', 587, 'open'], ['relay', 25, 'open']]);
  lab.matrix('exempt', [['outside', 25, 'open']]);
  lab.matrix('static', [['outside', 25, 'open']]);
  lab.matrix('quar', [['relay', 80, 'open'], ['outside', 25, 'blocked'], ['outside', 587, 'blocked']]);
  // The refusal is a TCP reset, not a silent drop: the probe sees "refused" at once.
  const got = lab.probe('dyn', [[lab.addr('outside', 4), 25], [lab.addr('outside', 6), 25]]);
  assert.deepEqual([...got.values()], ['refused', 'refused']);
});

test('forged segments from source port 25 never reach dynamic space; exempt hosts get them (G3)', { skip }, () => {
  for (const f of [4, 6] as const) {
    assert.equal(lab.forgedArrivals('dyn', f), 0, `IPv${f} leak into dynamic space`);
    assert.equal(lab.forgedArrivals('exempt', f), 2, `IPv${f} exempt host should receive both segments`);
  }
});

test('blocked sources land in the pw-blocked-src sets (G6)', { skip }, () => {
  lab.probe('dyn', [[lab.addr('outside', 4), 25], [lab.addr('outside', 6), 25]]);
  for (const f of [4, 6] as const) {
    const listing = lab.exec(lab.edge, ['ipset', 'list', `pw-blocked-src${f}`]);
    assert.match(listing, new RegExp(`^${lab.addr('dyn', f).replaceAll('.', '\\.')} timeout \\d+ packets [1-9]`, 'm'), listing);
    assert.doesNotMatch(listing, new RegExp(`^${lab.addr('exempt', f).replaceAll('.', '\\.')} `, 'm'));
  }
});

test('loading again with changed sets swaps them in; rules are rewritten, not appended', { skip }, () => {
  const rules = (): string => lab.exec(lab.edge, ['iptables', '-S']);
  const before = rules();
  load({ ...base, exemptions: [...base.exemptions, exemption(5, '198.51.100.10'), exemption(6, '2001:db8:1::10')] });
  assert.equal(rules(), before);
  lab.matrix('dyn', [['outside', 25, 'open']]);
  load(base);
  lab.matrix('dyn', [['outside', 25, 'blocked'], ['outside', 587, 'open']]);
  assert.doesNotMatch(lab.exec(lab.edge, ['ipset', 'list', '-n']), /\.new$/m, 'temporary sets are destroyed');
});

test('the kernel accepts every action, wildcard interfaces and garden port forms', { skip }, () => {
  // Rule checks such as "tcp-reset needs -p tcp" happen in the kernel, not in iptables-restore: load for real.
  const ns = `${lab.id}-forms`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const garden: PolicySnapshot['garden'] = [
      { prefix: '192.0.2.53', proto: 'both', ports: '53', note: '' },
      { prefix: '203.0.113.128/25', proto: 'tcp', ports: '443,8000-8100', note: '' },
      { prefix: '2001:db8::53', proto: 'udp', ports: '53,123', note: '' },
    ];
    for (const action of ['reject', 'icmp', 'drop'] as const) {
      for (const relay25 of [true, false]) {
        const settings = { subscriberIfaces: ['ppp*', 'br-sub'], upstreamIfaces: relay25 ? ['br-up'] : [], action, relay25 };
        load({ ...base, garden, settings }, ns);
        const rules = lab.exec(ns, ['iptables', '-S', 'PW-SMTP-OUT']) + lab.exec(ns, ['ip6tables', '-S', 'PW-QUARANTINE-OUT']);
        assert.match(rules, action === 'drop' ? /-j DROP/ : /-j REJECT/, `${action}: ${rules}`);
        assert.match(lab.exec(ns, ['iptables', '-S', 'PW-FORWARD']), /-i ppp\+ -p tcp -m tcp --dport 25 -j PW-SMTP-OUT/);
      }
    }
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

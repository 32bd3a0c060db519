import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/index.ts';
import { compileLimits, MemoryLimitStore, parseIp, formatIp, prefixKey, parseCidr, CidrList, type LimitsSpec } from './index.ts';

const spec: LimitsSpec = {
  defaultTier: 'residential',
  ipv6Prefix: 64,
  tiers: {
    residential: [
      { scope: 'account', counts: 'messages', per: 'hour', limit: 100 },
      { scope: 'account', counts: 'recipients', per: 'day', limit: 500, burst: 200 },
      { scope: 'subscriber', counts: 'recipients', per: 'day', limit: 1000 },
      { scope: 'ip', counts: 'messages', per: 'minute', limit: 30 },
      { scope: 'prefix', counts: 'messages', per: 'hour', limit: 500 },
      { scope: 'prefix', counts: 'messages', per: 'hour', limit: 2000, ipv6Prefix: 56, ipv4Prefix: 22 },
      { name: 'flood', scope: 'account', counts: 'recipients', per: 'minute', limit: 300, action: 'flood', suspend: true },
    ],
    business: [{ scope: 'account', counts: 'messages', per: 'hour', limit: 1000 }],
    premium: [],
  },
  global: [{ name: 'all', scope: 'aggregate', counts: 'messages', per: 'second', limit: 5000 }],
  overrides: {
    bulkco: { tier: 'business' },
    newsletter: { rules: [{ name: 'account-messages-hour', scope: 'account', counts: 'messages', per: 'hour', limit: 5000 }, { name: 'flood', off: true, scope: 'account', counts: 'recipients', per: 'minute', limit: 1 }] },
  },
};

function limits() {
  const r = compileLimits(spec);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.limits;
}

test('IPv6 prefixes are masked on bits and printed per RFC 5952; mapped IPv4 is IPv4', () => {
  const a = parseIp('2001:DB8:0:1234:ab:cd:ef:1')!;
  assert.equal(formatIp(a), '2001:db8:0:1234:ab:cd:ef:1');
  assert.equal(prefixKey(a, 24, 64), '2001:db8:0:1234::/64');
  assert.equal(prefixKey(a, 24, 56), '2001:db8:0:1200::/56');
  assert.equal(prefixKey(parseIp('2001:db8:0:12ff::9')!, 24, 56), '2001:db8:0:1200::/56');
  assert.equal(prefixKey(parseIp('2001:db8:1:0:0:1:0:0')!, 24, 128), '2001:db8:1::1:0:0/128');
  const mapped = parseIp('::ffff:203.0.113.77')!;
  assert.equal(mapped.v, 4);
  assert.equal(prefixKey(mapped, 24, 64), '203.0.113.0/24');
  assert.equal(prefixKey(parseIp('[fe80::1%eth0]')!, 24, 10), 'fe80::/10');
  assert.equal(parseIp('not-an-ip'), null);
  assert.equal(parseIp('1.2.3.256'), null);
});

test('CIDR lists match both families and mapped addresses', () => {
  const l = CidrList.parse(['10.0.0.0/8', '2001:db8:ff::/48', '::ffff:192.168.0.0/112']);
  assert.ok(l instanceof CidrList);
  assert.ok(l.has('10.200.3.4'));
  assert.ok(l.has('::ffff:10.1.1.1'));
  assert.ok(l.has('192.168.7.7'));
  assert.ok(l.has('2001:db8:ff:1::5'));
  assert.ok(!l.has('2001:db8:fe::1'));
  assert.ok(!l.has('11.0.0.1'));
  assert.deepEqual(CidrList.parse(['10.0.0.0/33', 'x']), { invalid: ['10.0.0.0/33', 'x'] });
  assert.equal(parseCidr('10.1.2.3/16')!.len, 16);
});

test('a residential submission expands to keys per scope, split by what they count', () => {
  const p = limits().plan({ account: 'alice', subscriber: 'cust-1', ip: '2001:db8:0:1234::77' });
  assert.equal(p.tier, 'residential');
  assert.deepEqual(p.messages.map((k) => k.id), [
    'a:alice:residential/account-messages-hour',
    'i:2001:db8:0:1234::77:residential/ip-messages-minute',
    'p:2001:db8:0:1234::/64:residential/prefix-messages-hour-v4_24-v6_64',
    'p:2001:db8:0:1200::/56:residential/prefix-messages-hour-v4_22-v6_56',
    'g:*:*/all',
  ]);
  assert.deepEqual(p.recipients.map((k) => k.id), [
    'a:alice:residential/account-recipients-day',
    's:cust-1:residential/subscriber-recipients-day',
    'a:alice:residential/flood',
  ]);
  const flood = p.recipients[2];
  assert.equal(flood.flood, true);
  assert.equal(flood.rule!.suspend, true);
  assert.equal(p.recipients[0].burst, 200);
  assert.equal(p.messages[0].intervalMs, 36_000);
});

test('tiers and overrides: tier switch, replaced rule keeps its bucket, removed rule', () => {
  const l = limits();
  assert.deepEqual(l.rulesFor('bulkco').map((r) => r.id), ['business/account-messages-hour', '*/all']);
  assert.equal(l.tierOf('someone', 'premium'), 'premium');
  assert.equal(l.tierOf('someone', 'no-such-tier'), 'residential');
  const nl = l.rulesFor('newsletter');
  const msgs = nl.find((r) => r.name === 'account-messages-hour')!;
  assert.equal(msgs.limit, 5000);
  assert.equal(msgs.id, 'residential/account-messages-hour');
  assert.ok(!nl.some((r) => r.name === 'flood'));
});

test('an account gets limit+1 refused through a plan, with mapped IPv4 sharing the IPv4 key', () => {
  const clock = new ManualClock();
  const r = compileLimits({ tiers: { t: [{ scope: 'ip', counts: 'messages', per: 'hour', limit: 3 }] } });
  assert.ok(r.ok);
  const store = new MemoryLimitStore({ clock });
  const a = r.limits.plan({ account: 'x', ip: '198.51.100.9' });
  const b = r.limits.plan({ account: 'y', ip: '::ffff:198.51.100.9' });
  assert.equal(store.check(a.messages, 1).allowed, true);
  assert.equal(store.check(b.messages, 1).allowed, true);
  assert.equal(store.check(a.messages, 1).allowed, true);
  const d = store.check(b.messages, 1);
  assert.equal(d.allowed, false);
  assert.equal(d.hit!.subject, 'i:198.51.100.9');
});

test('invalid rules come back as errors with paths, not exceptions', () => {
  const r = compileLimits({
    defaultTier: 'nope',
    tiers: { t: [{ scope: 'account', counts: 'messages', per: 'fortnight' as 'day', limit: 5 }, { scope: 'ip', counts: 'messages', per: 60, limit: 0 }] },
    overrides: { bob: { tier: 'gold' } },
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.errors.map((e) => e.path.join('.')), ['tiers.t.0.per', 'tiers.t.1.limit', 'defaultTier', 'overrides.bob.tier']);
});

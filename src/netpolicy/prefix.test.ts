import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intersect, mergeList, parseList, splitCidrs } from './cidrs.ts';
import { formatAddr, formatRange, parseRange } from './prefix.ts';
import { formatAll } from './format.ts';

const R = (s: string) => { const r = parseRange(s); assert.ok(r, s); return r; };

test('parses and formats IPv4 and IPv6 (RFC 5952 canonical form)', () => {
  assert.equal(formatRange(R('192.0.2.0/24')), '192.0.2.0/24');
  assert.equal(formatRange(R('192.0.2.7')), '192.0.2.7');
  assert.equal(formatRange(R('2001:DB8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatRange(R('2001:db8::/32')), '2001:db8::/32');
  assert.equal(formatRange(R('::ffff:192.0.2.1')), '::ffff:c000:201');
  assert.equal(formatRange(R('192.0.2.3 - 192.0.2.9')), '192.0.2.3-192.0.2.9');
  assert.equal(formatAddr(6, 0n), '::');
  assert.equal(formatRange(R('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
});

test('refuses malformed input and prefixes with host bits set', () => {
  for (const bad of ['192.0.2.0/33', '192.0.2.1/24', '256.0.0.1', '01.2.3.4', '1.2.3', '2001:db8::/129', '2001:db8::1::2', 'x', '', '2001:db8::1/64',
    '192.0.2.9-192.0.2.3', '192.0.2.0/24-192.0.2.255', '192.0.2.1-2001:db8::1', '1:2:3:4:5:6:7:8:9', '::1.2.3.4.5', '12345::']) {
    assert.equal(parseRange(bad), null, bad);
  }
});

test('merges overlapping and adjacent ranges, keeps families apart', () => {
  const input = ['198.51.100.8', '2001:db8::/33', '198.51.100.0/29', '198.51.100.16/28', '2001:db8:8000::/33', '198.51.100.9'];
  assert.deepEqual(formatAll(mergeList(input.filter((e) => !e.includes(':')), 4)), ['198.51.100.0-198.51.100.9', '198.51.100.16/28']);
  assert.deepEqual(formatAll(mergeList(input.filter((e) => e.includes(':')), 6)), ['2001:db8::/32']);
  assert.throws(() => mergeList(['2001:db8::1'], 4), /bad compiled element/);
});

test('splits ranges into the fewest CIDR blocks', () => {
  const c = (e: string[], f: 4 | 6): string[] => splitCidrs(e, f, (addr, len) => `${addr}/${len}`);
  assert.deepEqual(c(['198.51.100.0-198.51.100.9'], 4), ['198.51.100.0/29', '198.51.100.8/31']);
  assert.deepEqual(c(['0.0.0.0/0'], 4), ['0.0.0.0/0']);
  assert.deepEqual(c(['0.0.0.1-255.255.255.255'], 4).length, 32);
  assert.equal(c(['2001:db8::1-2001:db8::ffff'], 6).length, 16);
});

test('intersects merged range lists', () => {
  const i4 = intersect(parseList(['198.51.100.0/24'], 4), mergeList(['198.51.100.7', '192.0.2.1', '198.51.100.200-198.51.101.5'], 4));
  assert.deepEqual(formatAll(i4), ['198.51.100.7', '198.51.100.200-198.51.100.255']);
  const i6 = intersect(parseList(['2001:db8::/32'], 6), mergeList(['2001:db8:1::/48'], 6));
  assert.deepEqual(formatAll(i6), ['2001:db8:1::/48']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddr, formatRange, intersectRanges, mergeRanges, parseRange, toCidrs } from './prefix.ts';

const R = (s: string) => { const r = parseRange(s); assert.ok(r, s); return r; };

test('parses and formats IPv4 and IPv6 (RFC 5952 canonical form)', () => {
  assert.equal(formatRange(R('192.0.2.0/24')), '192.0.2.0/24');
  assert.equal(formatRange(R('192.0.2.7')), '192.0.2.7');
  assert.equal(formatRange(R('2001:DB8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatRange(R('2001:db8::/32')), '2001:db8::/32');
  assert.equal(formatRange(R('::ffff:192.0.2.1')), '::ffff:c000:201');
  assert.equal(formatAddr(6, 0n), '::');
  assert.equal(formatRange(R('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
});

test('refuses malformed input and prefixes with host bits set', () => {
  for (const bad of ['192.0.2.0/33', '192.0.2.1/24', '256.0.0.1', '01.2.3.4', '1.2.3', '2001:db8::/129', '2001:db8::1::2', 'x', '', '2001:db8::1/64']) {
    assert.equal(parseRange(bad), null, bad);
  }
});

test('merges overlapping and adjacent ranges, keeps families apart', () => {
  const m = mergeRanges([R('198.51.100.8'), R('198.51.100.0/29'), R('198.51.100.16/28'), R('2001:db8::/33'), R('2001:db8:8000::/33'), R('198.51.100.9')]);
  assert.deepEqual(m.map(formatRange), ['198.51.100.0-198.51.100.9', '198.51.100.16/28', '2001:db8::/32']);
});

test('splits ranges into the fewest CIDR blocks', () => {
  const c = toCidrs(R('198.51.100.0-198.51.100.9')).map((x) => `${formatAddr(4, x.lo)}/${x.len}`);
  assert.deepEqual(c, ['198.51.100.0/29', '198.51.100.8/31']);
  assert.deepEqual(toCidrs(R('0.0.0.0/0')).map((x) => x.len), [0]);
  assert.equal(toCidrs(R('2001:db8::1-2001:db8::ffff')).length, 16);
});

test('intersects merged range lists', () => {
  const i = intersectRanges(mergeRanges([R('198.51.100.0/24'), R('2001:db8::/32')]), mergeRanges([R('198.51.100.7'), R('192.0.2.1'), R('2001:db8:1::/48')]));
  assert.deepEqual(i.map(formatRange), ['198.51.100.7', '2001:db8:1::/48']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateKeys, canonicalPrefix } from './prefix.ts';

test('canonical prefix text: masked, RFC 5952, host as bare address', () => {
  assert.equal(canonicalPrefix('2001:DB8:0:0:1::5/64')?.text, '2001:db8::/64');
  assert.equal(canonicalPrefix('192.0.2.7/24')?.text, '192.0.2.0/24');
  assert.equal(canonicalPrefix('192.0.2.7/32')?.text, '192.0.2.7');
  assert.equal(canonicalPrefix('::ffff:192.0.2.7')?.text, '192.0.2.7');
  assert.equal(canonicalPrefix('192.0.2.7/33'), null);
  assert.equal(canonicalPrefix('nonsense'), null);
});

test('candidate keys: one per length in use, matching the canonical prefix of an assignment', () => {
  const keys = candidateKeys('2001:db8:0:1::99', { v4: [32], v6: [128, 64, 56] });
  assert.deepEqual(keys, ['2001:db8:0:1::99', '2001:db8:0:1::/64', '2001:db8::/56']);
  assert.ok(keys?.includes(canonicalPrefix('2001:db8:0:1::/64')!.text));
});

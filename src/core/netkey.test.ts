import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientKeys } from './netkey.ts';

test('client keys: address and network; IPv4-mapped IPv6 is IPv4; RFC 5952 output', () => {
  const k = (ip: string, v4 = 24, v6 = 64) => clientKeys(ip, v4, v6);
  assert.deepEqual(k('192.0.2.77'), { address: '192.0.2.77', network: '192.0.2.0/24' });
  assert.deepEqual(k('::ffff:192.0.2.77'), k('192.0.2.77'));
  assert.deepEqual(k('::FFFF:c000:024d'), k('192.0.2.77'));
  assert.deepEqual(k('0:0:0:0:0:ffff:192.0.2.77', 16), { address: '192.0.2.77', network: '192.0.0.0/16' });
  assert.deepEqual(k('198.51.100.200', 23), { address: '198.51.100.200', network: '198.51.100.0/23' });
  assert.deepEqual(k('198.51.101.200', 23)!.network, '198.51.100.0/23');
  assert.deepEqual(k('2001:DB8:0:1:aaaa:bbbb:cccc:dddd'), { address: '2001:db8:0:1:aaaa:bbbb:cccc:dddd', network: '2001:db8:0:1::/64' });
  assert.deepEqual(k('2001:db8::1')!.network, '2001:db8::/64');
  assert.deepEqual(k('2001:db8:0:1:2::9', 24, 56)!.network, '2001:db8::/56');
  assert.deepEqual(k('fe80::1%eth0'), { address: 'fe80::1', network: 'fe80::/64' });
  assert.deepEqual(k('::1'), { address: '::1', network: '::/64' });
  assert.deepEqual(k('1:2:3:4:5:6:1.2.3.4'), { address: '1:2:3:4:5:6:102:304', network: '1:2:3:4::/64' });
  assert.deepEqual(k('2001:db8:ff::1', 24, 40)!.network, '2001:db8::/40');
  for (const bad of ['', 'localhost', '300.1.1.1', '1::2::3', 'unix:/x']) assert.equal(k(bad), null, bad);
});

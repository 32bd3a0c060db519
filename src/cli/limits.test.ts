// limits.bruteForce as the config gives it: trustedNetworks and bruteForce.trusted are merged,
// and a bruteForce.trusted that is not a list is reported, not dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../core/index.ts';
import { parseConfig, exampleConfig, type Config } from '../config/index.ts';
import { MemoryLimitStore } from '../limits/index.ts';
import { bruteForce } from './limits.ts';

const withBruteForce = (bf: Record<string, unknown>): Config => {
  const cfg = parseConfig(exampleConfig({ smarthost: 'smtp.isp.example:25' }), 'portwarden.yaml');
  return { ...cfg, limits: { ...cfg.limits, trustedNetworks: ['10.0.0.0/8'], bruteForce: bf } };
};
const key = (l: string): string => l.toLowerCase();

test('bruteForce: limits.trustedNetworks and limits.bruteForce.trusted are both trusted', async () => {
  const bf = bruteForce(withBruteForce({ trusted: ['192.0.2.0/24'], ip: { failures: 1, per: 60 } }), new MemoryLimitStore(), silentLogger, key, undefined);
  for (const ip of ['10.1.2.3', '192.0.2.7']) {
    for (let i = 0; i < 5; i++) assert.equal((await bf.failed(ip, null)).action, 'proceed', ip);
  }
  let locked = false;
  for (let i = 0; i < 5 && !locked; i++) locked = (await bf.failed('203.0.113.1', null)).action === 'locked';
  assert.ok(locked, 'an address in neither list is counted and locked');
});

test('bruteForce: a limits.bruteForce.trusted that is not a list is an error, not silently dropped', () => {
  for (const trusted of ['192.0.2.0/24', 5, { net: '192.0.2.0/24' }]) {
    assert.throws(() => bruteForce(withBruteForce({ trusted }), new MemoryLimitStore(), silentLogger, key, undefined),
      /invalid limits\.bruteForce:[\s\S]*trusted: must be a list/, JSON.stringify(trusted));
  }
});

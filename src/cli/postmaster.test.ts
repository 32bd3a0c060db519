// The postmaster exception's bucket (issue 10 item 16): per IPv4 address and per
// IPv6 /64, in the limits store, refilling at the configured rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import { MemoryLimitStore } from '../limits/index.ts';
import { postmasterGate } from './limits.ts';

test('postmasterGate: limit per client address (IPv6 /64), 450 4.7.1 past it, refills with time', async () => {
  const clock = new ManualClock();
  const bus = new InProcessBus();
  const gate = postmasterGate(new MemoryLimitStore({ clock }), { limit: 2, per: 3600 }, bus);
  const hits: string[] = [];
  bus.subscribe('limit.hit', (e) => hits.push(`${e.rule} ${e.clientIp}`));
  assert.equal(await gate.admit('192.0.2.1'), null);
  assert.equal(await gate.admit('192.0.2.1'), null);
  const r = await gate.admit('192.0.2.1');
  assert.equal(r?.code, 450);
  assert.equal(r?.enhanced, '4.7.1');
  assert.match(String(r?.text), /try again in 30 minutes/);
  assert.equal(await gate.admit('192.0.2.2'), null, 'another IPv4 address has its own bucket');
  assert.equal(await gate.admit('2001:db8:1:2::1'), null);
  assert.equal(await gate.admit('2001:db8:1:2:ffff::9'), null);
  assert.equal((await gate.admit('2001:db8:1:2::3'))?.code, 450, 'one /64 is one client');
  assert.equal(await gate.admit('::ffff:192.0.2.9'), null);
  clock.advance(1_800_000);
  assert.equal(await gate.admit('192.0.2.1'), null, 'one message back after per/limit');
  assert.deepEqual(hits, ['postmaster 192.0.2.1', 'postmaster 2001:db8:1:2::3'], 'each refusal is published as limit.hit');
});

// The policy service answers only the networks in policyService.allow (item 13):
// a connection from elsewhere is closed at accept, before a byte is read.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { compileLimits, MemoryLimitStore } from '../limits/index.ts';
import { createPolicyServer, type PolicyServerOptions } from './index.ts';
import { PolicyClient } from './testkit.ts';

const request = {
  request: 'smtpd_access_policy', protocol_state: 'RCPT', protocol_name: 'ESMTP', client_address: '192.0.2.10',
  sender: 'alice@isp.example', recipient: 'r@dest.example', instance: 'tx1', sasl_username: 'alice',
};

async function start(t: TestContext, over: Partial<PolicyServerOptions>) {
  const compiled = compileLimits({ defaultTier: 'residential', tiers: { residential: [{ scope: 'account', counts: 'messages', per: 'hour', limit: 3 }] } });
  assert.ok(compiled.ok);
  const logger = new MemoryLogger();
  const server = createPolicyServer({
    limits: compiled.limits, store: new MemoryLimitStore({ clock: new ManualClock() }), helpUrl: 'https://isp.example/help',
    logger, accountStatus: () => 'active', ...over,
  });
  const port = await server.listen(0, '127.0.0.1');
  t.after(() => server.close());
  return { port, logger };
}

test('a client outside policyService.allow is closed at accept and logged; one inside is answered', async (t) => {
  // 127.0.0.1 is loopback but outside 127.0.0.2/32.
  const { port, logger } = await start(t, { allow: ['127.0.0.2/32'] });
  const stranger = await PolicyClient.open(port, '127.0.0.1', '127.0.0.1');
  stranger.send(request);
  assert.equal(await stranger.read(), null, 'closed without an answer');
  assert.ok(logger.records.some((r) => r.event === 'policy' && r.remote === '127.0.0.1' && /not in policyService\.allow/.test(String(r.msg))),
    JSON.stringify(logger.records));
  const friend = await PolicyClient.open(port, '127.0.0.1', '127.0.0.2');
  friend.send(request);
  assert.equal(await friend.read(), 'DUNNO');
  friend.close();
});

test('the default allowlist is loopback: 127.0.0.0/8 and ::1', async (t) => {
  const { port } = await start(t, {});
  for (const src of ['127.0.0.1', '127.0.0.9']) {
    const c = await PolicyClient.open(port, '127.0.0.1', src);
    c.send(request);
    assert.equal(await c.read(), 'DUNNO', src);
    c.close();
  }
});

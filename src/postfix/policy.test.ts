import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, MemoryLogger } from '../core/index.ts';
import { compileLimits, MemoryLimitStore, type LimitsSpec } from '../limits/index.ts';
import { createPolicyServer, type AccountStatus, type FloodEvent, type PolicyEvent, type PolicyServerOptions } from './index.ts';
import { PolicyClient } from './testkit.ts';

const URL = 'https://isp.example/help/limits';
const spec: LimitsSpec = {
  defaultTier: 'residential',
  tiers: {
    residential: [
      { scope: 'account', counts: 'messages', per: 'hour', limit: 3 },
      { scope: 'account', counts: 'recipients', per: 'hour', limit: 5 },
    ],
    flooder: [{ name: 'flood', scope: 'account', counts: 'recipients', per: 'minute', limit: 2, action: 'flood', suspend: true }],
    legacy: [{ scope: 'ip', counts: 'recipients', per: 'hour', limit: 2 }],
    watched: [
      { name: 'review', scope: 'account', counts: 'messages', per: 'hour', limit: 1, action: 'hold' },
      { scope: 'account', counts: 'messages', per: 'hour', limit: 3 },
    ],
  },
};

async function setup(t: TestContext, over: Partial<PolicyServerOptions> = {}) {
  const compiled = compileLimits(spec);
  assert.ok(compiled.ok);
  const clock = new ManualClock();
  const store = new MemoryLimitStore({ clock });
  const logger = new MemoryLogger();
  const status: Record<string, AccountStatus | { status: AccountStatus; tier: string }> = {
    alice: 'active', bob: 'active', mallory: 'disabled', fred: { status: 'active', tier: 'flooder' }, wendy: { status: 'active', tier: 'watched' },
  };
  const events: PolicyEvent[] = [];
  const floods: FloodEvent[] = [];
  const server = createPolicyServer({
    limits: compiled.limits, store, helpUrl: URL, logger, clock,
    accountStatus: (login) => status[login] ?? 'unknown',
    onDecision: (e) => events.push(e), onFlood: (e) => floods.push(e), ...over,
  });
  const port = await server.listen(0, '127.0.0.1');
  const clients: PolicyClient[] = [];
  t.after(async () => { for (const c of clients) c.close(); await server.close(); });
  const client = async () => { const c = await PolicyClient.open(port); clients.push(c); return c; };
  return { server, port, store, clock, logger, events, floods, client, limits: compiled.limits };
}

const rcpt = (login: string, instance: string, n: number, extra: Record<string, string | number> = {}) => ({
  request: 'smtpd_access_policy', protocol_state: 'RCPT', protocol_name: 'ESMTP', client_address: '192.0.2.10',
  client_name: 'unknown', helo_name: 'client.example', sender: `${login || 'anon'}@isp.example`, recipient: `r${n}@dest.example`,
  recipient_count: 0, queue_id: '', instance, size: 0, sasl_method: login ? 'PLAIN' : '', sasl_username: login, sasl_sender: '',
  ccert_subject: '', encryption_protocol: 'TLSv1.3', stress: '', ...extra,
});

test('recipients are counted per RCPT on one reused connection; limit+1 gets 450 4.7.1 with the help URL', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  for (let i = 1; i <= 5; i++) assert.equal(await c.ask(rcpt('alice', 'tx1', i)), 'DUNNO', `recipient ${i}`);
  assert.equal(await c.ask(rcpt('alice', 'tx1', 6)),
    `450 4.7.1 Sending limit of 5 recipients per hour for this account reached; try again in 12 minutes; see ${URL}`);
  // Another account is not affected.
  assert.equal(await c.ask(rcpt('bob', 'tx2', 1)), 'DUNNO');
});

test('a message is counted once, at the first RCPT of its transaction (instance); limit+1 messages deferred', async (t) => {
  const { client, clock } = await setup(t);
  const c = await client();
  for (const tx of ['m1', 'm2', 'm3']) assert.equal(await c.ask(rcpt('alice', tx, 1)), 'DUNNO');
  assert.equal(await c.ask(rcpt('alice', 'm3', 2)), 'DUNNO', 'second recipient of a counted message');
  assert.match((await c.ask(rcpt('alice', 'm4', 1)))!, /^450 4\.7\.1 Sending limit of 3 messages per hour for this account reached; try again in 20 minutes; see /);
  // The bucket drains: one message interval (20 min) later one more message passes.
  clock.advance(20 * 60_000);
  assert.equal(await c.ask(rcpt('alice', 'm5', 1)), 'DUNNO');
});

test('disabled account → 550 5.7.1 with the URL; flood → 550 5.7.28 and the suspend hook; lockout → 450 4.7.0', async (t) => {
  const { client, floods, events } = await setup(t, { lockedOut: (ip, login) => login === 'bob' && ip === '192.0.2.10' });
  const c = await client();
  assert.equal(await c.ask(rcpt('mallory', 'd1', 1)), `550 5.7.1 Account disabled; see ${URL}`);
  assert.equal(await c.ask({ ...rcpt('mallory', 'd1', 1), protocol_state: 'MAIL', recipient: '' }), `550 5.7.1 Account disabled; see ${URL}`);
  assert.equal(await c.ask(rcpt('fred', 'f1', 1)), 'DUNNO');
  assert.equal(await c.ask(rcpt('fred', 'f1', 2)), 'DUNNO');
  assert.equal(await c.ask(rcpt('fred', 'f1', 3)), `550 5.7.28 Mail flood detected; sending suspended; see ${URL}`);
  assert.deepEqual(floods, [{ login: 'fred', ip: '192.0.2.10', ruleId: 'flooder/flood', suspend: true }]);
  assert.equal(await c.ask(rcpt('bob', 'b1', 1)), '450 4.7.0 Too many failed authentication attempts; try again later');
  assert.deepEqual(events.map((e) => e.outcome), ['disabled', 'disabled', 'dunno', 'dunno', 'flood', 'locked']);
  assert.equal(events[4].scope, 'account');
});

test('with the abuse engine deciding suspensions (floodSuspends false) the flood reply does not say "suspended"; the hook still fires', async (t) => {
  const { client, floods } = await setup(t, { floodSuspends: false });
  const c = await client();
  for (const n of [1, 2]) assert.equal(await c.ask(rcpt('fred', 'f1', n)), 'DUNNO');
  assert.equal(await c.ask(rcpt('fred', 'f1', 3)), `550 5.7.28 Mail flood detected; see ${URL}`);
  assert.deepEqual(floods, [{ login: 'fred', ip: '192.0.2.10', ruleId: 'flooder/flood', suspend: true }]);
});

test('unknown logins are limited in the default tier; unauthenticated clients get DUNNO unless anonymous limits are on', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  for (let i = 1; i <= 5; i++) assert.equal(await c.ask(rcpt('stranger', 'u1', i)), 'DUNNO');
  assert.match((await c.ask(rcpt('stranger', 'u1', 6)))!, /^450 4\.7\.1 /);
  for (let i = 1; i <= 10; i++) assert.equal(await c.ask(rcpt('', `a${i}`, i)), 'DUNNO');

  const anon = await setup(t, { anonymous: { tier: 'legacy' } });
  const d = await anon.client();
  assert.equal(await d.ask(rcpt('', 'x1', 1)), 'DUNNO');
  assert.equal(await d.ask(rcpt('', 'x2', 1)), 'DUNNO');
  // Unauthenticated: the text says what and where, without the rule's detail (RFC 6409 §7).
  assert.equal(await d.ask(rcpt('', 'x3', 1)), `450 4.7.1 Sending limit reached; try again in 30 minutes; see ${URL}`);
});

test('DATA/END-OF-MESSAGE recipient_count gives back recipients Postfix refused after our DUNNO', async (t) => {
  const { client, store, limits } = await setup(t);
  const c = await client();
  for (let i = 1; i <= 4; i++) assert.equal(await c.ask(rcpt('alice', 'e1', i)), 'DUNNO');
  const plan = limits.plan({ account: 'alice', ip: '192.0.2.10' });
  assert.equal(store.state(plan.recipients)[0].remaining, 1);
  assert.equal(await c.ask({ ...rcpt('alice', 'e1', 0), protocol_state: 'END-OF-MESSAGE', recipient: '', recipient_count: 1, size: 512 }), 'DUNNO');
  assert.equal(store.state(plan.recipients)[0].remaining, 4, 'three of four recipients given back');
  assert.equal(store.state(plan.messages)[0].remaining, 2, 'the message itself stays counted');
});

test('pipelined requests are answered in order; unknown attributes are ignored; CRLF accepted', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  c.writeRaw('request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=mallory\nfuture_attribute=x=y\n\n'
    + 'request=smtpd_access_policy\r\nprotocol_state=CONNECT\r\nclient_address=192.0.2.1\r\n\r\n');
  assert.equal(await c.read(), `550 5.7.1 Account disabled; see ${URL}`);
  assert.equal(await c.read(), 'DUNNO');
});

test('bad input closes that connection only; the server keeps serving', async (t) => {
  const { client, logger } = await setup(t, { maxLineBytes: 100 });
  const cases = [
    'this is not a policy request\n\n',
    'request=junk\n\n',
    `request=smtpd_access_policy\nsender=${'x'.repeat(200)}\n\n`,
    `sender=${'x'.repeat(500)}`, // no newline at all: the buffer bound trips
    '=value\n\n',
  ];
  for (const raw of cases) {
    const c = await client();
    c.writeRaw(raw);
    assert.equal(await c.read(), null, `closed after ${JSON.stringify(raw.slice(0, 30))}`);
  }
  const ok = await client();
  assert.equal(await ok.ask(rcpt('alice', 'after', 1)), 'DUNNO');
  assert.equal(logger.records.filter((r) => r.msg === 'policy protocol error, closing').length, cases.length);
});

test('a store that throws (a bug) answers 451 4.3.0 and logs, never crashes', async (t) => {
  const { client, logger } = await setup(t, {
    accountStatus: () => { throw new Error('directory down'); },
  });
  const c = await client();
  assert.equal(await c.ask(rcpt('alice', 'z', 1)), '451 4.3.0 Error: internal error');
  assert.ok(logger.records.some((r) => r.msg === 'policy decision failed' && String(r.err).includes('directory down')));
});

test('a hold rule over its limit answers HOLD (Postfix puts the message in its hold queue); the other rules still refuse', async (t) => {
  const { client } = await setup(t);
  const c = await client();
  assert.equal(await c.ask(rcpt('wendy', 'h1', 1)), 'DUNNO', 'within the hold rule');
  assert.match(String(await c.ask(rcpt('wendy', 'h2', 1))), /^HOLD held: over limit watched\/review$/);
  assert.equal(await c.ask(rcpt('wendy', 'h2', 2)), 'DUNNO', 'the same transaction, once charged: no second verdict');
  assert.match(String(await c.ask(rcpt('wendy', 'h3', 1))), /^HOLD /);
  assert.match(String(await c.ask(rcpt('wendy', 'h4', 1))), /^450 4\.7\.1 Sending limit of 3 messages per hour/, 'the refusing rule still refuses');
});

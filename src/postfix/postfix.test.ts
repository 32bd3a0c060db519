// Against a real Postfix (Debian package): smtpd asks this service at RCPT and
// at end-of-data; swaks is the client. No SASL here: the limits are keyed on
// client_address through the `anonymous` tier (a legacy port-25 relay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLogger } from '../core/index.ts';
import { compileLimits, MemoryLimitStore } from '../limits/index.ts';
import { needTools } from '../../test/lib/tools.ts';
import { PostfixInstance } from '../../test/lib/postfix.ts';
import { createPolicyServer, type PolicyEvent } from './index.ts';

const run = promisify(execFile);
const skip = needTools('postfix', 'swaks');
const URL = 'https://isp.example/help/limits';

async function swaks(port: number, to: string[]): Promise<string> {
  // swaks exits non-zero when a recipient is refused; the transcript is what we check.
  const args = ['--server', '127.0.0.1', '--port', String(port), '--helo', 'client.test', '--from', 'sub@isp.example',
    '--to', to.join(','), '--timeout', '10', '--body', 'policy test'];
  try {
    return (await run('swaks', args)).stdout;
  } catch (err) {
    return (err as { stdout: string }).stdout;
  }
}

test('real Postfix: limit+1 recipients → the last RCPT gets 450 4.7.1 with our text; refused recipients are given back', { skip, timeout: 60_000 }, async (t) => {
  const compiled = compileLimits({
    defaultTier: 'residential',
    tiers: { residential: [], legacy: [{ scope: 'ip', counts: 'recipients', per: 'hour', limit: 3 }] },
  });
  assert.ok(compiled.ok);
  const store = new MemoryLimitStore();
  const events: PolicyEvent[] = [];
  const policy = createPolicyServer({
    limits: compiled.limits, store, helpUrl: URL, logger: new MemoryLogger(), anonymous: { tier: 'legacy' },
    accountStatus: () => 'unknown', onDecision: (e) => events.push(e),
  });
  const pport = await policy.listen(0, '127.0.0.1');
  t.after(() => policy.close());
  const pf = await PostfixInstance.start({
    relayhost: '[127.0.0.1]:9',
    main: [
      `smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:${pport}, check_recipient_access inline:{ { nobody@dest.example = REJECT No such user } }, permit_mynetworks, reject`,
      `smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:${pport}`,
      'default_transport = discard:policy test',
    ],
  });
  t.after(() => pf.stop());

  // 1. Three recipients pass; Postfix itself refuses one of them after our DUNNO.
  let out = await swaks(pf.port, ['a@dest.example', 'nobody@dest.example', 'b@dest.example']);
  if (!out.includes('250 2.0.0')) t.diagnostic(pf.readLog());
  assert.match(out, /<\*\* 554 5\.7\.1 <nobody@dest\.example>: Recipient address rejected: No such user/);
  assert.match(out, /<- {2}250 2\.0\.0 Ok: queued as/);
  // End-of-data said recipient_count=2: the refused one was given back.
  const plan = compiled.limits.plan({ account: '[127.0.0.1]', tier: 'legacy', ip: '127.0.0.1' });
  assert.equal(store.state(plan.recipients)[0].remaining, 1);
  assert.ok(events.some((e) => e.state === 'END-OF-MESSAGE'), 'Postfix asked at end of data');

  // 2. Limit is 3: one left, so the second RCPT of this transaction is deferred with our text.
  out = await swaks(pf.port, ['c@dest.example', 'd@dest.example']);
  assert.match(out, /<- {2}250 2\.1\.5 Ok/);
  const m = /<\*\* (450 4\.7\.1 .*)$/m.exec(out);
  assert.ok(m, out);
  assert.equal(m[1], `450 4.7.1 <d@dest.example>: Recipient address rejected: Sending limit reached; try again in 20 minutes; see ${URL}`);
  assert.match(out, /<- {2}250 2\.0\.0 Ok: queued as/, 'the accepted recipient still gets the message');
  assert.match(pf.readLog(), /: reject: RCPT from .*450 4\.7\.1 <d@dest\.example>/);
});

test('real Postfix: over a rule with action hold, our HOLD puts the message in Postfix\'s hold queue (not delivered, not refused)', { skip, timeout: 60_000 }, async (t) => {
  const compiled = compileLimits({
    defaultTier: 'residential',
    tiers: { residential: [], legacy: [{ name: 'review', scope: 'ip', counts: 'messages', per: 'hour', limit: 1, action: 'hold' }] },
  });
  assert.ok(compiled.ok);
  const policy = createPolicyServer({
    limits: compiled.limits, store: new MemoryLimitStore(), helpUrl: URL, logger: new MemoryLogger(), anonymous: { tier: 'legacy' },
    accountStatus: () => 'unknown',
  });
  const pport = await policy.listen(0, '127.0.0.1');
  t.after(() => policy.close());
  const pf = await PostfixInstance.start({
    relayhost: '[127.0.0.1]:9',
    main: [
      `smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:${pport}, permit_mynetworks, reject`,
      'default_transport = discard:policy test',
    ],
  });
  t.after(() => pf.stop());
  const held = (): string[] => { try { return readdirSync(join(pf.dir, 'queue', 'hold')); } catch { return []; } };
  // Within the rule: delivered (discarded) as usual, nothing held.
  assert.match(await swaks(pf.port, ['a@dest.example']), /<- {2}250 2\.0\.0 Ok: queued as/);
  assert.deepEqual(held(), []);
  // Over it: the client still gets 250, and the message waits in hold/.
  const out = await swaks(pf.port, ['b@dest.example']);
  assert.match(out, /<- {2}250 2\.0\.0 Ok: queued as (\S+)/);
  const id = /queued as (\S+)/.exec(out)![1];
  for (let i = 0; i < 50 && !held().length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(held(), [id], 'Postfix keeps it on hold');
  assert.match(pf.readLog(), /hold: RCPT from .*held: over limit legacy\/review/);
});

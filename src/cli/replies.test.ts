// One refusal, one text: the MSA (limitsPort) and the Postfix policy service
// (PolicyEngine) answer the same limit decision with the same line, because
// both take it from core's reply catalogue. Before issue 11 they were worded
// twice ("Sending limit of 1 messages per hour for this account reached" here,
// "Sending limit reached (messages per hour for this account)" there).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, formatReply, replyLine, type Reply } from '../core/index.ts';
import { compileLimits, MemoryLimitStore, type LimitsSpec } from '../limits/index.ts';
import { PolicyEngine } from '../postfix/index.ts';
import { limitsPort } from './limits.ts';
import { InProcessBus } from '../events/index.ts';

const URL = 'https://isp.example/help/limits';
const spec = (action?: 'flood'): LimitsSpec => ({
  defaultTier: 'home',
  tiers: { home: [{ name: 'one', scope: 'account', counts: 'messages', per: 'hour', limit: 1, ...(action ? { action, suspend: true } : {}) }] },
});

async function both(s: LimitsSpec): Promise<{ smtp: Reply; policy: string }> {
  const c = compileLimits(s);
  assert.ok(c.ok);
  const clock = new ManualClock();
  const port = limitsPort(c.limits, new MemoryLimitStore({ clock }), URL, new InProcessBus());
  const ctx = { account: 'alice@isp.example', subscriber: null, tier: 'home', ip: '192.0.2.10' };
  assert.equal(await port.onMail(ctx), null);
  const smtp = await port.onMail(ctx);
  assert.ok(smtp);
  const engine = new PolicyEngine({ limits: c.limits, store: new MemoryLimitStore({ clock }), helpUrl: URL, accountStatus: () => 'active', clock });
  const ask = (instance: string) => engine.decide(new Map([
    ['request', 'smtpd_access_policy'], ['protocol_state', 'RCPT'], ['sasl_username', 'alice@isp.example'],
    ['client_address', '192.0.2.10'], ['instance', instance]]));
  assert.equal(await ask('t1'), 'DUNNO');
  const policy = await ask('t2');
  assert.ok(policy);
  return { smtp, policy };
}

test('a sending limit: the MSA and the policy service refuse with the same line', async () => {
  const { smtp, policy } = await both(spec());
  assert.equal(formatReply(smtp), `450 4.7.1 Sending limit of 1 messages per hour for this account reached; try again in 60 minutes; see ${URL}\r\n`);
  assert.equal(policy, replyLine(smtp));
});

test('a flood rule that suspends: the same line from both', async () => {
  const { smtp, policy } = await both(spec('flood'));
  assert.equal(formatReply(smtp), `550 5.7.28 Mail flood detected; sending suspended; see ${URL}\r\n`);
  assert.equal(policy, replyLine(smtp));
});

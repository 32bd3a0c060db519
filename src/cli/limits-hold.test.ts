// Limit rules with action hold (issue 11 item 4): over such a rule the message is not
// refused; the other rules are still checked and charged, and the decision at the end of
// data is hold with the rule in the reason. Every hit is published on the bus.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InProcessBus, type EventMap } from '../events/index.ts';
import { MemoryLimitStore, compileLimits, type RuleSpec } from '../limits/index.ts';
import type { LimitContext } from '../submission/index.ts';
import { limitsPort } from './limits.ts';

function gate(rules: RuleSpec[]) {
  const r = compileLimits({ tiers: { t: rules } });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const bus = new InProcessBus();
  const hits: Array<EventMap['limit.hit']> = [];
  bus.subscribe('limit.hit', (e) => hits.push(e));
  return { port: limitsPort(r.limits, new MemoryLimitStore(), 'https://help.example', bus), hits };
}
const ctx = (): LimitContext => ({ account: 'alice@isp.example', subscriber: 'c1', tier: 't', ip: '192.0.2.1' });
const input = (limits: LimitContext | null) => ({ queueId: 'Q', account: 'alice@isp.example', subscriber: 'c1', clientIp: '192.0.2.1', limits, sender: 'a', recipients: 1, size: 1, messageId: 'm' });

test('a hold rule over its limit: no refusal, the message is held naming the rule; the others still count', async () => {
  const { port, hits } = gate([
    { name: 'hold-hour', scope: 'account', counts: 'messages', per: 'hour', limit: 1, action: 'hold' },
    { name: 'cap-hour', scope: 'account', counts: 'messages', per: 'hour', limit: 3 },
  ]);
  const first = ctx();
  assert.equal(await port.onMail(first), null);
  assert.deepEqual(await port.decide(input(first)), { action: 'accept' });
  for (let i = 0; i < 2; i++) {
    const c = ctx();
    assert.equal(await port.onMail(c), null, 'over the hold rule: not refused');
    assert.deepEqual(await port.decide(input(c)), { action: 'hold', reason: 'held: over limit t/hold-hour' });
  }
  assert.deepEqual(hits.map((h) => [h.rule, h.outcome]), [['t/hold-hour', 'held'], ['t/hold-hour', 'held']]);
  // The ordinary rule kept counting the held messages: the 4th is refused by it.
  const fourth = ctx();
  assert.equal((await port.onMail(fourth))?.code, 450);
  assert.deepEqual(hits.at(-1)?.rule, 't/cap-hour');
  assert.deepEqual(await port.decide(input(null)), { action: 'accept' }, 'no limits context, nothing to hold');
});

test('action: refuse is the default (450) by another name; an unknown action is an error with its path', () => {
  assert.ok(compileLimits({ tiers: { t: [{ scope: 'account', counts: 'messages', per: 'hour', limit: 1, action: 'refuse' as 'defer' }] } }).ok);
  const bad = compileLimits({ tiers: { t: [{ scope: 'account', counts: 'messages', per: 'hour', limit: 1, action: 'quarantine' as 'defer' }] } });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors[0].path, ['tiers', 't', 0, 'action']);
});

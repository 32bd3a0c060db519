import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerFor, phaseAt } from './decide.ts';
import type { RetiredEntry, RetiredUser } from './types.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2027, 0, 1);
function entry(users: Partial<RetiredUser>[] = [], over: Partial<RetiredEntry['domain']> = {}): RetiredEntry {
  const m = new Map<string, RetiredUser>();
  for (const u of users) {
    const full: RetiredUser = { domain: 'shell1.isp.example', localPart: 'kept', keep: true, deliverTo: 'kept@isp.example', reveal: false, actor: 'portal', reason: 'still in use', at: T0, ...u };
    m.set(full.localPart, full);
  }
  return {
    domain: { domain: 'shell1.isp.example', warnAt: T0 + 10 * DAY, tempfailAt: T0 + 20 * DAY, refuseAt: T0 + 30 * DAY, goneAt: T0 + 60 * DAY, cancelledAt: null, successor: 'isp.example', createdAt: T0, actor: 'desk', reason: 'shell host retired', ...over },
    users: m,
  };
}

test('phases advance by date; a domain with kept users stays in refuse after goneAt', () => {
  const e = entry();
  assert.deepEqual([0, 10, 20, 30, 60].map((d) => phaseAt(e, T0 + d * DAY)), ['announced', 'warn', 'tempfail', 'refuse', 'gone']);
  assert.equal(phaseAt(entry([{}]), T0 + 61 * DAY), 'refuse');
  assert.equal(phaseAt(entry([], { cancelledAt: T0 + 25 * DAY }), T0 + 31 * DAY), null);
});

test('K2: in the refuse phase the kept user is accepted and aliased; others get 550 5.1.1 naming no other address', () => {
  const e = entry([{}, { localPart: 'moved', keep: false, deliverTo: 'moved@new.example', reveal: false }]);
  const at = T0 + 31 * DAY;
  assert.deepEqual(answerFor(e, 'kept', at), { kind: 'accept', phase: 'refuse', deliverTo: 'kept@isp.example' });
  for (const lp of ['other', 'moved']) {
    const a = answerFor(e, lp, at);
    assert.equal(a.kind, 'refuse');
    if (a.kind !== 'refuse') continue;
    assert.equal(`${a.reply.code} ${a.reply.enhanced}`, '550 5.1.1');
    assert.doesNotMatch(String(a.reply.text), /new\.example|isp\.example>/);
  }
});

test('a user who asked is revealed (551 5.1.6); tempfail, warn and announced phases; gone refuses everyone', () => {
  const e = entry([{ localPart: 'moved', keep: false, deliverTo: 'moved@new.example', reveal: true }]);
  const r = answerFor(e, 'moved', T0 + 31 * DAY);
  assert.ok(r.kind === 'refuse' && r.reply.code === 551 && r.reply.enhanced === '5.1.6' && String(r.reply.text).includes('<moved@new.example>'));
  const t = answerFor(e, 'x', T0 + 21 * DAY);
  assert.ok(t.kind === 'tempfail' && t.reply.code === 450);
  assert.equal(answerFor(e, 'x', T0 + 11 * DAY).kind, 'warn');
  assert.deepEqual(answerFor(e, 'x', T0), { kind: 'accept', phase: 'announced', deliverTo: null });
  assert.equal(answerFor(e, 'moved', T0 + 61 * DAY).kind, 'refuse');
  assert.deepEqual(answerFor(undefined, 'x', T0), { kind: 'none' });
});

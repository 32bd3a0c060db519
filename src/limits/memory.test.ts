import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/index.ts';
import { MemoryLimitStore, type LimitKey } from './index.ts';

const HOUR = 3_600_000;
const key = (id: string, limit: number, periodMs: number, burst = limit, flood = false): LimitKey =>
  ({ id, intervalMs: periodMs / limit, burst, flood });

test('limit+1 is refused; one unit returns after exactly T, the whole burst after the window', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  const k = key('a', 10, HOUR); // T = 6 min
  for (let i = 1; i <= 10; i++) {
    const d = s.check([k], 1);
    assert.equal(d.allowed, true, `message ${i}`);
    assert.equal(d.remaining, 10 - i);
  }
  const d11 = s.check([k], 1);
  assert.deepEqual([d11.allowed, d11.outcome, d11.retryAfterMs, d11.hit?.id], [false, 'limited', 360_000, 'a']);
  clock.advance(360_000 - 1);
  assert.equal(s.check([k], 1).retryAfterMs, 1);
  clock.advance(1);
  assert.equal(s.check([k], 1).allowed, true);
  assert.equal(s.check([k], 1).allowed, false);
  clock.advance(HOUR);
  for (let i = 0; i < 10; i++) assert.equal(s.check([k], 1).allowed, true);
  assert.equal(s.check([k], 1).allowed, false);
});

test('burst below limit: burst at once, then the sustained rate', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  const k = key('b', 60, 60_000, 5); // 1/s, 5 at once
  for (let i = 0; i < 5; i++) assert.equal(s.check([k], 1).allowed, true);
  const d = s.check([k], 1);
  assert.equal(d.allowed, false);
  assert.equal(d.retryAfterMs, 1000);
  clock.advance(3000);
  assert.deepEqual(s.state([k]).map((x) => [x.remaining, x.resetMs]), [[3, 2000]]);
});

test('cost n charges n units; a cost above the burst can never pass', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  const k = key('c', 10, 10_000); // T = 1 s
  assert.equal(s.check([k], 3).remaining, 7);
  assert.equal(s.check([k], 7).remaining, 0);
  const d = s.check([k], 3);
  assert.equal(d.allowed, false);
  assert.equal(d.retryAfterMs, 3000);
  assert.equal(s.check([k], 11).retryAfterMs, Infinity);
});

test('several keys are all-or-nothing and report the key that refused', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  const acct = key('acct', 5, HOUR), ip = key('ip', 3, HOUR);
  for (let i = 0; i < 3; i++) assert.equal(s.check([acct, ip], 1).allowed, true);
  const d = s.check([acct, ip], 1);
  assert.equal(d.allowed, false);
  assert.equal(d.hit, ip);
  // acct was not charged by the refused decision: 2 left.
  assert.deepEqual(s.state([acct, ip]).map((x) => x.remaining), [2, 0]);
  assert.equal(s.check([acct], 2).allowed, true);
  assert.equal(s.check([acct], 1).allowed, false);
});

test('a flood key wins the report over an ordinary key with a longer wait', () => {
  const s = new MemoryLimitStore({ clock: new ManualClock() });
  const slow = key('slow', 1, HOUR), flood = key('flood', 1, 60_000, 1, true);
  s.check([slow, flood], 1);
  const d = s.check([slow, flood], 1);
  assert.equal(d.outcome, 'flood');
  assert.equal(d.hit, flood);
  assert.equal(d.retryAfterMs, 60_000);
});

test('refund gives back units and never more than an empty bucket', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  const k = key('r', 5, HOUR);
  s.check([k], 5);
  s.refund([k], 2);
  assert.equal(s.state([k])[0].remaining, 2);
  s.refund([k], 100);
  assert.equal(s.state([k])[0].remaining, 5);
  assert.equal(s.size, 0);
  assert.equal(s.check([k], 6).allowed, false);
});

test('empty buckets are forgotten so memory follows live keys only', () => {
  const clock = new ManualClock();
  const s = new MemoryLimitStore({ clock });
  for (let i = 0; i < 5000; i++) s.check([key(`old${i}`, 10, 1000)], 1);
  clock.advance(1000);
  for (let i = 0; i < 12_000; i++) s.check([key('hot', 1e9, 1000)], 1);
  assert.equal(s.size, 1);
});

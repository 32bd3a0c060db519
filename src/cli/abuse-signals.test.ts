// Bus events in, signals out: a real InProcessBus, events published as the
// parts publish them, a recording sink as the engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../core/index.ts';
import { InProcessBus } from '../events/index.ts';
import type { Signal } from '../abuse/index.ts';
import { counterDelta, subscribeSignals } from './abuse-signals.ts';

function rig(o: Partial<Parameters<typeof subscribeSignals>[0]> = {}) {
  const bus = new InProcessBus();
  const seen: Signal[] = [];
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 13));
  const off = subscribeSignals({ bus, sink: { ingest: (s) => { seen.push(s); return true; } }, clock, ...o });
  return { bus, seen, clock, off };
}
const auth = { session: 's1', listener: 'submission', mechanism: 'PLAIN' };

test('AUTH failures and lockouts: canonical address, the login as the account store keys it', () => {
  const { bus, seen, clock } = rig();
  bus.publish('auth.failed', { ...auth, clientIp: '::ffff:192.0.2.7', login: 'Zombie@ISP.Example', why: 'failure' });
  bus.publish('auth.failed', { ...auth, clientIp: '2001:DB8:0:0::1', login: null, why: 'locked' });
  bus.publish('auth.failed', { ...auth, clientIp: '192.0.2.7', login: 'zombie@isp.example', why: 'disabled' });
  bus.publish('auth.failed', { ...auth, clientIp: '192.0.2.7', login: 'zombie@isp.example', why: 'error' });
  bus.publish('auth.failed', { ...auth, clientIp: '192.0.2.7', login: 'bad\u0000login', why: 'failure' });
  bus.publish('auth.lockout', { scope: 'ip', key: '192.0.2.7', clientIp: '192.0.2.7', login: 'Zombie@isp.example', lockoutMs: 900_000 });
  assert.deepEqual(seen, [
    { class: 'auth-failure', at: clock.now(), address: '192.0.2.7', port: null, subscriber: null, account: 'zombie@isp.example', amount: 1, origin: 'submission',
      detail: { listener: 'submission', mechanism: 'PLAIN', why: 'failure' } },
    { class: 'auth-failure', at: clock.now(), address: '2001:db8::1', port: null, subscriber: null, account: null, amount: 1, origin: 'submission',
      detail: { listener: 'submission', mechanism: 'PLAIN', why: 'locked' } },
    { class: 'auth-failure', at: clock.now(), address: '192.0.2.7', port: null, subscriber: null, account: null, amount: 1, origin: 'submission',
      detail: { listener: 'submission', mechanism: 'PLAIN', why: 'failure', login: 'bad\u0000login' } },
    { class: 'auth-lockout', at: clock.now(), address: '192.0.2.7', port: null, subscriber: null, account: 'zombie@isp.example', amount: 1, origin: 'submission',
      detail: { scope: 'ip', key: '192.0.2.7', lockoutMs: 900_000 } },
  ]);
});

test('limit hits (limited, held) and floods carry the subscriber the account names', () => {
  const { bus, seen } = rig();
  const hit = { rule: 'residential/hour', scope: 'account', account: 'zombie@isp.example', subscriber: 'sub-9', clientIp: '192.0.2.7', retryAfterMs: 1000, degraded: false };
  bus.publish('limit.hit', { ...hit, outcome: 'limited' });
  bus.publish('limit.hit', { ...hit, outcome: 'held' });
  bus.publish('limit.hit', { ...hit, outcome: 'flood' });
  bus.publish('limit.hit', { ...hit, outcome: 'unavailable' });
  bus.publish('limit.flood', { rule: 'burst', account: 'zombie@isp.example', subscriber: 'sub-9', clientIp: '192.0.2.7', suspend: true, source: 'policy-service' });
  assert.deepEqual(seen.map((s) => [s.class, s.subscriber, s.account, s.origin, s.detail.outcome ?? s.detail.rule]), [
    ['limit-hit', 'sub-9', 'zombie@isp.example', 'submission', 'limited'],
    ['limit-hit', 'sub-9', 'zombie@isp.example', 'submission', 'held'],
    ['flood', 'sub-9', 'zombie@isp.example', 'policy-service', 'burst'],
  ]);
});

test('edge counters: the increase since the last report of that edge and source; a lower total is a fresh element', () => {
  const { bus, seen } = rig({ baseline: [{ edge: 'e1', source: '198.51.100.4', packets: 100, destinations: 10 }] });
  const report = (edge: string, source: string, packets: number, destinations: number): Array<[string, number]> => {
    seen.length = 0;
    bus.publish('edge.blocked', { edge, source, packets, destinations });
    return seen.map((s) => [s.class, s.amount]);
  };
  assert.deepEqual(report('e1', '192.0.2.9', 10, 3), [['edge-blocked', 10], ['edge-destinations', 3]]);
  assert.equal(seen[0].origin, 'edge:e1');
  assert.deepEqual(seen[0].detail, { edge: 'e1', packets: 10, destinations: 3 });
  assert.deepEqual(report('e1', '192.0.2.9', 25, 5), [['edge-blocked', 15], ['edge-destinations', 2]]);
  assert.deepEqual(report('e1', '192.0.2.9', 25, 5), [], 'no change, no signal');
  assert.deepEqual(report('e1', '192.0.2.9', 4, 1), [['edge-blocked', 4], ['edge-destinations', 1]], 'reset: the element expired and came back');
  assert.deepEqual(report('e2', '192.0.2.9', 7, 1), [['edge-blocked', 7], ['edge-destinations', 1]], 'another edge counts on its own');
  assert.deepEqual(report('e1', '198.51.100.4', 102, 10), [['edge-blocked', 2]], 'the stored last report is the baseline after a start');
  assert.deepEqual(report('e1', '2001:DB8::0:5', 3, 1).length, 2);
  assert.equal(seen[0].address, '2001:db8::5');
  assert.deepEqual(report('e1', 'not-an-address', 3, 1), []);
});

test('edge counters: the oldest updated source is forgotten past the cap (its next total counts whole)', () => {
  const { bus, seen } = rig({ maxEdgeSources: 2 });
  for (const s of ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.3']) bus.publish('edge.blocked', { edge: 'e', source: s, packets: 5, destinations: 0 });
  seen.length = 0;
  bus.publish('edge.blocked', { edge: 'e', source: '192.0.2.1', packets: 6, destinations: 0 });
  bus.publish('edge.blocked', { edge: 'e', source: '192.0.2.2', packets: 6, destinations: 0 });
  assert.deepEqual(seen.map((s) => [s.address, s.amount]), [['192.0.2.1', 1], ['192.0.2.2', 6]]);
});

test('counterDelta and unsubscribe', () => {
  assert.deepEqual([counterDelta(undefined, 5), counterDelta(5, 9), counterDelta(9, 2), counterDelta(2, -1), counterDelta(2, Number.NaN)], [5, 4, 2, 0, 0]);
  const { bus, seen, off } = rig();
  off();
  bus.publish('limit.flood', { rule: 'r', account: 'a@b.example', subscriber: null, clientIp: '192.0.2.1', suspend: false, source: 'submission' });
  assert.equal(seen.length, 0);
});

// The statistics store and recorder on both stores (SQLite in a temp dir, a
// private PostgreSQL), and every declared series fed by its real event.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/index.ts';
import { InProcessBus, type EventMap } from '../events/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { HOUR_MS, SERIES_NAMES, StatsRecorder, StatsStore, subscribeStats, type SeriesName } from './index.ts';
import { storeBackends } from '../../test/lib/backends.ts';

const backends = storeBackends('stats');

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const TX: EventMap['message.accepted'] = {
  at: T0, session: 's1', listener: 'submission', clientIp: '192.0.2.7', clientPort: 40001, account: 'alice@isp.example', subscriber: 'cust-1',
  mechanism: 'PLAIN', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', sender: 'alice@isp.example', recipients: 1, size: 10,
  messageId: '<m@x>', repairs: [], reply: null, ms: 1, queueId: 'Q1',
};

/** The real event of each series, published; what the series must then hold. Typed by SeriesName: a series added without a case fails tsc. */
const FEEDS: Record<SeriesName, { publish(bus: InProcessBus): void; expect: Record<string, number> }> = {
  messages: {
    publish(bus) {
      bus.publish('message.accepted', TX);
      bus.publish('message.accepted', { ...TX, queueId: 'Q2' });
      bus.publish('message.held', { ...TX, queueId: 'Q3', reason: 'held: over limit' });
      bus.publish('message.refused', { ...TX, queueId: null, reply: { code: 550, enhanced: '5.7.1', key: 'senderNotOwned' } });
    },
    expect: { accepted: 2, held: 1, refused: 2 }, // the refusals case's message.refused too
  },
  refusals: {
    publish(bus) {
      bus.publish('message.refused', { ...TX, queueId: null, reply: { code: 530, enhanced: '5.7.0', key: 'authRequired' } });
      bus.publish('recipient.answered', { session: 's1', listener: 'submission', reply: { code: 450, enhanced: '4.7.1', key: 'limited' } });
      bus.publish('recipient.answered', { session: 's1', listener: 'submission', reply: { code: 450, enhanced: '4.7.1', key: 'limited' } });
      bus.publish('recipient.answered', { session: 's1', listener: 'submission', reply: { code: 250, enhanced: '2.1.5' } });
      bus.publish('recipient.answered', { session: 's1', listener: 'submission', reply: { code: 554, enhanced: '5.1.2' } });
    },
    expect: { authRequired: 1, limited: 2, other: 1, senderNotOwned: 1 }, // and the messages case's refusal
  },
  'limit-hits': {
    publish(bus) {
      const hit: EventMap['limit.hit'] = { rule: 'residential/messages-hour', scope: 'account', outcome: 'limited', account: 'a', subscriber: null, clientIp: '192.0.2.7', retryAfterMs: 1000, degraded: false };
      bus.publish('limit.hit', hit);
      bus.publish('limit.hit', { ...hit, outcome: 'held' });
      bus.publish('limit.hit', { ...hit, rule: null, scope: null, outcome: 'unavailable' });
    },
    expect: { 'residential/messages-hour': 2, unavailable: 1 },
  },
  'limit-floods': {
    publish(bus) { bus.publish('limit.flood', { rule: 'residential/flood', account: 'm', subscriber: null, clientIp: '192.0.2.66', suspend: true, source: 'submission' }); },
    expect: { 'residential/flood': 1 },
  },
  'auth-failures': {
    publish(bus) {
      const f: EventMap['auth.failed'] = { session: 's', listener: 'submission', clientIp: '192.0.2.9', mechanism: 'PLAIN', login: 'x', why: 'failure' };
      bus.publish('auth.failed', f);
      bus.publish('auth.failed', f);
      bus.publish('auth.failed', { ...f, why: 'locked' });
    },
    expect: { failure: 2, locked: 1 },
  },
  'auth-lockouts': {
    publish(bus) { bus.publish('auth.lockout', { scope: 'ip', key: '192.0.2.9', clientIp: '192.0.2.9', login: null, lockoutMs: 600_000 }); },
    expect: { ip: 1 },
  },
  'edge-blocked': {
    publish(bus) {
      // Cumulative totals: 5, then 12 (7 more), then 3 (a fresh element: 3 new); another edge 4. The baseline says edge-a/198.51.100.9 was at 100.
      bus.publish('edge.blocked', { edge: 'edge-a', source: '198.51.100.7', packets: 5, destinations: 2 });
      bus.publish('edge.blocked', { edge: 'edge-a', source: '198.51.100.7', packets: 12, destinations: 3 });
      bus.publish('edge.blocked', { edge: 'edge-a', source: '198.51.100.7', packets: 3, destinations: 1 });
      bus.publish('edge.blocked', { edge: 'edge-a', source: '198.51.100.9', packets: 104, destinations: 1 });
      bus.publish('edge.blocked', { edge: 'edge-b', source: '198.51.100.7', packets: 4, destinations: 1 });
    },
    expect: { 'edge-a': 5 + 7 + 3 + 4, 'edge-b': 4 },
  },
  cases: {
    publish(bus) {
      bus.publish('case.opened', { case: 'c1', subscriber: 'cust-2' });
      bus.publish('case.opened', { case: 'c2', subscriber: 'cust-3' });
      bus.publish('case.closed', { case: 'c1', subscriber: 'cust-2' });
    },
    expect: { opened: 2, closed: 1 },
  },
  // Sampled, not published: the node's sampler (cli/stats-wiring.ts, its own test with a real spool) calls gauge().
  queue: {
    publish() {},
    expect: {},
  },
};

async function totals(rec: StatsRecorder, series: SeriesName, since = T0, until = T0 + HOUR_MS): Promise<Record<string, number>> {
  const p = await rec.points({ series: [series], since, until, step: 'hour' });
  return Object.fromEntries(p.series[0].labels.map((l) => [l.label, l.total]));
}

for (const b of backends) {
  describe(`stats on ${b.name}`, { skip: b.skip }, () => {
    async function opened(t: { after(fn: () => Promise<void>): void }): Promise<Store> {
      const store = await openStore(await b.config());
      t.after(() => store.close());
      return store;
    }

    test('upserts add for counters and keep the larger for gauges; points by hour and day fill zeros', async (t) => {
      const s = await StatsStore.open(await opened(t));
      const h = (n: number) => T0 + n * HOUR_MS;
      await s.add([{ hour: h(0), series: 'messages', label: 'accepted', value: 3 }, { hour: h(1), series: 'messages', label: 'accepted', value: 2 },
        { hour: h(0), series: 'queue', label: 'active', value: 7 }]);
      await s.add([{ hour: h(0), series: 'messages', label: 'accepted', value: 4 }, { hour: h(0), series: 'queue', label: 'active', value: 5 },
        { hour: h(1), series: 'queue', label: 'active', value: 9 }, { hour: h(20), series: 'messages', label: 'refused', value: 1 }]);
      const p = await s.points({ series: ['messages', 'queue'], since: h(0) + 1234, until: h(3) - 1, step: 'hour' });
      assert.deepEqual(p.times, [h(0), h(1), h(2)], 'since rounds down, until up');
      assert.deepEqual(p.series, [
        { series: 'messages', kind: 'counter', labels: [{ label: 'accepted', values: [7, 2, 0], total: 9 }] },
        { series: 'queue', kind: 'gauge', labels: [{ label: 'active', values: [7, 9, 0], total: 9 }] },
      ]);
      const d = await s.points({ series: ['messages', 'queue'], since: h(0), until: h(24), step: 'day' });
      const day = Date.UTC(2026, 11, 1);
      assert.deepEqual(d.times, [day, day + 86_400_000]);
      assert.deepEqual(d.series.map((x) => x.labels), [
        [{ label: 'accepted', values: [9, 0], total: 9 }, { label: 'refused', values: [0, 1], total: 1 }],
        [{ label: 'active', values: [9, 0], total: 9 }],
      ], 'a day sums counters and keeps the highest gauge sample; 20:00 the day after 10:00 is the next day');
      await assert.rejects(s.points({ series: ['messages'], since: h(0), until: h(0), step: 'hour' }), RangeError);
      await assert.rejects(s.points({ series: ['messages'], since: h(0), until: h(24 * 32), step: 'hour' }), /at most 744 hours/);
      assert.equal(await s.prune(h(1)), 2, 'the hour before is pruned (counter and gauge rows)');
      assert.equal((await s.points({ series: ['messages'], since: h(0), until: h(1), step: 'hour' })).series[0].labels.length, 0);
    });

    test('every series is fed by its real event, in the hour it happened', async (t) => {
      const store = await opened(t);
      const clock = new ManualClock(T0 + 60_000);
      const rec = new StatsRecorder(await StatsStore.open(store), { clock });
      const bus = new InProcessBus();
      subscribeStats(bus, rec, { baseline: [{ edge: 'edge-a', source: '198.51.100.9', packets: 100 }] });
      for (const name of SERIES_NAMES) FEEDS[name].publish(bus);
      rec.gauge('queue', 'active', 3);
      rec.gauge('queue', 'active', 8);
      rec.gauge('queue', 'active', 2);
      rec.gauge('queue', 'deferred', 0);
      clock.advance(HOUR_MS);
      bus.publish('message.accepted', TX); // the next hour
      const expected: Record<string, Record<string, number>> = { ...Object.fromEntries(SERIES_NAMES.map((n) => [n, FEEDS[n].expect])), queue: { active: 8, deferred: 0 } };
      for (const name of SERIES_NAMES) assert.deepEqual(await totals(rec, name), expected[name], name);
      assert.deepEqual(await totals(rec, 'messages', T0 + HOUR_MS, T0 + 2 * HOUR_MS), { accepted: 1 });
      // Another recorder (a second node) on the same store adds to the same rows.
      const rec2 = new StatsRecorder(await StatsStore.open(store), { clock: new ManualClock(T0) });
      rec2.count('messages', 'accepted', 5);
      await rec2.flush();
      assert.equal((await totals(rec, 'messages')).accepted, 7);
    });

    test('nothing is written until a flush; a failed write keeps the counts for the next', async (t) => {
      const store = await opened(t);
      const clock = new ManualClock(T0);
      const real = await StatsStore.open(store);
      let fail = true;
      const flaky = Object.assign(Object.create(real) as StatsStore, {
        add: (rows: Parameters<StatsStore['add']>[0]) => (fail ? Promise.reject(new Error('disk full')) : real.add(rows)),
      });
      const rec = new StatsRecorder(flaky, { clock });
      rec.count('messages', 'accepted');
      assert.deepEqual((await real.points({ series: ['messages'], since: T0, until: T0 + HOUR_MS, step: 'hour' })).series[0].labels, [], 'held in memory');
      await assert.rejects(rec.flush(), /disk full/);
      rec.count('messages', 'accepted', 2);
      rec.gauge('queue', 'hold', 4);
      await assert.rejects(rec.flush(), /disk full/);
      rec.gauge('queue', 'hold', 1);
      fail = false;
      await rec.stop();
      const p = await real.points({ series: ['messages', 'queue'], since: T0, until: T0 + HOUR_MS, step: 'hour' });
      assert.deepEqual(p.series.map((s) => s.labels.map((l) => [l.label, l.total])), [[['accepted', 3]], [['hold', 4]]]);
    });

    test('prune drops the hours older than the retention', async (t) => {
      const store = await opened(t);
      const clock = new ManualClock(T0);
      const s = await StatsStore.open(store);
      const rec = new StatsRecorder(s, { clock, retentionDays: 2 });
      rec.count('cases', 'opened');
      await rec.flush();
      clock.advance(2 * 86_400_000);
      assert.equal(await rec.prune(), 0, 'exactly the retention: kept');
      clock.advance(HOUR_MS);
      assert.equal(await rec.prune(), 1);
    });
  });
}

test('labels: printable, bounded, and capped per series and hour', async () => {
  const store = await openStore(':memory:');
  const rec = new StatsRecorder(await StatsStore.open(store), { clock: new ManualClock(T0), maxLabels: 3 });
  const bus = new InProcessBus();
  subscribeStats(bus, rec);
  for (const rule of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n']) bus.publish('limit.flood', { rule, account: 'x', subscriber: null, clientIp: '192.0.2.1', suspend: false, source: 'submission' });
  bus.publish('limit.hit', { rule: 'evil\u202e<b>\r\n' + 'x'.repeat(300), scope: 'ip', outcome: 'limited', account: null, subscriber: null, clientIp: '192.0.2.1', retryAfterMs: 0, degraded: false });
  const floods = await totals(rec, 'limit-floods');
  assert.equal(Object.values(floods).reduce((a, b) => a + b, 0), 14, 'nothing is lost');
  assert.deepEqual(floods, { a: 1, b: 1, c: 1, other: 11 }, 'three labels, the rest folded into other');
  const [label] = Object.keys(await totals(rec, 'limit-hits'));
  assert.equal(label.length, 100);
  assert.match(label, /^evil\?<b>\?\?x+$/);
  await store.close();
});

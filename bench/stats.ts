// The statistics recorder's cost on the mail path: events per second through
// the bus into the recorder (a map increment each) on one core, for the events
// of a busy hour (accepted messages, refusals by reason at RCPT, AUTH failures,
// limit hits, edge reports with their counter deltas over 10 000 sources);
// then what one flush of an hour's rows costs on a real SQLite file. Prints
// figures; asserts nothing.
// Run: node bench/stats.ts [events, default 2000000]
import { join } from 'node:path';
import { ManualClock } from '../src/core/index.ts';
import { InProcessBus, type EventMap } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import { StatsRecorder, StatsStore, subscribeStats } from '../src/stats/index.ts';
import { tempDir } from '../test/lib/tools.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 2_000_000), 10_000), 20_000_000);
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;
const tmp = tempDir('pw-bench-stats-');
const store = await openStore(join(tmp.path, 'state.db'));
const clock = new ManualClock(Date.UTC(2026, 11, 2, 10));
const rec = new StatsRecorder(await StatsStore.open(store), { clock });
const bus = new InProcessBus();
subscribeStats(bus, rec);

const TX: EventMap['message.accepted'] = {
  at: 0, session: 's1', listener: 'submission', clientIp: '192.0.2.7', clientPort: 40001, account: 'alice@isp.example', subscriber: 'cust-1',
  mechanism: 'PLAIN', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', sender: 'alice@isp.example', recipients: 1, size: 10,
  messageId: '<m@x>', repairs: [], reply: null, ms: 1, queueId: 'Q1',
};
const RCPT: EventMap['recipient.answered'] = { session: 's1', listener: 'submission', reply: { code: 450, enhanced: '4.7.1', key: 'limited' } };
const AUTH: EventMap['auth.failed'] = { session: 's', listener: 'submission', clientIp: '192.0.2.9', mechanism: 'PLAIN', login: 'x', why: 'failure' };
const HIT: EventMap['limit.hit'] = { rule: 'residential/messages-hour', scope: 'account', outcome: 'limited', account: 'a', subscriber: null, clientIp: '192.0.2.7', retryAfterMs: 1000, degraded: false };
const SOURCES = 10_000;
const src = Array.from({ length: SOURCES }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`);
const totals = new Uint32Array(SOURCES);

function mixed(n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    switch (i & 7) {
      case 0: case 1: case 2: bus.publish('message.accepted', TX); break;
      case 3: bus.publish('recipient.answered', RCPT); break;
      case 4: bus.publish('auth.failed', AUTH); break;
      case 5: bus.publish('limit.hit', HIT); break;
      default: {
        const k = (i * 7919) % SOURCES;
        totals[k] += 3;
        bus.publish('edge.blocked', { edge: 'edge-1', source: src[k], packets: totals[k], destinations: 1 });
      }
    }
  }
  return performance.now() - t0;
}

mixed(Math.min(N, 200_000)); // warm up
await rec.flush();
const ms = mixed(N);
console.log(`stats recorder: ${N.toLocaleString('en')} mixed events in ${ms.toFixed(0)} ms: ${rate(N, ms)} on one core (${(ms * 1e6 / N).toFixed(0)} ns per event, the bus included)`);

const bare = new InProcessBus();
let seen = 0;
for (const n of ['message.accepted', 'recipient.answered', 'auth.failed', 'limit.hit', 'edge.blocked'] as const) bare.subscribe(n, () => { seen++; });
const only = (() => { const t0 = performance.now(); for (let i = 0; i < N; i++) bare.publish('message.accepted', TX); return performance.now() - t0; })();
const accepted = (() => { const t0 = performance.now(); for (let i = 0; i < N; i++) bus.publish('message.accepted', TX); return performance.now() - t0; })();
const counted = (() => { const t0 = performance.now(); for (let i = 0; i < N; i++) rec.count('messages', 'accepted'); return performance.now() - t0; })();
console.log(`  message.accepted alone into the recorder ${rate(N, accepted)} (${(accepted * 1e6 / N).toFixed(0)} ns); for comparison: publish to a subscriber that only counts ${rate(N, only)}; recorder.count() alone ${rate(N, counted)} (${(counted * 1e6 / N).toFixed(0)} ns)`);

// An hour of a large node: every series with its labels, 200 rows, written in one transaction.
for (let i = 0; i < 200; i++) rec.count('limit-hits', `rule-${i}`, i + 1);
let t0 = performance.now();
await rec.flush();
console.log(`flush of ~200 rows to SQLite (WAL, one transaction of upserts that add): ${(performance.now() - t0).toFixed(1)} ms`);
t0 = performance.now();
const p = await rec.points({ series: ['messages', 'refusals', 'limit-hits', 'edge-blocked'], since: clock.now() - 30 * 86_400_000, until: clock.now() + 1, step: 'hour' });
console.log(`points of 4 series over 30 days by hour (${p.times.length} buckets): ${(performance.now() - t0).toFixed(1)} ms; seen ${seen.toLocaleString('en')}`);
await store.close();
tmp.remove();

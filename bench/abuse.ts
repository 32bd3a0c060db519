// The abuse engine end to end on one core: signals ingested → joined to a
// subscriber (a map-backed directory: this measures the engine, not the
// directory) → coalesced evidence in SQLite → score → windows → rules →
// decisions (recorded, enforced by a recording enforcer, notices recorded).
// 10 000 subscribers; a realistic mix: 60 % are the edges' per-second reports
// of 60 bots (5 blocked attempts, 2 new destinations), 40 % background noise
// skewed over the subscribers (AUTH typos, blocked attempts of misconfigured
// clients, limit hits, the odd complaint or DNSBL listing), an eighth of it
// about addresses nobody holds. Time advances 500 signals per simulated second.
// Prints figures; asserts nothing.
// Run: node bench/abuse.ts [signals, default 1000000] [map|directory]
//   map: the directory is a map in memory (the engine alone); directory: the real
//   subscriber directory (src/directory, its in-memory index) on the same SQLite file.
import { join } from 'node:path';
import { ManualClock, silentLogger } from '../src/core/index.ts';
import { InProcessBus } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import { ABUSE_MIGRATIONS, DEFAULT_RULES, DEFAULT_WEIGHTS, openAbuseEngine, type Signal, type SignalClass } from '../src/abuse/index.ts';
import { openDirectory, type Assignment, type Holder, type HolderLookup, type Subscriber } from '../src/directory/index.ts';
import { RecordingEnforcer, RecordingNotices } from '../test/lib/abuse-fakes.ts';
import { tempDir } from '../test/lib/tools.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 1_000_000), 10_000), 20_000_000);
const useDirectory = process.argv[3] === 'directory';
const SUBS = 10_000, BOTS = 60;

const addr = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const holders = new Map<string, Holder[]>();
const subs = new Map<string, Subscriber>();
for (let i = 0; i < SUBS; i++) {
  const id = `cust-${i}`;
  const a: Assignment = { id: i, subscriber: id, prefix: addr(i), portLo: null, portHi: null, start: 0, end: null, source: 'static', session: null };
  holders.set(a.prefix, [{ subscriber: id, assignment: a }]);
  subs.set(id, { id, tier: i % 10 === 0 ? 'business' : 'residential', contacts: [`${id}@home.example`], access: [], createdAt: 0, updatedAt: 0 });
}
let directory: HolderLookup = {
  async holdersAt(address) { return holders.get(address) ?? []; },
  async currentOf(s) { return (holders.get(addr(Number(s.slice(5)))) ?? []).map((h) => h.assignment); },
  async subscriber(id) { return subs.get(id) ?? null; },
};

const d = tempDir('pw-abuse-bench-');
const store = await openStore(join(d.path, 'state.db'));
await store.migrate(ABUSE_MIGRATIONS);
const clock = new ManualClock(Date.UTC(2026, 11, 2, 12));
let closeDirectory = async (): Promise<void> => {};
if (useDirectory) {
  const real = await openDirectory(store, { clock, logger: silentLogger, syncMs: 0 });
  for (const sub of subs.values()) {
    await real.putSubscriber({ id: sub.id, tier: sub.tier, contacts: sub.contacts });
    await real.assign({ subscriber: sub.id, prefix: (holders.get(addr(Number(sub.id.slice(5)))) as Holder[])[0].assignment.prefix, start: 0, source: 'static' });
  }
  directory = real;
  closeDirectory = () => real.close();
}
const enforcer = new RecordingEnforcer();
const notices = new RecordingNotices();
const engine = await openAbuseEngine({
  db: store.db, clock, logger: silentLogger, bus: new InProcessBus(), directory, enforcer, notices,
  rules: DEFAULT_RULES, weights: DEFAULT_WEIGHTS, halfLifeMinutes: 360, closeAfterDays: 14, queueSize: 200_000,
});

// The mix, per 1000 signals: 40 bots × 2 edge classes each second dominate the edge share.
let seed = 42;
const rnd = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4_294_967_296; }; // xorshift32
const background: Array<[SignalClass, number, number]> = [ // class, share, amount
  ['auth-failure', 0.45, 1], ['edge-blocked', 0.3, 1], ['limit-hit', 0.1, 1], ['edge-destinations', 0.1, 1], ['report', 0.01, 1], ['dnsbl', 0.001, 1],
];
function next(i: number, now: number): Signal {
  const r = rnd();
  if (r < 0.6) { // a bot's per-second edge report (5 attempts, 2 new destinations)
    const b = Math.floor(rnd() * BOTS) * 97 % SUBS;
    const edges = i & 1;
    return { class: edges ? 'edge-destinations' : 'edge-blocked', at: now, address: addr(b), port: null, subscriber: null, account: null, amount: edges ? 2 : 5, origin: 'edge:bng1', detail: {} };
  }
  // background: skewed (a few noisy subscribers, most quiet); 1 in 8 about an address nobody holds
  const address = r < 0.65 ? `192.0.2.${Math.floor(rnd() * 250)}` : addr(Math.floor(SUBS * rnd() ** 3));
  let x = rnd(), c: SignalClass = 'auth-failure', amount = 1;
  for (const [k, share, a] of background) { if (x < share) { c = k; amount = a; break; } x -= share; }
  return { class: c, at: now, address, port: 40_000 + (i & 1023), subscriber: null, account: null, amount, origin: c === 'auth-failure' ? 'submission' : 'edge:bng1', detail: c === 'report' ? { feedbackType: 'abuse' } : {} };
}

const CHUNK = 50_000;
const simulatedRate = 500; // signals per simulated second: 60 bots at ~5 edge reports/s, 200 background signals/s over 10 k subscribers
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let sent = 0, refused = 0;
while (sent < N) {
  const k = Math.min(CHUNK, N - sent);
  for (let i = 0; i < k; i++) {
    if (!engine.ingest(next(sent + i, clock.now()))) refused++;
    if ((sent + i) % (simulatedRate / 1000) === 0) clock.advance(1);
  }
  sent += k;
  await engine.flush();
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const s = engine.stats();
const rows = await store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM abuse_evidence');
const cases = await store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM abuse_cases WHERE state = 'open'");
await engine.stop();
await closeDirectory();
await store.close();
d.remove();

const rate = Math.round((s.processed / ms) * 1000);
console.log(`abuse engine, ${SUBS.toLocaleString('en')} subscribers, ${BOTS} bots, store: SQLite file (WAL), directory: ${useDirectory ? 'src/directory on the same store' : 'a map'}`);
console.log(`  signals processed      ${s.processed.toLocaleString('en')} in ${(ms / 1000).toFixed(2)} s (simulated ${((N / simulatedRate)).toFixed(0)} s of traffic)`);
console.log(`  throughput             ${rate.toLocaleString('en')} signals/s end to end (goal ≥ 50,000/s)`);
console.log(`  CPU per signal         ${((cpu.user + cpu.system) / s.processed).toFixed(2)} µs (user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s)`);
console.log(`  refused by the queue   ${refused.toLocaleString('en')}`);
console.log(`  unattributed           ${s.unattributed['no-holder'].toLocaleString('en')} (no holder)`);
console.log(`  evidence rows          ${rows?.n.toLocaleString('en')} (coalesced per class, origin, address and minute)`);
console.log(`  open cases             ${cases?.n.toLocaleString('en')}`);
console.log(`  decisions              ${Object.entries(s.decisions).map(([k, v]) => `${k} ${v}`).join(', ')}; immune ${s.immune}`);
console.log(`  quarantines enforced   ${enforcer.calls.filter((c) => c.op === 'quarantine').length}; notices ${notices.sent.length}`);

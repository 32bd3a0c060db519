// The abuse wiring's own costs: bus events turned into signals per second by
// the adapter (edge reports with their per-source deltas over 100 000 sources,
// and AUTH failures), into a sink that only counts; and the enforcer's suspend
// and unsuspend of one account with a few queued messages on a real SQLite
// store and spool (what one credential-abuse decision costs the node). Prints
// figures; asserts nothing. The engine's own figures are bench/abuse.ts.
// Run: node bench/abuse-wiring.ts [events, default 1000000]
import { join } from 'node:path';
import { MemoryLogger, systemClock } from '../src/core/index.ts';
import { InProcessBus } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import { AccountStore } from '../src/auth/index.ts';
import { PolicyStore } from '../src/netpolicy/index.ts';
import { Spool } from '../src/spool/index.ts';
import { subscribeSignals } from '../src/cli/abuse-signals.ts';
import { createEnforcer } from '../src/cli/abuse-enforcer.ts';
import { tempDir } from '../test/lib/tools.ts';

const N = Math.min(Math.max(Number(process.argv[2] ?? 1_000_000), 10_000), 10_000_000);
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

const bus = new InProcessBus();
let signals = 0;
subscribeSignals({ bus, sink: { ingest: () => { signals++; return true; } } });
const SOURCES = 100_000;
const src = Array.from({ length: SOURCES }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const totals = new Uint32Array(SOURCES);
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  const k = (i * 7919) % SOURCES;
  totals[k] += 1 + (i & 3);
  bus.publish('edge.blocked', { edge: 'edge-1', source: src[k], packets: totals[k], destinations: totals[k] >> 2 });
}
const edgeMs = performance.now() - t0;
const edgeSignals = signals;
signals = 0;
t0 = performance.now();
for (let i = 0; i < N; i++) {
  bus.publish('auth.failed', { session: 's', listener: 'submission', clientIp: src[i % SOURCES], mechanism: 'PLAIN', login: `user${i % 1000}@isp.example`, why: 'failure' });
}
const authMs = performance.now() - t0;

const dir = tempDir('pw-bench-enforcer-');
const store = await openStore(join(dir.path, 'state.db'));
const accounts = await AccountStore.open(store);
const policy = await PolicyStore.open(store, systemClock);
const logger = new MemoryLogger();
const spool = await Spool.open(join(dir.path, 'spool'), { logger });
const enforcer = createEnforcer({ policy, accounts, spool, clock: systemClock, logger });
const ROUNDS = 50;
for (let i = 0; i < ROUNDS; i++) await accounts.add({ login: `z${i}@isp.example`, password: 'bench-password', subscriber: `s${i}` });
for (let i = 0; i < ROUNDS; i++) {
  for (let m = 0; m < 5; m++) {
    const w = spool.create({ mailFrom: { address: `z${i}@isp.example` }, recipients: [{ address: 'x@example.net' }], account: `z${i}@isp.example` });
    w.stream.end('Subject: x\r\n\r\nbody\r\n');
    await w.commit();
  }
}
t0 = performance.now();
let held = 0;
for (let i = 0; i < ROUNDS; i++) held += (await enforcer.suspend(`s${i}`, null, 'bench')).held.length;
const suspendMs = performance.now() - t0;
t0 = performance.now();
for (let i = 0; i < ROUNDS; i++) await enforcer.unsuspend([`z${i}@isp.example`], 'bench');
const unsuspendMs = performance.now() - t0;
await spool.close();
await store.close();
dir.remove();

console.log(`edge.blocked → signals: ${N.toLocaleString('en')} events over ${SOURCES.toLocaleString('en')} sources in ${edgeMs.toFixed(0)} ms = ${rate(N, edgeMs)} (${edgeSignals.toLocaleString('en')} signals)`);
console.log(`auth.failed → signals: ${N.toLocaleString('en')} events in ${authMs.toFixed(0)} ms = ${rate(N, authMs)}`);
console.log(`suspend (1 account, 5 queued messages held, ${ROUNDS} subscribers of ${ROUNDS * 5} queued): ${(suspendMs / ROUNDS).toFixed(1)} ms each (${held} held)`);
console.log(`unsuspend (1 account, held mail left held, counted): ${(unsuspendMs / ROUNDS).toFixed(1)} ms each`);

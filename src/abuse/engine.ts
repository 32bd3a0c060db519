// openAbuseEngine: the signal sink, the case service and their lifecycle.
// Signals wait in a bounded queue (ingest is synchronous and O(1)); one lane
// runs everything that changes cases, in order: batches of signals, the case
// service's changes, the sweep, and the bus's edge.applied/directory.assigned.
// At start, decisions recorded but not enforced are enforced, and the edges'
// acknowledgements are tracked again; windows come back from the evidence as
// each subscriber's next signal loads its state.
import { SIGNAL_CLASSES, type AbuseEngine, type AbuseEngineOptions, type Signal, type SignalClass } from './types.ts';
import { EdgeTracker, newStats, type AbuseStats, type Ctx } from './engine/context.ts';
import { published } from './engine/decide.ts';
import { applied, enforce, follow, leave, noticeFor } from './engine/enforce.ts';
import { Pipeline } from './engine/pipeline.ts';
import { SignalQueue } from './engine/queue.ts';
import { RuleBook } from './engine/scoring.ts';
import { Cases } from './engine/service.ts';
import { CaseStore } from './engine/store.ts';
import { sweep } from './engine/sweeps.ts';

export { ABUSE_MIGRATIONS } from './engine/schema.ts';
export { CaseError, type CaseErrorCode, type AbuseStats, type UnattributedReason } from './engine/context.ts';
export { durationOf } from './engine/decide.ts';

const BATCH = 16_384;
const SWEEP_MS = 30_000;
const CLASSES = new Set<string>(SIGNAL_CLASSES);

/** What openAbuseEngine returns: the contract's engine, and its counters and unattributed signals for the operator. */
export interface RunningAbuseEngine extends AbuseEngine {
  stats(): AbuseStats;
  unattributed(limit?: number): Promise<Array<{ reason: string; class: SignalClass; address: string | null; port: number | null; origin: string; amount: number; count: number; firstAt: number; lastAt: number }>>;
}

function valid(s: Signal): boolean {
  return s !== null && typeof s === 'object' && CLASSES.has(s.class) && Number.isFinite(s.at) && Number.isFinite(s.amount) && s.amount >= 0
    && typeof s.origin === 'string' && (s.address === null || typeof s.address === 'string') && (s.subscriber === null || typeof s.subscriber === 'string');
}

export async function openAbuseEngine(o: AbuseEngineOptions): Promise<RunningAbuseEngine> {
  const store = new CaseStore(o.db);
  await store.probe();
  const ctx: Ctx = { o, store, book: new RuleBook(o.rules, o.weights), subs: new Map(), edges: new EdgeTracker(), stats: newStats() };
  const queue = new SignalQueue(o.queueSize);
  const pipeline = new Pipeline(ctx, await store.maxIds());

  let tail: Promise<unknown> = Promise.resolve();
  const lane = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => {});
    return next;
  };
  const logged = (what: string) => (err: unknown): void => { o.logger.error({ event: 'abuse', err: String(err) }, `abuse engine: ${what} failed`); };

  const batch = async (): Promise<void> => {
    const decisions = await pipeline.run(queue.take(BATCH));
    for (const nd of decisions) published(ctx, nd);
    for (const nd of decisions) {
      try {
        if (await enforce(ctx, nd.d)) await noticeFor(ctx, nd.d);
      } catch (err) { // the decision is recorded: the sweep takes it up again
        o.logger.error({ event: 'abuse', decision: `d${nd.d.id}`, err: String(err) }, 'abuse engine: acting on a decision failed; the sweep retries it');
      }
    }
  };
  const drainOnce = async (): Promise<void> => { while (queue.length) await batch(); };
  // One batch per lane turn: under a steady stream of signals the case service's changes still get their turn.
  let scheduled = false;
  const drain = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      lane(async () => { try { if (queue.length) await batch(); } finally { scheduled = false; if (queue.length) drain(); } }).catch(logged('processing signals'));
    });
  };

  // Start: decisions recorded but not enforced, and the edge tracker.
  const seen = new Map<number, string[]>();
  for (const e of await store.enforcedEdges()) seen.set(e.decision, [...(seen.get(e.decision) ?? []), e.edge]);
  for (const d of await store.activeWithRevision()) ctx.edges.track(d, seen.get(d.id));
  await lane(() => sweep(ctx, true));

  const unsubs = [
    o.bus.subscribe('edge.applied', (e) => {
      if (ctx.edges.due(e.edge, e.revision).length) lane(() => applied(ctx, e.edge, e.revision)).catch(logged('recording an edge acknowledgement'));
    }),
    o.bus.subscribe('directory.assigned', (e) => {
      lane(() => follow(ctx, e.subscriber, e.prefix, e.portLo)).catch(logged('following a lease change'));
    }),
    o.bus.subscribe('directory.ended', (e) => {
      lane(() => leave(ctx, e.subscriber, e.prefix)).catch(logged('following a lease end'));
    }),
  ];
  const timer = setInterval(() => { lane(() => sweep(ctx)).catch(logged('the sweep')); }, SWEEP_MS);
  timer.unref();
  let stopped = false;

  return {
    cases: new Cases(ctx, lane),
    ingest(s: Signal): boolean {
      if (stopped) return queue.refuse();
      if (!valid(s)) { ctx.stats.invalid++; return false; }
      if (!queue.push(s)) { ctx.stats.dropped = queue.dropped; return false; }
      ctx.stats.ingested++;
      drain();
      return true;
    },
    dropped: () => queue.dropped,
    stats: () => ({ ...ctx.stats, dropped: queue.dropped, unattributed: { ...ctx.stats.unattributed }, decisions: { ...ctx.stats.decisions } }),
    unattributed: async (limit = 100) => store.listUnattributed(Math.min(Math.max(1, limit), 1000)),
    flush: () => lane(async () => { await drainOnce(); await sweep(ctx); }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const u of unsubs) u();
      await lane(drainOnce);
    },
  };
}

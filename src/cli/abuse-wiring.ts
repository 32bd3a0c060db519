// The abuse engine as a service of the node (when abuse.enabled): opened on the
// node's state store with the rules and weights of the config, the directory
// (app.directory; a lookup that knows no holder when the directory does not run
// here), the Enforcer over the real policy store, accounts and spool, and the
// notice sender (notices go through our own spool and relay). It sets
// app.cases, so the operations (CLI through the control socket, the admin API)
// and the notice page reach the cases, and starts the bus → signals adapter.
// Stopped in reverse: the adapter first, then app.cases, then the engine (which
// processes what is queued).
//
// With the engine running, the issue-11 flood subscriber (limits.ts
// suspendOnFlood) does not also act on limit.flood: the engine's
// credential-abuse rule suspends, with a case, a notice and an undo.
import { systemClock, type Clock, type Logger } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import type { AccountStore } from '../auth/index.ts';
import type { Spool } from '../spool/index.ts';
import type { AppDeps } from '../app/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { HolderLookup } from '../directory/index.ts';
import { ABUSE_MIGRATIONS, openAbuseEngine, parseRules, parseWeights, type AbuseEngine, type AbuseEngineOptions, type CaseService, type SignalSink } from '../abuse/index.ts';
import { createEnforcer } from './abuse-enforcer.ts';
import { subscribeSignals } from './abuse-signals.ts';
import { createNoticeSender } from './notice-wiring.ts';
import type { Service } from './services.ts';

export type OpenEngine = (o: AbuseEngineOptions) => Promise<AbuseEngine>;

export interface AbuseWiring {
  cfg: Config;
  logger: Logger;
  bus: EventBus;
  store: Store;
  /** The node's operations' dependencies: policy, audit and directory are read from it, cases set on it. */
  app: AppDeps;
  accounts: AccountStore;
  spool: Spool;
  metrics: Metrics;
  clock?: Clock;
  /** The engine (openAbuseEngine); tests may pass another. */
  open?: OpenEngine;
}

/** Whether the issue-11 flood subscriber runs: not when the engine handles floods. */
export const floodSubscriberRuns = (cfg: Config): boolean => !cfg.abuse.enabled;

/** No directory on this node: nobody held any address (signals that name their subscriber still count). */
export const NO_HOLDERS: HolderLookup = { holdersAt: async () => [], currentOf: async () => [], subscriber: async () => null };

/** The engine's sink as the producers use it: every signal counted, ingested or dropped. */
export function countingSink(sink: SignalSink, metrics: Metrics): SignalSink {
  return { ingest: (s) => { const ok = sink.ingest(s); metrics.abuseSignal(s.class, ok); return ok; } };
}

/** Open cases, counted page by page (the gauge reads it at each scrape). */
export async function countOpen(cases: CaseService, maxPages = 1000): Promise<number> {
  let n = 0;
  for (let after: string | undefined, i = 0; i < maxPages; i++) {
    const page = await cases.list({ state: 'open', after, limit: 1000 });
    n += page.length;
    if (page.length < 1000) break;
    after = page[page.length - 1].id;
  }
  return n;
}

export interface RunningAbuse { engine: AbuseEngine; sink: SignalSink; stop(): Promise<void> }

/** Opens the engine and wires it; resolves once signals flow. */
export async function startAbuse(w: AbuseWiring): Promise<RunningAbuse> {
  const { cfg, logger, bus, app } = w;
  const clock = w.clock ?? systemClock;
  const a = cfg.abuse;
  const policy = app.policy;
  if (!policy) throw new Error('the abuse engine needs the network policy store');
  const directory = app.directory ?? NO_HOLDERS;
  if (!app.directory) logger.warn({ event: 'abuse' }, 'the subscriber directory does not run here: signals are joined only to subscribers their accounts name; no address has a holder');
  const enforcer = createEnforcer({ policy, accounts: w.accounts, spool: w.spool, audit: app.audit, clock, logger: logger.child({ part: 'abuse' }) });
  await w.store.migrate(ABUSE_MIGRATIONS);
  const engine = await (w.open ?? openAbuseEngine)({
    db: w.store.db, clock, logger: logger.child({ part: 'abuse' }), bus, directory, enforcer,
    notices: createNoticeSender({ cfg, spool: w.spool, bus, logger, clock }),
    rules: parseRules(a.rules), weights: parseWeights(a.classes),
    halfLifeMinutes: a.halfLifeMinutes, closeAfterDays: a.closeAfterDays, queueSize: a.queueSize,
  });
  const sink = countingSink(engine, w.metrics);
  const maxEdgeSources = 200_000;
  let off: () => void = () => {};
  try {
    off = subscribeSignals({ bus, sink, clock, maxEdgeSources, baseline: await policy.blocked(maxEdgeSources) });
  } catch (err) {
    await engine.stop();
    throw err;
  }
  app.cases = engine.cases;
  w.metrics.setCasesOpen(() => countOpen(engine.cases));
  logger.info({ event: 'abuse', rules: parseRules(a.rules).map((r) => `${r.name}:${r.action}`), directory: app.directory ? 'yes' : 'no' }, 'abuse engine running');
  return {
    engine, sink,
    async stop() {
      off();
      w.metrics.setCasesOpen(undefined);
      if (app.cases === engine.cases) app.cases = undefined;
      await engine.stop();
    },
  };
}

/**
 * The node's service: nothing when abuse.enabled is false. `sink()` is the counted sink of the
 * running engine, for the producers that ingest directly (the abuse mailbox, the DNSBL checker).
 */
export function abuseService(get: () => AbuseWiring): Service & { sink(): SignalSink | undefined } {
  let running: RunningAbuse | undefined;
  return {
    name: 'abuse',
    sink: () => running?.sink,
    start: async () => {
      const w = get();
      if (!w.cfg.abuse.enabled) return;
      running = await startAbuse(w);
    },
    stop: async () => { await running?.stop(); running = undefined; },
  };
}

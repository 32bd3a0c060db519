// A harness for the abuse engine's tests and bench: a real store (SQLite in a
// temp dir, or a PostgreSQL URL), a manual clock, an in-process bus whose
// events are recorded, the fake directory, recording enforcer and notices.
import { join } from 'node:path';
import { ManualClock, MemoryLogger } from '../../src/core/index.ts';
import { InProcessBus, type EventMap, type EventName } from '../../src/events/index.ts';
import { openStore, type Store, type StoreConfig } from '../../src/store/index.ts';
import { ABUSE_MIGRATIONS, DEFAULT_RULES, DEFAULT_WEIGHTS, openAbuseEngine, type AbuseEngineOptions, type Rule, type RunningAbuseEngine, type Signal } from '../../src/abuse/index.ts';
import { FakeDirectory, RecordingEnforcer, RecordingNotices } from './abuse-fakes.ts';
import { tempDir } from './tools.ts';

export const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

export interface Rig {
  store: Store;
  clock: ManualClock;
  bus: InProcessBus;
  events: Array<{ name: EventName; e: EventMap[EventName] }>;
  dir: FakeDirectory;
  enforcer: RecordingEnforcer;
  notices: RecordingNotices;
  logger: MemoryLogger;
  engine: RunningAbuseEngine;
  opts: AbuseEngineOptions;
  /** Stops the engine and opens a new one on the same store (a restart); the enforcer may be replaced. */
  restart(over?: Partial<AbuseEngineOptions>): Promise<RunningAbuseEngine>;
  of<K extends EventName>(name: K): Array<EventMap[K]>;
  close(): Promise<void>;
}

export async function rig(o: { cfg?: StoreConfig; rules?: Rule[]; queueSize?: number; notices?: boolean; halfLifeMinutes?: number; closeAfterDays?: number } = {}): Promise<Rig> {
  let cleanup = (): void => {};
  let cfg = o.cfg;
  if (!cfg) {
    const d = tempDir('pw-abuse-');
    cleanup = () => d.remove();
    cfg = { kind: 'sqlite', path: join(d.path, 'state.db') };
  }
  const store = await openStore(cfg);
  await store.migrate(ABUSE_MIGRATIONS);
  const clock = new ManualClock(T0);
  const logger = new MemoryLogger();
  const bus = new InProcessBus({ logger });
  const events: Rig['events'] = [];
  bus.subscribeAll((e, name) => events.push({ name, e }));
  const dir = new FakeDirectory();
  const enforcer = new RecordingEnforcer();
  const notices = new RecordingNotices();
  const opts: AbuseEngineOptions = {
    db: store.db, clock, logger, bus, directory: dir, enforcer, notices: o.notices === false ? undefined : notices,
    rules: o.rules ?? DEFAULT_RULES, weights: DEFAULT_WEIGHTS, halfLifeMinutes: o.halfLifeMinutes ?? 360,
    closeAfterDays: o.closeAfterDays ?? 14, queueSize: o.queueSize ?? 200_000,
  };
  const r: Rig = {
    store, clock, bus, events, dir, enforcer, notices, logger, opts,
    engine: await openAbuseEngine(opts),
    async restart(over = {}) {
      await r.engine.stop();
      Object.assign(r.opts, over);
      r.engine = await openAbuseEngine(r.opts);
      return r.engine;
    },
    of: <K extends EventName>(name: K) => events.filter((x) => x.name === name).map((x) => x.e as EventMap[K]),
    async close() { await r.engine.stop(); await store.close(); cleanup(); },
  };
  return r;
}

export function signal(s: Partial<Signal> & Pick<Signal, 'class'>): Signal {
  return { at: 0, address: null, port: null, subscriber: null, account: null, amount: 1, origin: 'edge:bng1', detail: {}, ...s };
}

/**
 * A bot at 5 blocked port-25 connections a second to new destinations (the edge reports every second:
 * 5 attempts, 2 new destinations) for `seconds`, flushing each second; the clock advances with it.
 * Returns the simulated ms from its first attempt to the first quarantine decision, or null.
 */
export async function runBot(r: Rig, address: string, seconds: number, o: { destinations?: number } = {}): Promise<number | null> {
  const start = r.clock.now();
  const before = r.of('case.decision').length;
  let at: number | null = null;
  for (let i = 0; i < seconds; i++) {
    r.engine.ingest(signal({ class: 'edge-blocked', at: r.clock.now(), address, amount: 5 }));
    if ((o.destinations ?? 2) > 0) r.engine.ingest(signal({ class: 'edge-destinations', at: r.clock.now(), address, amount: o.destinations ?? 2 }));
    await r.engine.flush();
    if (at === null && r.of('case.decision').slice(before).some((d) => d.action === 'quarantine')) at = r.clock.now() - start;
    r.clock.advance(1000);
  }
  return at;
}

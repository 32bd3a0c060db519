// The hourly statistics wired: the node's `stats` service opens the table on the
// state store, subscribes the recorder to the bus (edge counters from the policy
// store's last report as the baseline), samples the queue's size, and writes
// the counts every stats.flushMs; at stop (after the listeners closed) it
// writes what is left. The operations read through the recorder, so a reader
// sees every count up to its request.
import type { Logger } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import type { Spool } from '../spool/index.ts';
import type { PolicyStore } from '../netpolicy/index.ts';
import { StatsRecorder, StatsStore, subscribeStats } from '../stats/index.ts';
import type { Service } from './services.ts';

export interface StatsWiring {
  cfg: Config;
  logger: Logger;
  bus: EventBus;
  store: Store;
  spool: Pick<Spool, 'stats'>;
  policy: Pick<PolicyStore, 'blocked'>;
}

/** The queue's counts per state as one gauge sample each. */
export function sampleQueue(rec: Pick<StatsRecorder, 'gauge'>, spool: Pick<Spool, 'stats'>): void {
  const st = spool.stats();
  rec.gauge('queue', 'active', st.active);
  rec.gauge('queue', 'deferred', st.deferred);
  rec.gauge('queue', 'hold', st.hold);
}

const EDGE_BASELINE = 100_000;

/** The service; `ready` hands the recorder to the operations. */
export function statsService(get: () => StatsWiring, ready: (r: StatsRecorder) => void): Service {
  let rec: StatsRecorder | undefined;
  let off: (() => void) | undefined;
  return {
    name: 'stats',
    async start() {
      const { cfg, logger, bus, store, spool, policy } = get();
      const s = cfg.stats;
      rec = new StatsRecorder(await StatsStore.open(store), { logger, flushMs: s.flushMs, retentionDays: s.retentionDays });
      off = subscribeStats(bus, rec, { maxEdgeSources: 2 * EDGE_BASELINE, baseline: await policy.blocked(EDGE_BASELINE) });
      const r = rec;
      rec.start([{ everyMs: s.queueSampleMs, sample: () => sampleQueue(r, spool) }]);
      ready(rec);
    },
    async stop() {
      off?.();
      await rec?.stop().catch((err: unknown) => get().logger.error({ event: 'stats', err: String(err) }, 'stats write at stop failed'));
    },
  };
}

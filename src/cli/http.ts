// `start`'s HTTP listeners, all from src/http's one factory: metrics (plain
// HTTP: /metrics, /healthz, /readyz), the edge agents' endpoint (HTTPS:
// /v1/netpolicy/*, health) and the admin API (HTTPS unless api.tls: false:
// /api/v1/*, health). SIGHUP's certificate reload reaches the HTTPS ones.
import { constants } from 'node:fs';
import { access, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { EventBus } from '../events/index.ts';
import type { AppDeps } from '../app/index.ts';
import type { Metrics } from '../metrics/index.ts';
import type { EdgeToken } from '../netpolicy/index.ts';
import type { HttpListener, ReadinessCheck } from '../http/index.ts';
import type { TlsStore } from './tls.ts';

export interface HttpWiring {
  cfg: Config;
  logger: Logger;
  tls: TlsStore;
  metrics: Metrics;
  store: Store;
  spoolDir: string;
  edgeTokens?: readonly EdgeToken[];
  /** The event bus: edge reports publish edge.blocked on it. */
  bus: EventBus;
  /** The operations' dependencies (the admin API mounts every operation over them). */
  app: AppDeps;
  /** True while the relay runs. */
  relayRunning: () => boolean;
  /** Turns a failed bind into start's one-line error. */
  bindError: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

export interface HttpLayer {
  /** Every listener of the process is bound: /readyz may say ready. */
  bound(): void;
  /** The TlsStore was reloaded: new connections get the new certificate. */
  reload(): void;
  close(): Promise<void>;
}

export async function startHttp(w: HttpWiring): Promise<HttpLayer> {
  const { cfg, logger, tls } = w;
  const listeners: HttpListener[] = [];
  let bound = false;
  const layer: HttpLayer = {
    bound: () => { bound = true; },
    reload: () => { for (const l of listeners) l.setSecureContext(tls.options()); },
    close: async () => { bound = false; await Promise.all(listeners.map((l) => l.close())); },
  };
  // Fastify and the API load only when some listener is configured.
  if (!cfg.metrics.listen && !(cfg.netpolicy.listen && w.edgeTokens) && !cfg.api.listen) return layer;
  const { apiRoutes, createHttpListener, edgeRoutes, healthRoutes, metricsRoutes } = await import('../http/index.ts');
  const checks: Record<string, ReadinessCheck> = {
    listeners: () => bound,
    store: () => w.store.db.get('SELECT 1 AS one'),
    spool: async () => {
      const probe = join(w.spoolDir, 'incoming', `.ready-${process.pid}`);
      await access(join(w.spoolDir, 'incoming'), constants.W_OK);
      await writeFile(probe, '');
      await unlink(probe);
    },
    relay: () => w.relayRunning(),
  };
  const up = async (l: HttpListener, listen: string, extra: Record<string, unknown> = {}): Promise<void> => {
    healthRoutes(l.app, checks);
    const { host, port } = splitHostPort(listen);
    const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError(l.name, host, port, err); });
    listeners.push(l);
    logger.info({ event: 'listening', listener: l.name, host, port: bound, ...extra });
  };
  if (cfg.metrics.listen) {
    const l = createHttpListener({ name: 'metrics', logger, maxConnections: 16 });
    metricsRoutes(l.app, w.metrics, logger);
    await up(l, cfg.metrics.listen);
  }
  if (cfg.netpolicy.listen && w.edgeTokens) {
    const { createEdgeEndpoint } = await import('../netpolicy/index.ts');
    const np = cfg.netpolicy;
    const l = createHttpListener({ name: 'netpolicy', logger, tls: tls.options(), maxConnections: np.maxConnections });
    edgeRoutes(l.app, createEdgeEndpoint({
      store: w.store, clock: systemClock, logger, tokens: w.edgeTokens, bus: w.bus,
      maxReportBytes: np.maxReportBytes, maxReportEntries: np.maxReportEntries, reportRetentionMs: np.reportRetentionDays * 86_400_000,
      // Held pulls take at most three quarters of the connections: reports and plain pulls keep the rest.
      maxWaiters: Math.max(1, np.maxConnections - Math.ceil(np.maxConnections / 4)),
    }), { logger });
    await up(l, np.listen!, { tls: true, spkiPin: tls.info.spkiPin });
  }
  if (cfg.api.listen) {
    const { AUDIT_MIGRATIONS, TOKEN_MIGRATIONS, TokenRepository, loadOperations, need } = await import('../app/index.ts');
    await w.store.migrate([...AUDIT_MIGRATIONS, ...TOKEN_MIGRATIONS]);
    const tokens = new TokenRepository(w.store.db);
    const l = createHttpListener({ name: 'api', logger, tls: cfg.api.tls ? tls.options() : undefined, maxConnections: cfg.api.maxConnections, bodyLimit: cfg.api.bodyLimit });
    // Every operation the CLI has, with the process's one set of dependencies (the control socket's too).
    await apiRoutes(l.app, { operations: await loadOperations(), deps: Object.assign(w.app, { tokens }), audit: need(w.app, 'audit'), tokens });
    await up(l, cfg.api.listen, cfg.api.tls ? { tls: true, spkiPin: tls.info.spkiPin } : { tls: false });
  }
  return layer;
}

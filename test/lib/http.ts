// Starts the real HTTP layer (src/http) on loopback for tests of the parts it
// serves: /metrics for a Metrics object, the edge endpoint for a policy store.
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { silentLogger, type Logger } from '../../src/core/index.ts';
import { createHttpListener, edgeRoutes, metricsRoutes, type HttpListener } from '../../src/http/index.ts';
import type { Metrics } from '../../src/metrics/index.ts';
import { createEdgeEndpoint, type EdgeEndpoint, type PolicyHttpOptions } from '../../src/netpolicy/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { tempDir } from './tools.ts';

export interface Served { listener: HttpListener; port: number; url: string; close(): Promise<void>; edge?: EdgeEndpoint }

async function bind(listener: HttpListener): Promise<Served> {
  const port = await listener.listen('127.0.0.1', 0);
  return { listener, port, url: `${listener.tls ? 'https' : 'http'}://127.0.0.1:${port}`, close: () => listener.close() };
}

/** /metrics over plain HTTP; the URL is http://127.0.0.1:PORT. */
export async function serveMetrics(metrics: Pick<Metrics, 'registry'>, logger: Logger = silentLogger): Promise<Served> {
  const listener = createHttpListener({ name: 'metrics', logger, maxConnections: 16 });
  metricsRoutes(listener.app, metrics, logger);
  return bind(listener);
}

/**
 * The edge endpoint (HTTPS when tls is given); the URL is the origin, the endpoint lives under /v1/netpolicy.
 * `before` may add hooks to the app before it binds (a test standing in for a tampering proxy).
 */
export async function serveEdge(opts: PolicyHttpOptions & { tls?: SecureContextOptions; maxConnections?: number },
  before?: (l: HttpListener) => void): Promise<Served> {
  const listener = createHttpListener({ name: 'netpolicy', logger: opts.logger, tls: opts.tls, maxConnections: opts.maxConnections });
  const edge = createEdgeEndpoint(opts);
  edgeRoutes(listener.app, edge, { logger: opts.logger });
  before?.(listener);
  return { ...(await bind(listener)), edge };
}

/** A real SQLite store in a temp dir for tests of parts that may not open one themselves (src/http). */
export async function tempStore(): Promise<{ store: Store; db: Store['db']; close(): Promise<void> }> {
  const dir = tempDir('pw-http-store-');
  const store = await openStore(join(dir.path, 'state.db'));
  return { store, db: store.db, close: async () => { await store.close(); dir.remove(); } };
}

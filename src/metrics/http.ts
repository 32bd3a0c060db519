// GET /metrics for a Prometheus scraper; everything else is 404. The handler
// never throws into node:http: a failed collection answers 500 and is logged.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Logger, silentLogger } from '../core/index.ts';
import type { Metrics } from './metrics.ts';

export function metricsHandler(metrics: Metrics, opts: { path?: string; logger?: Logger } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const path = opts.path ?? '/metrics';
  const logger = opts.logger ?? silentLogger;
  // Answer first, then log; neither may throw out of here (a rejection nobody handles ends the process).
  const failed = (res: ServerResponse, err: unknown): void => {
    try {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics collection failed\n');
    } catch { res.destroy(); }
    try { logger.error({ event: 'metrics', err: String(err) }, 'metrics collection failed'); } catch { /* the log is gone; the answer is sent */ }
  };
  return (req, res) => {
    // Nothing may throw into node:http: that would end the process, and SMTP with it.
    // One chain, one catch: a throw anywhere (routing, collection, writing) answers 500 once.
    Promise.resolve()
      .then(async () => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        if ((q < 0 ? url : url.slice(0, q)) !== path) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
          return;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
          return;
        }
        const body = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      })
      .catch((err: unknown) => failed(res, err));
  };
}

/** The /metrics server: few connections and short timeouts, since only a scraper should call. */
export function createMetricsServer(metrics: Metrics, opts: { logger?: Logger; maxConnections?: number } = {}): Server {
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 }, metricsHandler(metrics, opts));
  server.maxConnections = opts.maxConnections ?? 16;
  return server;
}

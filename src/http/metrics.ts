// GET (and HEAD) /metrics for a Prometheus scraper. A failed collection answers
// 500 and is logged; neither the collection nor the log may throw past here.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { AppError } from '../app/index.ts';
import { methodNotAllowed } from './listener.ts';

export function metricsRoutes(app: FastifyInstance, metrics: Pick<Metrics, 'registry'>, logger: Logger, path = '/metrics'): void {
  app.get(path, { schema: { hide: true } as never }, async (_req, reply) => {
    let body: string;
    try {
      body = await metrics.registry.metrics();
    } catch (err) {
      try { logger.error({ event: 'metrics', err: String(err) }, 'metrics collection failed'); } catch { /* the log is gone; the answer is sent */ }
      throw new AppError('internal', 'metrics collection failed');
    }
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return body;
  });
  methodNotAllowed(app, path, ['GET', 'HEAD']);
}

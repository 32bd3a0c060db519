// The edge agents' endpoints (netpolicy's framework-free logic, mounted here):
// GET <base>/compiled (ETag / If-None-Match) and POST <base>/report, bounded by
// the configured report size. The bearer token is checked on the request line
// and headers, before any body is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { visible, type Logger } from '../core/index.ts';
import { EdgeRefusal, type EdgeEndpoint } from '../netpolicy/index.ts';
import { AppError, isAppError } from '../app/index.ts';
import { codeForStatus } from './errors.ts';
import { methodNotAllowed } from './listener.ts';

export interface EdgeRouteOptions {
  logger: Logger;
  /** Default "/v1/netpolicy". */
  basePath?: string;
}

export function edgeRoutes(app: FastifyInstance, edge: EdgeEndpoint, opts: EdgeRouteOptions): void {
  const base = (opts.basePath ?? '/v1/netpolicy').replace(/\/$/, '');
  const edges = new WeakMap<FastifyRequest, string>();
  /** The endpoint's refusals keep their status; anything else is logged and answers 500. */
  const answer = (req: FastifyRequest, err: unknown): never => {
    if (err instanceof EdgeRefusal) {
      throw new AppError(codeForStatus(err.status), err.message);
    }
    if (isAppError(err)) throw err;
    try {
      opts.logger.error({ event: 'netpolicy', err: String(err), path: visible(req.url.slice(0, 200)) }, 'netpolicy: http handler failed');
    } catch { /* the log is gone; the answer still goes */ }
    throw new AppError('internal', 'internal error');
  };
  const plugin = async (scope: FastifyInstance): Promise<void> => {
    // The report is parsed by the endpoint (its own refusals and messages), whatever the declared type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.addHook('onRequest', async (req, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        edges.set(req, edge.authenticate(req.headers.authorization, req.headers['x-portwarden-edge']));
      } catch (err) { answer(req, err); }
    });
    scope.get(`${base}/compiled`, async (req, reply) => {
      try {
        const c = await edge.compiled();
        const etag = `"${c.version}"`;
        reply.header('etag', etag);
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        return reply.type('application/json').send(c.body);
      } catch (err) { return answer(req, err); }
    });
    scope.post(`${base}/report`, { bodyLimit: edge.maxReportBytes }, async (req) => {
      try {
        return await edge.report(edges.get(req)!, req.body as Buffer | undefined);
      } catch (err) { return answer(req, err); }
    });
    methodNotAllowed(scope, `${base}/compiled`, ['GET', 'HEAD']);
    methodNotAllowed(scope, `${base}/report`, ['POST']);
  };
  void app.register(plugin);
}

// The edge agents' endpoints (netpolicy's framework-free logic, mounted here):
// GET <base>/compiled (ETag / If-None-Match; with ?wait=SECONDS a pull whose
// If-None-Match names the current version is held until the policy changes or
// the wait ends: long-poll push) and POST <base>/report, bounded by the
// configured report size. The bearer token is checked on the request line and
// headers, before any body is read. Held pulls are answered before the
// listener closes, so a shutdown never waits for them.
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

/** The wait asked for in ms, cut to max; null when not asked; a malformed one is refused. */
function waitMs(query: unknown, max: number): number | null {
  const v = (query as Record<string, unknown> | undefined)?.wait;
  if (v === undefined) return null;
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v)) throw new AppError('bad-request', 'wait is a whole number of seconds');
  return Math.min(Number(v) * 1000, max);
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
  // Before the server stops taking requests and waits for those in flight: answer the held ones.
  app.addHook('preClose', (done) => { edge.close(); done(); });
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
        const ms = waitMs(req.query, edge.maxWaitMs);
        const have = /^"([0-9a-f]{1,64})"$/.exec(String(req.headers['if-none-match'] ?? ''))?.[1];
        // The header says the server takes waits, and for how long: an agent that sees none pulls on its interval.
        if (ms !== null) reply.header('x-portwarden-wait', String(Math.round(ms / 1000)));
        if (ms && have) {
          const w = edge.wait(edges.get(req)!, have, ms);
          reply.raw.once('close', w.cancel);
          const o = await w.outcome;
          if (o.kind === 'changed') return reply.header('etag', `"${o.current.version}"`).type('application/json').send(o.current.body);
          if (o.kind === 'timeout' || o.kind === 'cancelled') return reply.header('etag', `"${have}"`).code(304).send();
          if (o.kind === 'replaced') throw new AppError('conflict', 'another wait of this edge replaced this one');
          if (o.kind === 'closed') throw new AppError('unavailable', 'the server is shutting down');
          reply.header('x-portwarden-wait', '0'); // full: answered at once, as a plain pull
        }
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

// /healthz: the process answers (alive). /readyz: it can do its work — every
// check passed in by the wiring (listeners bound, the store answers a query,
// the spool is writable, the relay runs) passes within its time; otherwise 503
// naming the failing checks. A check fails by throwing, rejecting, returning
// false or taking longer than the timeout.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../app/index.ts';

export type ReadinessCheck = () => unknown;

async function passes(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<false>((res) => { timer = setTimeout(() => res(false), timeoutMs); });
    const r = await Promise.race([Promise.resolve().then(check), late]);
    return r !== false;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, checks: Readonly<Record<string, ReadinessCheck>>, timeoutMs = 2000): void {
  const noStore = { 'cache-control': 'no-store' };
  app.get('/healthz', { schema: { hide: true } as never }, async (_req, reply) => {
    reply.headers(noStore);
    return { status: 'ok' };
  });
  app.get('/readyz', { schema: { hide: true } as never }, async (_req, reply) => {
    reply.headers(noStore);
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => passes(checks[n], timeoutMs)));
    const failing = names.filter((_, i) => !results[i]);
    if (failing.length) throw new AppError('unavailable', `not ready: ${failing.join(', ')}`, { failing });
    return { status: 'ready', checks: names };
  });
}

// Server side of the edge agent's pull. Trusts nothing from the network: every
// request carries a bearer token compared in constant time; reports are size-
// limited and shape-checked before they touch the store. The compiled policy is
// cached per part (PolicyCompiler), so an agent polling several times a second
// costs two small queries when nothing changed, and one change recompiles one part.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Logger } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { PolicyCompiler, type CompiledPolicy } from './compile.ts';
import { PolicyStore } from './store.ts';

export interface PolicyHttpOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Accepted agent tokens; an empty list refuses everyone. */
  tokens: readonly string[];
  /** Path prefix the handler answers under; default "/v1/netpolicy". */
  basePath?: string;
  maxReportBytes?: number;
}

export interface AgentReport {
  edge: string;
  version: string;
  blocked: Array<{ source: string; packets: number; destinations: number }>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function createPolicyHttpHandler(opts: PolicyHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const policy = new PolicyStore(opts.store, opts.clock);
  const base = (opts.basePath ?? '/v1/netpolicy').replace(/\/$/, '');
  const accepted = opts.tokens.map(digest);
  const maxBytes = opts.maxReportBytes ?? 64 * 1024 * 1024;
  const compiler = new PolicyCompiler();
  let cache: { policy: CompiledPolicy; body: string } | null = null;

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const d = digest(m[1]);
    let hit = false;
    for (const t of accepted) hit = timingSafeEqual(d, t) || hit;
    return hit;
  };

  const compiled = (): { policy: CompiledPolicy; body: string } => {
    const p = compiler.compile(policy);
    if (cache?.policy !== p) cache = { policy: p, body: JSON.stringify(p) };
    return cache;
  };

  const send = (res: ServerResponse, code: number, body = '', headers: Record<string, string> = {}): void => {
    res.writeHead(code, { 'cache-control': 'no-store', ...(body ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(body);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path !== `${base}/compiled` && path !== `${base}/report`) return send(res, 404, '{"error":"not found"}');
    if (!authorized(req)) return send(res, 401, '{"error":"token required"}', { 'www-authenticate': 'Bearer' });
    try {
      if (path === `${base}/compiled` && req.method === 'GET') {
        const c = compiled();
        const etag = `"${c.policy.version}"`;
        if (req.headers['if-none-match'] === etag) return send(res, 304, '', { etag });
        return send(res, 200, c.body, { etag });
      }
      if (path === `${base}/report` && req.method === 'POST') {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (b: Buffer) => {
          size += b.length;
          if (size > maxBytes) { send(res, 413, '{"error":"report too large"}'); req.destroy(); return; }
          chunks.push(b);
        });
        req.on('end', () => {
          if (res.headersSent) return;
          let rep: AgentReport;
          try { rep = JSON.parse(Buffer.concat(chunks).toString()) as AgentReport; } catch { return send(res, 400, '{"error":"bad json"}'); }
          if (typeof rep?.edge !== 'string' || !/^[\w.-]{1,64}$/.test(rep.edge) || typeof rep.version !== 'string' || !Array.isArray(rep.blocked)) {
            return send(res, 400, '{"error":"bad report"}');
          }
          const blocked = rep.blocked.filter((b) => typeof b?.source === 'string' && b.source.length <= 64)
            .map((b) => ({ source: b.source, packets: Math.max(0, Number(b.packets) || 0), destinations: Math.max(0, Number(b.destinations) || 0) }));
          const c = compiled();
          if (rep.version === c.policy.version) policy.recordApplied(rep.edge, rep.version, c.policy.sets);
          policy.recordBlocked(rep.edge, blocked);
          send(res, 204);
        });
        return;
      }
      send(res, 405, '{"error":"method not allowed"}');
    } catch (err) {
      opts.logger.error({ err: String(err) }, 'netpolicy: http handler failed');
      if (!res.headersSent) send(res, 500, '{"error":"internal error"}');
    }
  };
}

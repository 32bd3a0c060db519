// Server side of the edge agent's pull and report, served over HTTPS. Trusts
// nothing from the network: a bearer token (compared in constant time) names the
// one edge it was issued to, and a request speaking for another edge is refused;
// a report is bounded in bytes and entries, each source must be one IP address
// (written canonically, duplicates merged), old counters are pruned. No request
// can throw into node:http: a failure answers 500 and is logged, so nothing an
// edge sends can stop the SMTP service in the same process.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { visible, type Clock, type Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { PolicyCompiler, type CompiledPolicy } from './compile.ts';
import { fail, isObj, ok, type Result } from './model.ts';
import { formatAddr, parseRange } from './prefix.ts';
import { PolicyStore } from './store.ts';

export interface EdgeToken { edge: string; token: string }

export interface PolicyHttpOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Accepted agent tokens, each bound to its edge; an empty list refuses everyone. */
  tokens: readonly EdgeToken[];
  /** Path prefix the handler answers under; default "/v1/netpolicy". */
  basePath?: string;
  /** Default 1 MiB. */
  maxReportBytes?: number;
  /** Most blocked sources in one report; default 10,000. */
  maxReportEntries?: number;
  /** Counters older than this are deleted; default 7 days. */
  reportRetentionMs?: number;
  /** Each blocked source of an accepted report is published as edge.blocked, after it is stored (abuse reads them). */
  bus?: EventBus;
}

export interface AgentReport {
  edge: string;
  /** The version the edge enforces; "" before its first apply. */
  version: string;
  blocked: Array<{ source: string; packets: number; destinations: number }>;
  /** Blocked sources left out (the agent sends its strongest only). */
  omitted?: number;
  /** The last pulled policy the edge refused, and why. */
  rejected?: { version: string; error: string; at: number };
}

export const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TOKEN = /^[\x21-\x7e]{16,512}$/;

/**
 * "EDGE-NAME TOKEN" per line ("#" comments and blank lines ignored). The bare-token format of
 * earlier versions is refused: a token without a name cannot be bound to an edge, and any edge
 * holding one could speak for every other.
 */
export function parseTokenFile(text: string, file: string): Result<EdgeToken[]> {
  const out: EdgeToken[] = [];
  const errors: string[] = [];
  const names = new Set<string>(), tokens = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = `${file}:${i + 1}`;
    const f = line.split(/\s+/);
    if (f.length === 1) { errors.push(`${at}: a bare token cannot be bound to an edge; write "EDGE-NAME TOKEN" (the edge's --edge name, then its token)`); return; }
    if (f.length !== 2) { errors.push(`${at}: expected "EDGE-NAME TOKEN"`); return; }
    const [edge, token] = f;
    if (!EDGE_NAME.test(edge)) { errors.push(`${at}: edge name ${JSON.stringify(edge)}: letters, digits, "_", "." and "-", at most 64`); return; }
    if (!TOKEN.test(token)) { errors.push(`${at}: the token of ${edge} must be 16 to 512 printable characters (e.g. openssl rand -hex 32)`); return; }
    if (names.has(edge)) { errors.push(`${at}: edge ${edge} is listed twice`); return; }
    if (tokens.has(token)) { errors.push(`${at}: the token of ${edge} is also another edge's`); return; }
    names.add(edge); tokens.add(token);
    out.push({ edge, token });
  });
  if (errors.length) return fail(errors.join('\n'));
  if (!out.length) return fail(`${file}: no "EDGE-NAME TOKEN" lines: every agent would be refused`);
  return ok(out);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** An edge's words reach logs and the operator's terminal: cut to max, every control (bidi ones too) escaped. */
const printable = (s: string, max: number): string => visible(s.slice(0, max));

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; }
}

type Counts = { accepted: number; rejected: number; duplicates: number };
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** Blocked entries, one per canonical source address; the rest are counted as rejected. */
function blockedOf(list: unknown[]): { rows: AgentReport['blocked']; counts: Counts; example: unknown } {
  const by = new Map<string, { source: string; packets: number; destinations: number }>();
  const counts: Counts = { accepted: 0, rejected: 0, duplicates: 0 };
  let example: unknown;
  for (const b of list) {
    const r = isObj(b) && typeof b.source === 'string' && b.source.length <= 64 && !b.source.includes('/') ? parseRange(b.source) : null;
    const packets = isObj(b) ? count(b.packets) : null, destinations = isObj(b) ? count(b.destinations) : null;
    if (!r || r.lo !== r.hi || packets === null || destinations === null) { counts.rejected++; example ??= b; continue; }
    const source = formatAddr(r.family, r.lo);
    const seen = by.get(source);
    if (seen) {
      counts.duplicates++;
      seen.packets = Math.max(seen.packets, packets);
      seen.destinations = Math.max(seen.destinations, destinations);
    } else by.set(source, { source, packets, destinations });
  }
  counts.accepted = by.size;
  return { rows: [...by.values()], counts, example };
}

/** The body, up to max bytes; a larger one answers 413 and the rest is discarded. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) { reject(new HttpError(413, `report larger than ${max} bytes`)); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer): void => {
      size += b.length;
      if (size <= max) { chunks.push(b); return; }
      req.off('data', onData);
      reject(new HttpError(413, `report larger than ${max} bytes`));
    };
    req.on('data', onData);
    req.on('end', () => { if (size <= max) resolve(Buffer.concat(chunks)); });
    req.on('error', reject);
    req.on('close', () => { if (!req.complete) reject(new Error('client went away')); });
  });
}

export function createPolicyHttpHandler(opts: PolicyHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const policy = new PolicyStore(opts.store, opts.clock);
  const log = opts.logger;
  const base = (opts.basePath ?? '/v1/netpolicy').replace(/\/$/, '');
  const accepted = opts.tokens.map((t) => ({ edge: t.edge, digest: digest(t.token) }));
  const maxBytes = opts.maxReportBytes ?? 1024 * 1024;
  const maxEntries = opts.maxReportEntries ?? 10_000;
  const retention = opts.reportRetentionMs ?? 7 * 86_400_000;
  const compiler = new PolicyCompiler();
  let cache: { policy: CompiledPolicy; body: string } | null = null;
  // Also at start: counters of edges that stopped reporting must not wait for another report to go.
  policy.pruneBlocked(opts.clock.now() - retention);

  /** The edge the presented token was issued to; every token is compared, so timing tells nothing. */
  const edgeOf = (req: IncomingMessage): string | null => {
    const m = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) return null;
    const d = digest(m[1]);
    let edge: string | null = null;
    for (const t of accepted) if (timingSafeEqual(d, t.digest)) edge = t.edge;
    return edge;
  };

  const compiled = (): { policy: CompiledPolicy; body: string } => {
    const p = compiler.compile(policy);
    if (cache?.policy !== p) cache = { policy: p, body: JSON.stringify(p) };
    return cache;
  };

  const send = (res: ServerResponse, code: number, body = '', headers: Record<string, string> = {}): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(code, { 'cache-control': 'no-store', ...(body ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(body);
  };
  const error = (res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void =>
    send(res, code, JSON.stringify({ error: message }), headers);

  const report = async (req: IncomingMessage, res: ServerResponse, edge: string): Promise<void> => {
    const text = (await readBody(req, maxBytes)).toString('utf8');
    let rep: unknown;
    try { rep = JSON.parse(text); } catch { throw new HttpError(400, 'report is not JSON'); }
    if (!isObj(rep) || typeof rep.edge !== 'string' || typeof rep.version !== 'string' || !/^[0-9a-f]{0,64}$/.test(rep.version) || !Array.isArray(rep.blocked)) {
      throw new HttpError(422, 'a report is {edge, version, blocked: [{source, packets, destinations}]}');
    }
    if (rep.edge !== edge) throw new HttpError(403, 'the report names another edge than its token');
    if (rep.blocked.length > maxEntries) throw new HttpError(413, `more than ${maxEntries} blocked sources in one report`);
    const { rows, counts, example } = blockedOf(rep.blocked);
    const r = isObj(rep.rejected) && typeof rep.rejected.error === 'string' ? rep.rejected : null;
    const rejected = r ? {
      version: typeof r.version === 'string' && /^[0-9a-f]{1,64}$/.test(r.version) ? r.version : '',
      error: printable(r.error as string, 500),
      at: typeof r.at === 'number' && Number.isSafeInteger(r.at) ? r.at : null,
    } : undefined;
    const c = compiled();
    policy.store.transaction(() => {
      if (rep.version === c.policy.version) policy.recordApplied(edge, rep.version as string, c.policy.sets);
      policy.recordBlocked(edge, rows);
      policy.recordReport(edge, { version: rep.version as string, rejected, omitted: count(rep.omitted) ?? 0 });
      policy.pruneBlocked(opts.clock.now() - retention);
    });
    if (opts.bus) for (const b of rows) opts.bus.publish('edge.blocked', { edge, source: b.source, packets: b.packets, destinations: b.destinations });
    if (counts.rejected) log.warn({ event: 'netpolicy', edge, ...counts, example: printable(JSON.stringify(example) ?? '', 120) }, 'netpolicy: report entries refused');
    if (rejected) log.error({ event: 'netpolicy', edge, version: rejected.version, error: rejected.error }, 'netpolicy: an edge refused the pulled policy');
    send(res, 200, JSON.stringify(counts));
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path: string;
    try { path = new URL(req.url ?? '/', 'http://x').pathname; } catch { throw new HttpError(400, 'bad request target'); }
    if (path !== `${base}/compiled` && path !== `${base}/report`) return error(res, 404, 'not found');
    const edge = edgeOf(req);
    if (!edge) return error(res, 401, 'token required', { 'www-authenticate': 'Bearer' });
    const claimed = req.headers['x-portwarden-edge'];
    if (claimed !== undefined && claimed !== edge) return error(res, 403, 'the edge name does not match its token');
    if (path === `${base}/compiled` && req.method === 'GET') {
      const c = compiled();
      const etag = `"${c.policy.version}"`;
      if (req.headers['if-none-match'] === etag) return send(res, 304, '', { etag });
      return send(res, 200, c.body, { etag });
    }
    if (path === `${base}/report` && req.method === 'POST') return report(req, res, edge);
    error(res, 405, 'method not allowed');
  };

  return (req, res) => {
    req.on('error', () => { /* the client went away mid-request: nothing to answer */ });
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        // After a refusal the rest of the body is not read: close instead of keeping the connection.
        error(res, err.status, err.message, { connection: 'close' });
        if (err.status === 413) req.resume();
        return;
      }
      if (req.socket.destroyed) return; // the client went away: nobody to answer
      log.error({ event: 'netpolicy', err: String(err), path: printable(req.url ?? '', 200) }, 'netpolicy: http handler failed');
      if (!res.headersSent) error(res, 500, 'internal error', { connection: 'close' });
      else res.destroy();
    });
  };
}

export interface PolicyHttpsOptions extends PolicyHttpOptions {
  /** Certificate and key (the listeners' own); SIGHUP passes new ones to setSecureContext. */
  tls: SecureContextOptions;
  maxConnections?: number;
}

/** The endpoint: HTTPS only, with connection and time caps so idle or slow clients cannot pile up. */
export function createPolicyHttpsServer(opts: PolicyHttpsOptions): HttpsServer {
  const handler = createPolicyHttpHandler(opts);
  const maxBytes = opts.maxReportBytes ?? 1024 * 1024;
  const server = createHttpsServer({ ...opts.tls, headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 }, handler);
  server.maxConnections = opts.maxConnections ?? 64;
  server.maxHeadersCount = 64;
  // "Expect: 100-continue" with an oversized Content-Length is refused before the body is sent.
  server.on('checkContinue', (req, res) => {
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: `report larger than ${maxBytes} bytes` }));
      return;
    }
    res.writeContinue();
    handler(req, res);
  });
  server.on('tlsClientError', () => { /* a failed handshake concerns that connection only */ });
  return server;
}

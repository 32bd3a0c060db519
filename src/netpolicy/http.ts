// Server side of the edge agent's pull and report: the logic, free of any HTTP
// framework (src/http serves it over HTTPS, bounds the body, and answers a
// failure with 500 so nothing an edge sends can stop the process). Trusts
// nothing from the network: a bearer token (compared in constant time) names the
// one edge it was issued to, and a request speaking for another edge is refused;
// a report is bounded in bytes and entries, each source must be one IP address
// (written canonically, duplicates merged), old counters are pruned.
import { createHash, timingSafeEqual } from 'node:crypto';
import { visible, type Clock, type Logger } from '../core/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import { PolicyCompiler, type CompiledPolicy } from './compile.ts';
import { fail, isObj, ok, type Result } from './model.ts';
import { formatAddr, parseRange } from './prefix.ts';
import { PolicyStore } from './store.ts';
import { PolicyWaiters, type WaitOutcome } from './push.ts';

export interface EdgeToken { edge: string; token: string }

export interface PolicyHttpOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Accepted agent tokens, each bound to its edge; an empty list refuses everyone. */
  tokens: readonly EdgeToken[];
  /** Default 1 MiB. */
  maxReportBytes?: number;
  /** Most blocked sources in one report; default 10,000. */
  maxReportEntries?: number;
  /** Counters older than this are deleted; default 7 days. */
  reportRetentionMs?: number;
  /**
   * Each blocked source of an accepted report is published as edge.blocked, after it is stored (abuse reads them);
   * policy.changed wakes the edges waiting for a new policy.
   */
  bus?: EventBus;
  /** Pulls held at once waiting for a change (long poll); default 48. The HTTP layer keeps it below its connection cap. */
  maxWaiters?: number;
  /** Longest wait an edge may ask for; default 55 s (under the 60 s idle limit of common proxies). */
  maxWaitMs?: number;
  /** While edges wait, how often the store is checked for changes no event announced; default 2 s. */
  recheckMs?: number;
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

export type Counts = { accepted: number; rejected: number; duplicates: number };
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

/** A refusal with its HTTP status; the HTTP layer answers it with the catalogue code of that status. */
export class EdgeRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; this.name = 'EdgeRefusal'; }
}

/** The edge endpoint's logic, free of any HTTP framework: src/http mounts it. */
export interface EdgeEndpoint {
  readonly maxReportBytes: number;
  /** The edge the bearer token was issued to; a missing or unknown token is 401, a claim of another edge 403. */
  authenticate(authorization: string | undefined, claimedEdge: string | string[] | undefined): string;
  /** The compiled policy for the pull, its version (the ETag) and its JSON text. */
  compiled(): Promise<{ version: string; body: string }>;
  /** Stores one report (already bounded in bytes by the caller) and returns what was kept. */
  report(edge: string, body: string | Buffer | undefined): Promise<Counts>;
  /** Settles when the startup prune of stale counters is done (never rejects: a failure is logged). */
  readonly ready: Promise<void>;
  /** The longest wait granted; a longer ask is cut to it. */
  readonly maxWaitMs: number;
  /**
   * Long poll: settles when the policy's version is no longer `have`, after `ms`, when this edge waits again
   * ("replaced"), when too many wait ("full", at once) or at close ("closed"). `cancel` when the connection goes.
   */
  wait(edge: string, have: string, ms: number): { outcome: Promise<WaitOutcome>; cancel: () => void };
  /** Requests waiting now. */
  waiting(): number;
  /** Answers every waiter and stops listening to the bus: the listener is closing. */
  close(): void;
}

export function createEdgeEndpoint(opts: PolicyHttpOptions): EdgeEndpoint {
  const policy = new PolicyStore(opts.store, opts.clock);
  const log = opts.logger;
  const accepted = opts.tokens.map((t) => ({ edge: t.edge, digest: digest(t.token) }));
  const maxBytes = opts.maxReportBytes ?? 1024 * 1024;
  const maxEntries = opts.maxReportEntries ?? 10_000;
  const retention = opts.reportRetentionMs ?? 7 * 86_400_000;
  const compiler = new PolicyCompiler();
  let cache: { policy: CompiledPolicy; body: string } | null = null;
  /** version → revision of recently served policies: a report naming one of them is an acknowledgement. */
  const served = new Map<string, number>();
  const remember = (p: CompiledPolicy): void => {
    served.delete(p.version);
    served.set(p.version, p.revision);
    while (served.size > 16) served.delete(served.keys().next().value!);
  };
  // Also at start: counters of edges that stopped reporting must not wait for another report to go.
  const ready = policy.pruneBlocked(opts.clock.now() - retention).then(() => {}, (err: unknown) => {
    log.error({ event: 'netpolicy', err: String(err) }, 'netpolicy: pruning blocked counters failed');
  });

  /** The edge the presented token was issued to; every token is compared, so timing tells nothing. */
  const edgeOf = (authorization: string | undefined): string | null => {
    const m = /^Bearer\s+(\S+)$/.exec(authorization ?? '');
    if (!m) return null;
    const d = digest(m[1]);
    let edge: string | null = null;
    for (const t of accepted) if (timingSafeEqual(d, t.digest)) edge = t.edge;
    return edge;
  };

  const compiled = async (): Promise<{ policy: CompiledPolicy; body: string }> => {
    const p = await compiler.compile(policy);
    if (cache?.policy !== p) { cache = { policy: p, body: JSON.stringify(p) }; remember(p); }
    return cache;
  };
  const waiters = new PolicyWaiters(async () => { const c = await compiled(); return { version: c.policy.version, body: c.body }; }, {
    maxWaiters: opts.maxWaiters ?? 48, recheckMs: opts.recheckMs ?? 2000,
    onError: (err) => log.error({ event: 'netpolicy', err: String(err) }, 'netpolicy: checking the policy for waiting edges failed'),
  });
  const unsubscribe = opts.bus?.subscribe('policy.changed', () => waiters.poke());

  const report = async (edge: string, body: string | Buffer | undefined): Promise<Counts> => {
    const text = body === undefined ? '' : body.toString();
    let rep: unknown;
    try { rep = JSON.parse(text); } catch { throw new EdgeRefusal(400, 'report is not JSON'); }
    if (!isObj(rep) || typeof rep.edge !== 'string' || typeof rep.version !== 'string' || !/^[0-9a-f]{0,64}$/.test(rep.version) || !Array.isArray(rep.blocked)) {
      throw new EdgeRefusal(422, 'a report is {edge, version, blocked: [{source, packets, destinations}]}');
    }
    if (rep.edge !== edge) throw new EdgeRefusal(403, 'the report names another edge than its token');
    if (rep.blocked.length > maxEntries) throw new EdgeRefusal(413, `more than ${maxEntries} blocked sources in one report`);
    const { rows, counts, example } = blockedOf(rep.blocked);
    const r = isObj(rep.rejected) && typeof rep.rejected.error === 'string' ? rep.rejected : null;
    const rejected = r ? {
      version: typeof r.version === 'string' && /^[0-9a-f]{1,64}$/.test(r.version) ? r.version : '',
      error: printable(r.error as string, 500),
      at: typeof r.at === 'number' && Number.isSafeInteger(r.at) ? r.at : null,
    } : undefined;
    const c = await compiled();
    await policy.recordEdgeReport(edge, {
      applied: rep.version === c.policy.version ? { version: rep.version, sets: c.policy.sets } : undefined,
      blocked: rows,
      version: rep.version, rejected, omitted: count(rep.omitted) ?? 0,
      pruneBefore: opts.clock.now() - retention,
    });
    const acked = rep.version ? served.get(rep.version) : undefined;
    if (opts.bus && acked !== undefined) opts.bus.publish('edge.applied', { edge, version: rep.version, revision: acked });
    if (opts.bus) for (const b of rows) opts.bus.publish('edge.blocked', { edge, source: b.source, packets: b.packets, destinations: b.destinations });
    if (counts.rejected) log.warn({ event: 'netpolicy', edge, ...counts, example: printable(JSON.stringify(example) ?? '', 120) }, 'netpolicy: report entries refused');
    if (rejected) log.error({ event: 'netpolicy', edge, version: rejected.version, error: rejected.error }, 'netpolicy: an edge refused the pulled policy');
    return counts;
  };

  return {
    maxReportBytes: maxBytes,
    ready,
    authenticate(authorization, claimed) {
      const edge = edgeOf(authorization);
      if (!edge) throw new EdgeRefusal(401, 'token required');
      if (claimed !== undefined && claimed !== edge) throw new EdgeRefusal(403, 'the edge name does not match its token');
      return edge;
    },
    compiled: async () => { const c = await compiled(); return { version: c.policy.version, body: c.body }; },
    report,
    maxWaitMs: opts.maxWaitMs ?? 55_000,
    wait: (edge, have, ms) => waiters.wait(edge, have, ms),
    waiting: () => waiters.size,
    close() { unsubscribe?.(); waiters.close(); },
  };
}

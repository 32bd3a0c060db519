// `portwarden trace QUEUE-ID | MESSAGE-ID | IP[:PORT] [--at TIME] [--port N] [--json]`:
// the abuse desk's question "who sent this?" answered from the attribution log.
// The form is detected: a Message-ID has '@' or '<', an address parses as one,
// anything else is a queue id (taken from the Received field's "id").
import { parseArgs } from 'node:util';
import { terminalJson, visible } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { AttributionLog, type AttributionRecord } from './log.ts';
import { parseEndpoint } from './ip.ts';

export interface TraceIo {
  store: Store;
  out(s: string): void;
  err(s: string): void;
  /** For "no --at": the newest rows first. */
  now?: () => number;
}

export const TRACE_USAGE = `usage: portwarden trace QUEUE-ID | MESSAGE-ID | IP[:PORT] [options]
  --at TIME       ISO 8601 time of the report (IP form; default: now, newest first)
  --port N        source port (behind CGNAT the address alone names no one)
  --window MIN    minutes either side of --at (default 10)
  --limit N       at most N rows (default 20)
  --json          print JSON`;

export type TraceQuery =
  | { kind: 'message-id'; value: string }
  | { kind: 'ip'; value: string; port?: number }
  | { kind: 'queue-id'; value: string };

export function classifyTraceQuery(q: string): TraceQuery {
  const s = q.trim();
  if (s.includes('@') || s.includes('<')) return { kind: 'message-id', value: s };
  const ep = parseEndpoint(s);
  if (ep) return { kind: 'ip', value: ep.ip, port: ep.port };
  return { kind: 'queue-id', value: s };
}

function parseTime(s: string): number | null {
  // ISO 8601 only: Date.parse also takes "Tuesday" and locale forms we do not want to guess at.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return null;
  const t = Date.parse(s.replace(' ', 'T'));
  return Number.isFinite(t) ? t : null;
}

export function formatRecord(r: AttributionRecord): string {
  const ip = r.clientIp.includes(':') ? `[${r.clientIp}]` : r.clientIp;
  const lines = [
    `queue-id    ${r.queueId}`,
    `time        ${new Date(r.time).toISOString()}`,
    `account     ${r.account}${r.subscriber ? ` (subscriber ${r.subscriber})` : ''}`,
    `client      ${ip}${r.clientPort !== null ? `:${r.clientPort}` : ''}${r.listener ? ` on ${r.listener}` : ''}`,
    `tls         ${r.tlsVersion ? `${r.tlsVersion}${r.tlsCipher ? ` ${r.tlsCipher}` : ''}` : 'none'}`,
    `auth        ${r.authMechanism ?? 'none'}`,
    `message-id  ${r.messageId ? `<${r.messageId}>` : '-'}`,
    `sender      <${r.sender ?? ''}>`,
    `recipients  ${r.recipientCount}, ${r.size} bytes`,
  ];
  if (r.verdicts !== null) lines.push(`verdicts    ${JSON.stringify(r.verdicts)}`);
  // Sender, Message-ID and the rest came from the client: nothing of theirs may act on the terminal.
  return lines.map((l) => visible(l)).join('\n');
}

/** A trace request as the command line gives it. */
export interface TraceArgs {
  query: string;
  at?: number;
  port?: number;
  window?: number;
  limit?: number;
  json: boolean;
  config?: string;
}

/**
 * The command line of `trace`, or the exit code when it stops there (help: 0; a usage error,
 * already reported: 2). `withConfig` also takes `--config FILE` (the CLI's; the store is its).
 */
export function parseTraceArgs(argv: string[], io: Pick<TraceIo, 'out' | 'err'>, withConfig = false): TraceArgs | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: {
      ...(withConfig ? { config: { type: 'string' as const } } : {}),
      at: { type: 'string' }, port: { type: 'string' }, window: { type: 'string' }, limit: { type: 'string' },
      json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  } catch (err) {
    io.err(`${(err as Error).message}\n${TRACE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { io.out(TRACE_USAGE); return 0; }
  if (positionals.length !== 1) { io.err(TRACE_USAGE); return 2; }
  const intArg = (v: string | boolean | undefined, name: string, min: number, max: number): number | undefined | null => {
    if (typeof v !== 'string') return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) { io.err(`--${name}: expected an integer ${min}..${max}`); return null; }
    return n;
  };
  const port = intArg(values.port, 'port', 0, 65535);
  const window = intArg(values.window, 'window', 0, 525_600);
  const limit = intArg(values.limit, 'limit', 1, 100_000);
  if (port === null || window === null || limit === null) return 2;
  let at: number | undefined;
  if (typeof values.at === 'string') {
    const t = parseTime(values.at);
    if (t === null) { io.err(`--at: not an ISO 8601 time: ${values.at}`); return 2; }
    at = t;
  }
  const config = (values as { config?: string }).config;
  return { query: positionals[0], at, port, window, limit, json: values.json === true, ...(config !== undefined ? { config } : {}) };
}

/** Who held the client address (and port) at the time, from the subscriber directory. */
export interface TraceHolder { subscriber: string; prefix: string; portLo: number | null; portHi: number | null; start: number; end: number | null; source: string }
/** The directory's answer, passed in by whoever has one (accountability does not depend on the directory). */
export type HolderFinder = (ip: string, at: number, port: number | null) => Promise<TraceHolder[]>;

export interface TraceResult {
  kind: TraceQuery['kind'];
  value: string;
  records: AttributionRecord[];
  /** IP form with a directory: who held the address (and port) at the time asked (now when none was given). */
  holders?: TraceHolder[];
}

/** The lookup behind `trace` (the command and the app's trace operation). */
export async function lookupTrace(log: Pick<AttributionLog, 'byIp' | 'byMessageId' | 'byQueueId'>,
  i: { query: string; at?: number; port?: number; window?: number; limit?: number }, now: number, holdersAt?: HolderFinder): Promise<TraceResult> {
  const q = classifyTraceQuery(i.query);
  let records: AttributionRecord[];
  let holders: TraceHolder[] | undefined;
  if (q.kind === 'ip') {
    const port = i.port ?? q.port;
    if (holdersAt) holders = await holdersAt(q.value, i.at ?? now, port ?? null);
    const limit = i.limit ?? 20;
    records = i.at === undefined
      // No time given: everything kept for that address, newest first.
      ? (await log.byIp(q.value, now, { windowMs: 2 ** 50, port, limit })).sort((a, b) => b.time - a.time)
      : await log.byIp(q.value, i.at, { windowMs: (i.window ?? 10) * 60_000, port, limit });
  } else if (q.kind === 'message-id') {
    records = await log.byMessageId(q.value);
  } else {
    records = await log.byQueueId(q.value);
    // Our queue ids are upper-case Crockford base32; people retype them in lower case.
    if (!records.length && q.value !== q.value.toUpperCase()) records = await log.byQueueId(q.value.toUpperCase());
  }
  return { kind: q.kind, value: q.value, records, ...(holders ? { holders } : {}) };
}

export function formatHolder(h: TraceHolder): string {
  const block = h.portLo !== null ? ` ports ${h.portLo}-${h.portHi}` : '';
  const span = `since ${new Date(h.start).toISOString()}${h.end !== null ? ` until ${new Date(h.end).toISOString()}` : ''}`;
  return visible(`held by     ${h.subscriber} (${h.prefix}${block}, ${span}, ${h.source})`);
}

/**
 * Prints a trace's records (or JSON: the records); the holders of the address first, when the
 * directory answered. The exit status: 0 found (a message or a holder), 1 nothing found.
 */
export function printTrace(io: Pick<TraceIo, 'out' | 'err'>, r: TraceResult, args: Pick<TraceArgs, 'at' | 'json'>): number {
  const holders = r.holders ?? [];
  if (args.json) io.out(terminalJson(r.records));
  else {
    if (holders.length) io.out(holders.map(formatHolder).join('\n') + (r.records.length ? '\n' : ''));
    else if (r.holders) io.out(`held by     nobody in the subscriber directory${args.at !== undefined ? ` at ${new Date(args.at).toISOString()}` : ' now'}`);
    if (r.records.length) io.out(r.records.map(formatRecord).join('\n\n'));
  }
  if (r.records.length || holders.length) {
    if (!r.records.length && !args.json) io.err(`no message found for ${r.kind} ${r.value}${args.at !== undefined ? ` around ${new Date(args.at).toISOString()}` : ''}`);
    return 0;
  }
  io.err(`no message found for ${r.kind} ${r.value}${r.kind === 'ip' && args.at !== undefined ? ` around ${new Date(args.at).toISOString()}` : ''}`);
  return 1;
}

/** Exit status: 0 found, 1 nothing found, 2 usage error. */
export async function runTraceCommand(argv: string[], io: TraceIo): Promise<number> {
  const args = parseTraceArgs(argv, io);
  if (typeof args === 'number') return args;
  const log = new AttributionLog(io.store);
  let r: TraceResult;
  try {
    r = await lookupTrace(log, args, io.now?.() ?? Date.now());
  } finally {
    await log.close();
  }
  return printTrace(io, r, args);
}

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

/** Exit status: 0 found, 1 nothing found, 2 usage error. */
export async function runTraceCommand(argv: string[], io: TraceIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: {
      at: { type: 'string' }, port: { type: 'string' }, window: { type: 'string' }, limit: { type: 'string' },
      json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
  } catch (err) {
    io.err(`${(err as Error).message}\n${TRACE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { io.out(TRACE_USAGE); return 0; }
  if (positionals.length !== 1) { io.err(TRACE_USAGE); return 2; }
  const intArg = (v: string | undefined, name: string, min: number, max: number): number | undefined | null => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) { io.err(`--${name}: expected an integer ${min}..${max}`); return null; }
    return n;
  };
  const port = intArg(values.port, 'port', 0, 65535);
  const windowMin = intArg(values.window, 'window', 0, 525_600);
  const limit = intArg(values.limit, 'limit', 1, 100_000);
  if (port === null || windowMin === null || limit === null) return 2;
  let at: number | undefined;
  if (values.at !== undefined) {
    const t = parseTime(values.at);
    if (t === null) { io.err(`--at: not an ISO 8601 time: ${values.at}`); return 2; }
    at = t;
  }

  const q = classifyTraceQuery(positionals[0]);
  const log = new AttributionLog(io.store);
  let rows: AttributionRecord[];
  try {
    if (q.kind === 'ip') {
      const p = port ?? q.port;
      if (at === undefined) {
        // No time given: everything kept for that address, newest first.
        const now = io.now?.() ?? Date.now();
        rows = (await log.byIp(q.value, now, { windowMs: 2 ** 50, port: p, limit: limit ?? 20 })).sort((a, b) => b.time - a.time);
      } else {
        rows = await log.byIp(q.value, at, { windowMs: (windowMin ?? 10) * 60_000, port: p, limit: limit ?? 20 });
      }
    } else if (q.kind === 'message-id') {
      rows = await log.byMessageId(q.value);
    } else {
      rows = await log.byQueueId(q.value);
      // Our queue ids are upper-case Crockford base32; people retype them in lower case.
      if (!rows.length && q.value !== q.value.toUpperCase()) rows = await log.byQueueId(q.value.toUpperCase());
    }
  } finally {
    await log.close();
  }
  if (values.json) {
    io.out(terminalJson(rows));
  } else if (rows.length) {
    io.out(rows.map(formatRecord).join('\n\n'));
  }
  if (!rows.length) {
    io.err(`no message found for ${q.kind} ${q.value}${q.kind === 'ip' && at !== undefined ? ` around ${new Date(at).toISOString()}` : ''}`);
    return 1;
  }
  return 0;
}

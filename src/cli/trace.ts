// `portwarden trace QUEUE-ID | MESSAGE-ID | IP[:PORT] [--at TIME] [--port N] [--window MIN] [--limit N] [--json]`:
// who sent a message, through the app's trace operation (attribution log).
// Exit status: 0 found, 1 nothing found, 2 usage error.
import { parseArgs } from 'node:util';
import { AttributionLog, TRACE_USAGE, formatRecord, type AttributionRecord } from '../accountability/index.ts';
import { terminalJson } from '../core/index.ts';
import type { Command, Io } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

function parseTime(s: string): number | null {
  // ISO 8601 only: Date.parse also takes "Tuesday" and locale forms we do not want to guess at.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return null;
  const t = Date.parse(s.replace(' ', 'T'));
  return Number.isFinite(t) ? t : null;
}

/** The op's input from the command line, or the exit code of a usage error (already reported). */
function traceInput(argv: string[], io: Io): { input: Record<string, unknown>; json: boolean; config?: string } | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, at: { type: 'string' }, port: { type: 'string' }, window: { type: 'string' }, limit: { type: 'string' },
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
  const window = intArg(values.window, 'window', 0, 525_600);
  const limit = intArg(values.limit, 'limit', 1, 100_000);
  if (port === null || window === null || limit === null) return 2;
  let at: number | undefined;
  if (values.at !== undefined) {
    const t = parseTime(values.at);
    if (t === null) { io.err(`--at: not an ISO 8601 time: ${values.at}`); return 2; }
    at = t;
  }
  return { input: { query: positionals[0], at, port, window, limit }, json: values.json, config: values.config };
}

export const traceCommand: Command = {
  summary: 'who sent it: look up a message by queue id, Message-ID, or client IP and time',
  async run(argv, io) {
    const t = traceInput(argv, io);
    if (typeof t === 'number') return t;
    const app = await openApp(t.config, io, (store, cfg) => ({ attribution: new AttributionLog(store, { retentionDays: cfg.accountability.retentionDays }) }));
    if (!app) return 1;
    try {
      const r = await runOp<{ kind: string; value: string; records: AttributionRecord[] }>(app, 'trace', t.input);
      if (!r.ok) return refuse(io, 'trace', r.error);
      const { kind, value, records } = r.value;
      if (t.json) io.out(terminalJson(records));
      else if (records.length) io.out(records.map(formatRecord).join('\n\n'));
      if (!records.length) {
        const at = t.input.at as number | undefined;
        io.err(`no message found for ${kind} ${value}${kind === 'ip' && at !== undefined ? ` around ${new Date(at).toISOString()}` : ''}`);
        return 1;
      }
      return 0;
    } finally {
      await app.close();
    }
  },
};

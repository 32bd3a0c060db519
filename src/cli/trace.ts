// `portwarden trace QUEUE-ID | MESSAGE-ID | IP[:PORT] [--at TIME] [--port N] [--window MIN] [--limit N] [--json]`:
// who sent a message, through the app's trace operation (attribution log). The command line and
// the printing are accountability's (`parseTraceArgs`, `printTrace`), the lookup the operation's.
// Exit status: 0 found, 1 nothing found, 2 usage error.
import { AttributionLog, parseTraceArgs, printTrace, type TraceResult } from '../accountability/index.ts';
import type { Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

export const traceCommand: Command = {
  summary: 'who sent it: look up a message by queue id, Message-ID, or client IP and time',
  async run(argv, io) {
    const t = parseTraceArgs(argv, io, true);
    if (typeof t === 'number') return t;
    const app = await openApp(t.config, io, (store, cfg) => ({ attribution: new AttributionLog(store, { retentionDays: cfg.accountability.retentionDays }) }));
    if (!app) return 1;
    try {
      const r = await runOp<TraceResult>(app, 'trace', { query: t.query, at: t.at, port: t.port, window: t.window, limit: t.limit });
      if (!r.ok) return refuse(io, 'trace', r.error);
      return printTrace(io, r.value, t);
    } finally {
      await app.close();
    }
  },
};

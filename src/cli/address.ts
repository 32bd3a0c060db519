// `portwarden address assign|end|history|who`: what the subscriber directory
// knows of addresses, and the operator's way to record an assignment the
// sources (RADIUS, Kea, detail files) do not see.
import { parseArgs } from 'node:util';
import type { Assignment } from '../directory/index.ts';
import { canonicalPrefix } from '../directory/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';
import { parseWhen } from './audit.ts';

const USAGE = `usage: portwarden address <subcommand> [--config FILE]
  who ADDRESS[:PORT] [--at TIME] [--port N] [--json]
                         who held it then (now by default); behind CGNAT without a port: every block holder
  history ADDRESS|SUBSCRIBER [--from TIME] [--to TIME] [--limit N] [--json]
                         assignments covering an address or prefix, or of a subscriber, newest first
  assign SUBSCRIBER PREFIX [--ports LO-HI] [--start TIME] [--end TIME] [--session ID] [--static] [--reason TEXT]
                         record that SUBSCRIBER holds PREFIX (an address, 2001:db8:1::/56, a CGNAT block with --ports)
                         from --start (default now); a holder of the same address and block before it ends there
  end (--session ID | --prefix PREFIX | --subscriber ID) [--source api|static|radius|kea] [--at TIME] [--reason TEXT]
                         end what is held (default source api, time now)
TIME is ISO 8601 (2026-11-30T10:00:00Z), ms since the epoch, or an age: 30m, 12h, 7d.`;

/** One line per assignment, each cell through visible() (ids and sessions come from outside). */
export function assignmentRows(list: readonly Assignment[]): string {
  const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
  return ['SUBSCRIBER\tPREFIX\tPORTS\tSTART\tEND\tSOURCE\tSESSION',
    ...list.map((a) => [a.subscriber, a.prefix, a.portLo === null ? '-' : `${a.portLo}-${a.portHi}`, iso(a.start), iso(a.end), a.source, a.session ?? '-']
      .map((c) => visible(c)).join('\t'))].join('\n');
}

/** An age becomes ms; anything else goes to the operation as given (it takes ISO 8601 and ms and says what is wrong). */
function when(v: string | undefined, now: number): string | number | undefined {
  if (v === undefined) return undefined;
  return /^\d+[smhd]$/.test(v) ? parseWhen(v, now)! : v;
}

function int(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v) || Number(v) > max) throw new UsageError(`--${name}: expected an integer 0..${max}, not ${JSON.stringify(v)}`);
  return Number(v);
}

function ports(v: string | undefined): { portLo?: number; portHi?: number } {
  if (v === undefined) return {};
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
  if (!m) throw new UsageError(`--ports: expected LO-HI (1024-2047), not ${JSON.stringify(v)}`);
  return { portLo: Number(m[1]), portHi: Number(m[2]) };
}

export const addressCommand: Command = {
  summary: 'the subscriber directory: who held ADDRESS[:PORT] when, history, assign, end',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, at: { type: 'string' }, port: { type: 'string' },
      from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' }, ports: { type: 'string' }, start: { type: 'string' },
      end: { type: 'string' }, session: { type: 'string' }, static: { type: 'boolean' }, reason: { type: 'string' },
      prefix: { type: 'string' }, subscriber: { type: 'string' }, source: { type: 'string' } } });
    const [sub, a1, a2, extra] = positionals;
    if (values.help) { io.out(USAGE); return 0; }
    if (!sub) { io.err(USAGE); return 2; }
    if (extra !== undefined) throw new UsageError(`address ${sub}: too many arguments\n${USAGE}`);
    const need = (v: string | undefined, what: string): string => { if (!v) throw new UsageError(`address ${sub}: missing ${what}\n${USAGE}`); return v; };
    const now = Date.now();
    const app = await openApp(values.config, io);
    if (!app) return 1;
    const call = async <T>(name: string, input: Record<string, unknown>): Promise<T | number> => {
      const r = await runOp<T>(app, name, input);
      return r.ok ? r.value : refuse(io, `address ${sub}`, r.error);
    };
    try {
      switch (sub) {
        case 'who': {
          const r = await call<{ address: string; port: number | null; at: number; holders: Array<{ assignment: Assignment }> }>('addresses.who',
            { address: need(a1, 'ADDRESS'), at: when(values.at, now), port: int(values.port, 'port', 65535) });
          if (typeof r === 'number') return r;
          if (values.json) { io.out(terminalJson(r)); return r.holders.length ? 0 : 1; }
          const what = `${r.address.includes(':') && r.port !== null ? `[${r.address}]` : r.address}${r.port !== null ? `:${r.port}` : ''}`;
          if (!r.holders.length) { io.err(`nobody held ${what} at ${new Date(r.at).toISOString()}`); return 1; }
          io.out(assignmentRows(r.holders.map((h) => h.assignment)));
          return 0;
        }
        case 'history': {
          const q = need(a1, 'ADDRESS or SUBSCRIBER');
          const isAddress = canonicalPrefix(q) !== null;
          const r = await call<{ assignments: Assignment[] }>('addresses.history', { ...(isAddress ? { address: q } : { subscriber: q }),
            from: when(values.from, now), to: when(values.to, now), limit: int(values.limit, 'limit', 10_000) });
          if (typeof r === 'number') return r;
          if (values.json) { io.out(terminalJson(r.assignments)); return 0; }
          io.out(assignmentRows(r.assignments));
          return r.assignments.length ? 0 : 1;
        }
        case 'assign': {
          const r = await call<Assignment>('addresses.assign', { subscriber: need(a1, 'SUBSCRIBER'), prefix: need(a2, 'PREFIX'), ...ports(values.ports),
            start: when(values.start, now), end: when(values.end, now), session: values.session, source: values.static ? 'static' : undefined, reason: values.reason });
          if (typeof r === 'number') return r;
          io.out(visible(`assigned ${r.prefix}${r.portLo !== null ? ` ports ${r.portLo}-${r.portHi}` : ''} to ${r.subscriber} from ${new Date(r.start).toISOString()}${r.end !== null ? ` until ${new Date(r.end).toISOString()}` : ''} (id ${r.id})`));
          return 0;
        }
        case 'end': {
          if (a1 !== undefined) throw new UsageError(`address end: give --session, --prefix or --subscriber\n${USAGE}`);
          const r = await call<{ ended: Assignment }>('addresses.end', { session: values.session, prefix: values.prefix, subscriber: values.subscriber,
            source: values.source, at: when(values.at, now), reason: values.reason });
          if (typeof r === 'number') return r;
          io.out(visible(`ended ${r.ended.prefix} of ${r.ended.subscriber} at ${new Date(r.ended.end!).toISOString()}`));
          return 0;
        }
        default: io.err(`unknown subcommand "${sub}"\n${USAGE}`); return 2;
      }
    } finally {
      await app.close();
    }
  },
};

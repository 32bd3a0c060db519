// `portwarden audit list`: every change made through the operations (CLI,
// control socket, API), newest first: who, when, from where, what, why, outcome.
import { parseArgs } from 'node:util';
import type { AuditRow } from '../app/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, type Command } from './commands.ts';
import { openApp, refuse, runOp } from './op.ts';

const USAGE = `usage: portwarden audit list [--since TIME] [--until TIME] [--actor NAME] [--action NAME|PREFIX.] [--object OBJ]
                             [--outcome ok|CODE] [--limit N] [--after ID] [--json] [--config FILE]
  TIME is ISO 8601 or an age: 30m, 12h, 7d. Newest first; a full page ends with "next: --after ID".`;

/** ISO 8601, or "30m" / "12h" / "7d" before now. */
export function parseWhen(text: string, now: number): number | null {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return now - Number(m[1]) * ({ s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const)[m[2] as 's' | 'm' | 'h' | 'd'];
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

export const auditCommand: Command = {
  summary: 'the audit log of every change (audit list)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, since: { type: 'string' }, until: { type: 'string' },
      actor: { type: 'string' }, action: { type: 'string' }, object: { type: 'string' }, outcome: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' } } });
    if (values.help) { io.out(USAGE); return 0; }
    if (positionals[0] !== 'list' || positionals.length > 1) { io.err(USAGE); return 2; }
    const now = Date.now();
    const when = (k: 'since' | 'until'): number | undefined => {
      const v = values[k];
      if (v === undefined) return undefined;
      const t = parseWhen(v, now);
      if (t === null) throw new UsageError(`--${k}: expected ISO 8601 or an age like 30m, 12h, 7d, not ${JSON.stringify(v)}`);
      return t;
    };
    const int = (k: 'limit' | 'after'): number | undefined => {
      const v = values[k];
      if (v === undefined) return undefined;
      if (!/^\d{1,15}$/.test(v)) throw new UsageError(`--${k}: expected a positive integer, not ${JSON.stringify(v)}`);
      return Number(v);
    };
    const input = { since: when('since'), until: when('until'), actor: values.actor, action: values.action, object: values.object, outcome: values.outcome, limit: int('limit'), after: int('after') };
    const app = await openApp(values.config, io);
    if (!app) return 1;
    try {
      const r = await runOp<{ entries: AuditRow[]; next?: number }>(app, 'audit.list', input);
      if (!r.ok) return refuse(io, 'audit list', r.error);
      if (values.json) { io.out(terminalJson(r.value)); return 0; }
      io.out(['ID\tWHEN\tWHO\tFROM\tWHAT\tOBJECT\tOUTCOME\tWHY\tDETAIL',
        ...r.value.entries.map((e) => [String(e.id), new Date(e.at).toISOString(), `${e.actorKind}:${e.actor}`, e.from, e.action, e.object, e.outcome, e.reason, e.detail]
          .map((c) => visible(c)).join('\t'))].join('\n'));
      if (r.value.next !== undefined) io.out(`next: --after ${r.value.next}`);
      return 0;
    } finally {
      await app.close();
    }
  },
};

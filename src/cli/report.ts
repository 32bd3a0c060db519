// `portwarden report list|show`: the complaints the abuse mailbox stored,
// through the reports.* operations (the rows in the state store; show also
// reads the raw file, on the node that took the report). Everything a report
// holds is outside text: shown through visible() line by line, or terminalJson.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ReportStore, type ReportRow } from '../abuse/index.ts';
import { terminalJson, visible } from '../core/index.ts';
import { UsageError, type Command } from './commands.ts';
import { parseWhen } from './audit.ts';
import { openApp, refuse, runOp } from './op.ts';

const USAGE = `usage: portwarden report list [--since TIME] [--until TIME] [--source ADDRESS] [--subscriber ID] [--limit N] [--after ID] [--json] [--config FILE]
       portwarden report show ID [--max-bytes N] [--json] [--config FILE]
  TIME is ISO 8601 or an age: 30m, 12h, 7d. Newest first; a full page ends with "next: --after ID".`;

const when = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString());

export function formatReports(rows: readonly ReportRow[]): string {
  return ['ID\tRECEIVED\tKIND\tTYPE\tSOURCE\tFROM\tAT\tSUBSCRIBER\tREPORTER\tSUBJECT',
    ...rows.map((r) => [r.id, when(r.receivedAt), r.kind, r.feedbackType ?? '-', r.source ? `${r.source}${r.sourcePort !== null ? `:${r.sourcePort}` : ''}` : '-',
      r.sourceFrom, when(r.at), r.subscriber ?? '-', r.reporter || '<>', r.subject ?? '-'].map((c) => visible(c)).join('\t'))].join('\n');
}

interface Shown { report: ReportRow; raw: string | null; rawSize: number | null; truncated: boolean; file: string | null }

export function formatReport(s: Shown): string {
  const r = s.report;
  const lines = [
    `report: ${r.id}`, `received: ${when(r.receivedAt)} from ${r.clientIp}`, `reporter: <${r.reporter}>`, `recipient: <${r.recipient}>`,
    `kind: ${r.kind}${r.feedbackType ? ` (Feedback-Type: ${r.feedbackType})` : ''}${r.userAgent ? ` by ${r.userAgent}` : ''}`,
    `subject: ${r.subject ?? '-'}`,
    `source: ${r.source ?? 'none found'}${r.sourcePort !== null ? ` port ${r.sourcePort}` : ''} (from ${r.sourceFrom})`,
    `at: ${when(r.at)} (from ${r.atFrom})`, `subscriber: ${r.subscriber ?? '-'}`, `reported message: ${r.reportedMessageId ?? '-'}`,
    `size: ${r.size}`, `file: ${s.file ?? 'not on this node'}`,
  ].map((l) => visible(l));
  if (s.raw !== null) {
    lines.push('', ...s.raw.split(/\r?\n/u).map((l) => visible(l, { keepTabs: true })));
    if (s.truncated) lines.push(`[… ${s.rawSize! - Buffer.byteLength(s.raw)} more octets; --max-bytes N shows more]`);
  }
  return lines.join('\n');
}

export const reportCommand: Command = {
  summary: 'abuse complaints the mailbox stored (report list, report show ID)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      config: { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' }, since: { type: 'string' }, until: { type: 'string' },
      source: { type: 'string' }, subscriber: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' }, 'max-bytes': { type: 'string' } } });
    if (values.help) { io.out(USAGE); return 0; }
    const sub = positionals[0];
    if (!((sub === 'list' && positionals.length === 1) || (sub === 'show' && positionals.length === 2))) { io.err(USAGE); return 2; }
    const now = Date.now();
    const time = (k: 'since' | 'until'): number | undefined => {
      const v = values[k];
      if (v === undefined) return undefined;
      const t = parseWhen(v, now);
      if (t === null) throw new UsageError(`--${k}: expected ISO 8601 or an age like 30m, 12h, 7d, not ${JSON.stringify(v)}`);
      return t;
    };
    const int = (k: 'limit' | 'max-bytes'): number | undefined => {
      const v = values[k];
      if (v === undefined) return undefined;
      if (!/^\d{1,9}$/.test(v)) throw new UsageError(`--${k}: expected a positive integer, not ${JSON.stringify(v)}`);
      return Number(v);
    };
    const app = await openApp(values.config, io);
    if (!app) return 1;
    try {
      app.deps.reports = await ReportStore.open(app.store, join(app.cfg.dataDir, 'abuse', 'reports'));
      if (sub === 'list') {
        const r = await runOp<{ reports: ReportRow[]; next?: string }>(app, 'reports.list', {
          since: time('since'), until: time('until'), source: values.source, subscriber: values.subscriber, limit: int('limit'), after: values.after });
        if (!r.ok) return refuse(io, 'report list', r.error);
        if (values.json) { io.out(terminalJson(r.value)); return 0; }
        io.out(formatReports(r.value.reports));
        if (r.value.next !== undefined) io.out(`next: --after ${r.value.next}`);
        return 0;
      }
      const r = await runOp<Shown>(app, 'reports.show', { id: positionals[1], maxBytes: int('max-bytes') });
      if (!r.ok) return refuse(io, 'report show', r.error);
      io.out(values.json ? terminalJson(r.value) : formatReport(r.value));
      return 0;
    } finally {
      await app.close();
    }
  },
};

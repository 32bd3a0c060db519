// `portwarden case …`: the abuse desk. Cases live in the running server (the
// engine runs there, with the spool and the relay its releases and notices
// need), so every subcommand asks it through the control socket; the server
// runs the cases.* operation as the Unix user named here, audited like any other
// change. Case text (evidence detail, notes, logins) is outside text: every line
// goes through visible(), JSON through terminalJson().
import { terminalJson, visible } from '../core/index.ts';
import { controlRequest, controlSocketPath, type CaseOp } from '../control/index.ts';
import type { ActiveAction, CaseDetail, CaseSummary } from '../abuse/index.ts';
import type { Command } from './commands.ts';
import { runSubcommand, type SubCtx, type Subcommand } from './subcommands.ts';
import { operatorActor } from './op.ts';

type Ctx = SubCtx;
type Sub = Subcommand;

const subs: Record<CaseOp, Sub> = {
  list: {
    usage: 'list [--state open|closed] [--subscriber S] [--limit N] [--json]   cases, newest first',
    options: ['state', 'subscriber', 'limit', 'json'],
    async run(ctx) {
      if (ctx.positionals.length) return usage(ctx, 'list');
      const { state, subscriber, limit } = ctx.values;
      if (state !== undefined && state !== 'open' && state !== 'closed') return usage(ctx, 'list');
      const n = limit === undefined ? undefined : Number(limit);
      if (n !== undefined && !(Number.isInteger(n) && n > 0)) return usage(ctx, 'list');
      const r = await ask<{ cases: CaseSummary[] }>(ctx, 'list', { state, subscriber, limit: n });
      if (!r.ok) return r.exit;
      ctx.io.out(ctx.json ? terminalJson(r.value.cases) : formatCases(r.value.cases));
      return 0;
    },
  },
  show: {
    usage: 'show CASE [--json]            one case: what is in force, evidence, timeline',
    options: ['json'],
    async run(ctx) {
      if (ctx.positionals.length !== 1) return usage(ctx, 'show');
      const c = await ask<CaseDetail>(ctx, 'show', { id: ctx.positionals[0] });
      if (!c.ok) return c.exit;
      ctx.io.out(ctx.json ? terminalJson(c.value) : formatCase(c.value));
      return 0;
    },
  },
  note: {
    usage: 'note CASE TEXT…               a desk note on the case timeline',
    options: ['json'],
    async run(ctx) {
      if (ctx.positionals.length < 2) return usage(ctx, 'note');
      return done(ctx, await ask<CaseSummary>(ctx, 'note', { id: ctx.positionals[0], text: ctx.positionals.slice(1).join(' ') }), 'noted');
    },
  },
  release: {
    usage: 'release CASE --reason TEXT    desk release: the previous policy back, accounts enabled',
    options: ['reason', 'json'],
    async run(ctx) {
      if (ctx.positionals.length !== 1 || typeof ctx.values.reason !== 'string' || !ctx.values.reason.trim()) return usage(ctx, 'release');
      return done(ctx, await ask<CaseSummary>(ctx, 'release', { id: ctx.positionals[0], reason: ctx.values.reason }), 'released');
    },
  },
  quarantine: {
    usage: 'quarantine SUBSCRIBER --reason TEXT [--duration 24h|90m|7d|SECONDS]   walled garden now (until released without --duration)',
    options: ['reason', 'duration', 'json'],
    async run(ctx) {
      if (ctx.positionals.length !== 1 || typeof ctx.values.reason !== 'string' || !ctx.values.reason.trim()) return usage(ctx, 'quarantine');
      const duration = ctx.values.duration === undefined ? undefined : parseDuration(String(ctx.values.duration));
      if (duration === null) { ctx.io.err(visible(`case quarantine: --duration takes 90m, 24h, 7d or seconds, not ${JSON.stringify(ctx.values.duration)}`)); return 2; }
      return done(ctx, await ask<CaseSummary>(ctx, 'quarantine', { subscriber: ctx.positionals[0], reason: ctx.values.reason, duration }), 'quarantined');
    },
  },
};

export const caseCommand: Command = {
  summary: 'abuse cases: list, show, note, release, quarantine',
  run: (argv, io) => runSubcommand('case', subs, { state: { type: 'string' }, subscriber: { type: 'string' }, limit: { type: 'string' }, reason: { type: 'string' }, duration: { type: 'string' } }, argv, io),
};

function usage(ctx: Ctx, name: CaseOp): number {
  ctx.io.err(`usage: portwarden case ${subs[name].usage}`);
  return 2;
}

/** "90m", "24h", "7d", "3600" → seconds; null when none of those. */
export function parseDuration(s: string): number | null {
  const m = /^(\d{1,7})([smhd]?)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

type Answer<T> = { ok: true; value: T } | { ok: false; exit: number };

/** The server's answer to cases.NAME, or the exit code after printing why not. */
async function ask<T>(ctx: Ctx, name: CaseOp, input: Record<string, unknown>): Promise<Answer<T>> {
  const path = controlSocketPath(ctx.dataDir);
  const clean = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const r = await controlRequest(path, { op: 'case', case: { name, input: clean }, user: userName() });
  if (!r) { ctx.io.err(`portwarden case ${name}: no server runs on ${ctx.dataDir} (no answer on ${path}); cases live in the running server`); return { ok: false, exit: 1 }; }
  if (!r.ok) {
    ctx.io.err(visible(`portwarden case ${name}: ${r.error.message} (${r.error.code})`));
    return { ok: false, exit: r.error.code === 'bad-request' ? 2 : 1 };
  }
  if (r.op !== 'case') { ctx.io.err(`portwarden case ${name}: unexpected answer (${r.op})`); return { ok: false, exit: 1 }; }
  return { ok: true, value: r.value as T };
}

/** The Unix user, when it is a plain name (the control socket takes no other); else the server's "control". */
function userName(): string | undefined {
  const n = operatorActor().name;
  return /^[A-Za-z0-9._-]{1,64}$/.test(n) && n !== 'unknown' ? n : undefined;
}

function done(ctx: Ctx, a: Answer<CaseSummary>, verb: string): number {
  if (!a.ok) return a.exit;
  const c = a.value;
  ctx.io.out(ctx.json ? terminalJson(c) : visible(`${c.id}: ${verb} (subscriber ${c.subscriber}, ${c.state}${c.active.length ? `, in force: ${c.active.map(act).join('; ')}` : ', nothing in force'})`));
  return 0;
}

const stamp = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
const act = (a: ActiveAction): string => `${a.action} by ${a.rule}${a.until === null ? ' until released' : ` until ${stamp(a.until)}`}`;

export function formatCases(list: CaseSummary[]): string {
  if (!list.length) return 'no cases';
  const rows = [['CASE', 'SUBSCRIBER', 'STATE', 'SCORE', 'OPENED (UTC)', 'IN FORCE'],
    ...list.map((c) => [c.id, c.subscriber, c.state, c.score.toFixed(1), stamp(c.openedAt), c.active.map(act).join('; ') || '-'])];
  const w = rows[0].map((_, i) => Math.min(40, Math.max(...rows.map((r) => r[i].length))));
  return rows.map((r) => visible(r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(w[i]))).join('  '))).join('\n');
}

export function formatCase(c: CaseDetail): string {
  const lines = [
    `case:        ${c.id}`,
    `subscriber:  ${c.subscriber}`,
    `state:       ${c.state} (opened ${stamp(c.openedAt)}${c.closedAt !== null ? `, closed ${stamp(c.closedAt)}` : ''})`,
    `score:       ${c.score.toFixed(1)} at ${stamp(c.scoreAt)}; last signal ${stamp(c.lastSignalAt)}`,
    `releases:    ${c.selfReleases} self, ${c.deskReleases} desk`,
    ...(c.active.length ? c.active.map((a) => `in force:    ${act(a)} (decision ${a.decision}, since ${stamp(a.at)})`) : ['in force:    nothing']),
    '', 'evidence:',
    ...c.evidence.map((e) => `  ${stamp(e.firstAt)} .. ${stamp(e.lastAt)}  ${e.class} ×${e.amount} (${e.count} signal${e.count === 1 ? '' : 's'}) from ${e.origin}`
      + `${e.address ? ` address ${e.address}${e.port !== null ? `:${e.port}` : ''}` : ''}${e.account ? ` account ${e.account}` : ''}`
      + `${Object.keys(e.detail).length ? ` ${JSON.stringify(e.detail)}` : ''}`),
    '', 'timeline:',
    ...c.timeline.map((t) => `  ${stamp(t.at)}  ${t.kind.padEnd(9)} ${t.actor}: ${t.text}`),
  ];
  return lines.map((l) => visible(l)).join('\n');
}

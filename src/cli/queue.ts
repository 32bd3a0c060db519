// `portwarden queue …`: Postfix's postqueue/postsuper for portwarden. Changes
// go through the running server's control socket (it owns the spool); list,
// show, stats and wait-empty read the spool directly when no server runs.
import { join } from 'node:path';
import { Spool, selectorProblem, type QueueActionResult, type QueueEntry, type SpoolStats } from '../spool/index.ts';
import { controlRequest, controlSocketPath, type ControlOp, type ControlRequest, type ControlResponse } from '../control/index.ts';
import { silentLogger, systemClock, terminalJson, visible } from '../core/index.ts';
import type { Command } from './commands.ts';
import { runSubcommand, type SubCtx, type Subcommand } from './subcommands.ts';
import { operatorActor, runOp, type CliApp } from './op.ts';

type Ctx = SubCtx;

type Sub = Subcommand;

const SELECT = 'ID…|ALL|--account A|--sender S';

const subs: Record<string, Sub> = {
  list: {
    usage: 'list [--json]                 every message, like postqueue -p (* active, ! held, # damaged)',
    options: ['json'],
    async run(ctx) {
      const messages = await viaServerOr(ctx, { op: 'list' }, async (spool) => (await local<{ messages: QueueEntry[] }>(spool, 'queue.list', {})).messages, (r) => (r.ok && r.op === 'list' ? r.messages : null));
      if (!messages) return 1;
      if (ctx.json) { ctx.io.out(terminalJson(messages)); return 0; }
      ctx.io.out(formatList(messages));
      return 0;
    },
  },
  show: {
    usage: 'show ID [--json]              envelope and header section of one message',
    options: ['json'],
    async run(ctx) {
      if (ctx.positionals.length !== 1) return usageError(ctx, 'show');
      const id = ctx.positionals[0];
      type Shown = { entry: QueueEntry; headers: string } | 'missing';
      const m = await viaServerOr<Shown>(ctx, { op: 'show', ids: [id] },
        async (spool) => {
          const r = await runOp<{ message: QueueEntry; headers: string }>(localApp(spool), 'queue.show', { id });
          if (!r.ok && (r.error.code === 'not-found' || r.error.code === 'bad-request')) return 'missing';
          if (!r.ok) throw r.error;
          return { entry: r.value.message, headers: r.value.headers };
        },
        (r) => (r.ok && r.op === 'show' ? { entry: r.message, headers: r.headers } : !r.ok && r.error.code === 'not-found' ? 'missing' : null));
      if (m === 'missing') { ctx.io.err(visible(`${id}: no such message in the queue`)); return 1; }
      if (!m) return 1;
      if (ctx.json) { ctx.io.out(terminalJson(m)); return 0; }
      ctx.io.out(formatShow(m.entry, m.headers));
      return 0;
    },
  },
  hold: {
    usage: `hold ${SELECT} [--reason TEXT]   keep from delivery until released (postsuper -h)`,
    options: ['account', 'sender', 'reason', 'json'],
    run: (ctx) => change(ctx, 'hold', 'held'),
  },
  release: {
    usage: `release ${SELECT}   back to delivery now (postsuper -H)`,
    options: ['account', 'sender', 'json'],
    run: (ctx) => change(ctx, 'release', 'released'),
  },
  delete: {
    usage: `delete ${SELECT}    remove for good (postsuper -d)`,
    options: ['account', 'sender', 'json'],
    run: (ctx) => change(ctx, 'delete', 'deleted'),
  },
  requeue: {
    usage: 'requeue ID…|ALL              deferred messages: retry schedule starts over, deliver now',
    options: ['json'],
    run: (ctx) => change(ctx, 'requeue', 'requeued'),
  },
  flush: {
    usage: 'flush                         deliver every deferred message now (postqueue -f)',
    options: [],
    async run(ctx) {
      if (ctx.positionals.length) return usageError(ctx, 'flush');
      const r = await serverOnly(ctx, { op: 'flush' });
      if (!r) return 1;
      ctx.io.out('flushed: deferred messages handed to delivery');
      return 0;
    },
  },
  stats: {
    usage: 'stats                         counts per state (and commits/fsyncs when a server runs)',
    options: [],
    async run(ctx) {
      const stats = await viaServerOr(ctx, { op: 'stats' }, async (spool) => local<SpoolStats>(spool, 'queue.stats', {}), (r) => (r.ok && r.op === 'stats' ? r.stats : null));
      if (!stats) return 1;
      ctx.io.out(JSON.stringify(stats));
      return 0;
    },
  },
  'wait-empty': {
    usage: 'wait-empty [--timeout SECS]   return when active and deferred are empty (benchmark drain)',
    options: ['timeout'],
    async run(ctx) {
      const timeout = Number(ctx.values.timeout ?? '300');
      // Number('abc') is NaN, and Date.now() > NaN never holds: that waited for ever.
      if (!(timeout > 0) || !Number.isFinite(timeout)) {
        ctx.io.err(`queue wait-empty: --timeout takes a number of seconds above 0, not ${JSON.stringify(ctx.values.timeout)}`);
        return usageError(ctx, 'wait-empty');
      }
      const deadline = Date.now() + timeout * 1000;
      for (;;) {
        const spool = await Spool.open(spoolDir(ctx), { recover: false });
        const stats = spool.stats();
        await spool.close();
        if (stats.active + stats.deferred === 0) return 0;
        if (Date.now() > deadline) { ctx.io.err(`queue not empty after ${timeout}s: ${JSON.stringify(stats)}`); return 1; }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  },
};

export const queueCommand: Command = {
  summary: 'the mail queue: list, show, hold, release, delete, requeue, flush, stats, wait-empty',
  run: (argv, io) => runSubcommand('queue', subs, { timeout: { type: 'string' }, account: { type: 'string' }, sender: { type: 'string' }, reason: { type: 'string' } }, argv, io),
};

const spoolDir = (ctx: Ctx): string => join(ctx.dataDir, 'spool');

function usageError(ctx: Ctx, name: string): number {
  ctx.io.err(`usage: portwarden queue ${subs[name].usage}`);
  return 2;
}

function reportError(ctx: Ctx, r: ControlResponse): null {
  if (!r.ok) ctx.io.err(`portwarden queue: ${r.error.message} (${r.error.code})`);
  else ctx.io.err(`portwarden queue: unexpected answer to the request (${r.op})`);
  return null;
}

/** No server: the read operations on the spool opened here (read-only; nothing is changed, so nothing is audited). */
const localApp = (spool: Spool): CliApp => ({
  deps: { clock: systemClock, logger: silentLogger, spool }, actor: operatorActor(), audit: { write: async () => {} },
});

async function local<T>(spool: Spool, name: string, input: Record<string, unknown>): Promise<T> {
  const r = await runOp<T>(localApp(spool), name, input);
  if (!r.ok) throw r.error;
  return r.value;
}

/** Asks the running server; with none, reads the spool itself (read-only). */
async function viaServerOr<T>(ctx: Ctx, req: ControlRequest, local: (spool: Spool) => Promise<T>, pick: (r: ControlResponse) => T | null): Promise<T | null> {
  const r = await controlRequest(controlSocketPath(ctx.dataDir), req);
  if (r) return pick(r) ?? reportError(ctx, r);
  const spool = await Spool.open(spoolDir(ctx), { recover: false });
  try {
    return await local(spool);
  } finally {
    await spool.close();
  }
}

async function serverOnly(ctx: Ctx, req: ControlRequest): Promise<ControlResponse | null> {
  const path = controlSocketPath(ctx.dataDir);
  const r = await controlRequest(path, req);
  if (!r) {
    ctx.io.err(`portwarden queue ${req.op}: no server runs on ${ctx.dataDir} (no answer on ${path}); the queue changes only through the server that owns it`);
    return null;
  }
  return r.ok ? r : reportError(ctx, r);
}

async function change(ctx: Ctx, op: ControlOp & ('hold' | 'release' | 'delete' | 'requeue'), verb: string): Promise<number> {
  const all = ctx.positionals.length === 1 && ctx.positionals[0] === 'ALL';
  const req: ControlRequest = { op, ...(all ? { all: true } : ctx.positionals.length ? { ids: ctx.positionals } : {}) };
  if (typeof ctx.values.account === 'string') req.account = ctx.values.account;
  if (typeof ctx.values.sender === 'string') req.sender = ctx.values.sender;
  if (typeof ctx.values.reason === 'string') req.reason = ctx.values.reason;
  const problem = selectorProblem(req);
  if (problem) { ctx.io.err(`queue ${op}: ${problem}\nusage: portwarden queue ${subs[op].usage}`); return 2; }
  const r = await serverOnly(ctx, req);
  if (!r || !r.ok || r.op !== op || !('result' in r)) return 1;
  const res: QueueActionResult = r.result;
  if (ctx.json) ctx.io.out(terminalJson(res));
  else {
    for (const id of res.done) ctx.io.out(visible(`${id}: ${verb}`));
    for (const s of res.skipped) ctx.io.out(visible(`${s.id}: skipped (${s.reason})`));
    for (const id of res.missing) ctx.io.err(visible(`${id}: no such message in the queue`));
    for (const f of res.failed) ctx.io.err(visible(`${f.id}: failed: ${f.error}`));
    ctx.io.out(`${verb} ${res.done.length} message(s)`);
  }
  return res.failed.length || res.missing.length ? 1 : 0;
}

const pad = (s: string, n: number): string => s.padEnd(n);
const stamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/**
 * postqueue -p's layout: id with a state mark, size, arrival, sender; a reason in parentheses; recipients below.
 * Senders, accounts, reasons and next-hop replies are outside text: each line goes through visible().
 */
export function formatList(messages: QueueEntry[]): string {
  if (!messages.length) return 'Mail queue is empty';
  const lines = [`${pad('-Queue ID-', 19)} ${'--Size--'} ${pad('-Arrival Time (UTC)', 19)}  -Sender/Recipient-------`];
  const indent = ' '.repeat(50);
  let bytes = 0;
  for (const m of messages) {
    bytes += m.size;
    const mark = m.state === 'active' ? '*' : m.state === 'hold' ? '!' : m.state === 'corrupt' ? '#' : ' ';
    const who = m.damaged ? '(damaged)' : `${m.sender || 'MAILER-DAEMON'}${m.account ? `  account=${m.account}` : ''}`;
    lines.push(`${m.id}${mark} ${String(m.size).padStart(8)} ${stamp(m.arrival)}  ${who}`);
    const why = m.damaged ?? m.holdReason ?? (m.state === 'deferred' ? m.lastReply : undefined);
    if (why) lines.push(`  (${why})`);
    for (const r of m.recipients) lines.push(`${indent}${r.address}  [${r.state}${r.reply && r.state !== 'done' ? `: ${r.reply}` : ''}]`);
    lines.push('');
  }
  lines.push(`-- ${Math.ceil(bytes / 1024)} Kbytes in ${messages.length} Request${messages.length === 1 ? '' : 's'}.`);
  return lines.map((l) => visible(l)).join('\n');
}

function formatShow(m: QueueEntry, headers: string): string {
  const lines = [
    `queue id:   ${m.id}`,
    `state:      ${m.state}${m.damaged ? ` (damaged: ${m.damaged})` : ''}`,
    `arrival:    ${new Date(m.arrival).toISOString()}`,
    `size:       ${m.size}`,
    `sender:     <${m.sender}>`,
    ...(m.account ? [`account:    ${m.account}`] : []),
    `attempts:   ${m.attempts}${m.nextAttemptAt ? `, next ${new Date(m.nextAttemptAt).toISOString()}` : ''}`,
    ...(m.lastReply ? [`last reply: ${m.lastReply}`] : []),
    ...(m.holdReason ? [`held:       ${m.holdReason}`] : []),
    ...m.recipients.map((r) => `recipient:  <${r.address}> ${r.state}${r.reply ? ` (${r.reply})` : ''}`),
  ].map((l) => visible(l));
  // The header section as queued, one field line per line; a folded line keeps its leading tab.
  const head = headers.replace(/\r\n$/, '').split('\r\n').map((l) => visible(l, { keepTabs: true }));
  return [...lines, '', ...head].join('\n').trimEnd();
}

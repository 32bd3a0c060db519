// /queue: the messages (queue.list, filtered here by state, account and
// sender), the counts (queue.stats), one message (queue.show: envelope,
// attributes and its header section shown as escaped text, never as HTML),
// and hold/release/delete/requeue of the selected ones, flush of the deferred.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import { allOf, facts, field, say, getPage, given, path, postAction, postForm, qs, run, shell, table, when, type Form, type View } from './kit.ts';
import { COMMON, QUEUE as T } from './texts.ts';

interface Entry {
  id: string; state: string; size: number; arrival: number; sender: string; account?: string;
  recipients: Array<{ address: string; state: string; reply?: string }>; attempts: number; nextAttemptAt?: number;
  lastReply?: string; holdReason?: string; damaged?: string;
}
interface Result { done: string[]; skipped: unknown[]; missing: string[]; failed: unknown[] }

const ACTIONS = ['hold', 'release', 'delete', 'requeue'] as const;
type Action = (typeof ACTIONS)[number];
const STATES = ['active', 'deferred', 'hold', 'corrupt'];
/** The newest this many matching messages are listed (a page of a large queue stays small; the filters narrow it). */
const SHOWN = 200;

const sender = (s: string): string => (s === '' ? T.nullSender : s);

function matches(m: Entry, q: Form): boolean {
  if (q.state && m.state !== q.state) return false;
  if (q.account && m.account !== q.account.trim().toLowerCase()) return false;
  return !q.sender || m.sender.toLowerCase().includes(q.sender.trim().toLowerCase());
}

/** The flash of the last action: its counts come back as numbers in the query, the action from a fixed list. */
function done(q: Form): Html | undefined {
  if (q.done === 'flush') return html`<p class="notice" role="status">${T.flushed}</p>`;
  if (!ACTIONS.includes(q.done as Action)) return undefined;
  const num = (s: string | undefined): number => (/^\d{1,9}$/.test(s ?? '') ? Number(s) : 0);
  return html`<p class="notice" role="status">${T.done(T.actions[q.done as Action], num(q.n), num(q.skipped), num(q.missing))}</p>`;
}

function actionButtons(): Html {
  return html`${ACTIONS.map((a) => html`<button type="submit" name="action" value="${a}"${a === 'delete' ? html` class="secondary"` : ''}>${T.actions[a]}</button> `)}`;
}

async function listPage(v: View): Promise<Html> {
  const q = v.query;
  const [list, stats] = await Promise.all([run<{ messages: Entry[] }>(v, 'queue.list', {}), run<Record<string, number>>(v, 'queue.stats', {})]);
  const chosen = new Set(v.failure?.form === 'act' ? allOf(v.failure.body, 'ids') : []);
  const found = list.messages.filter((m) => matches(m, q)).sort((a, b) => b.arrival - a.arrival);
  const rows = found.slice(0, SHOWN).map((m) => [
    html`<input type="checkbox" name="ids" value="${m.id}" id="sel-${m.id}" aria-label="${T.select(m.id)}"${chosen.has(m.id) ? html` checked` : ''}>`,
    html`<a href="${path('/queue', m.id)}">${m.id}</a>`, m.state, when(m.arrival), sender(m.sender), m.account ?? '',
    m.recipients.map((r) => r.address).join(', '), m.size, m.attempts, m.damaged ?? m.holdReason ?? m.lastReply ?? '']);
  const filter = { me: v.me };
  const s = stats;
  return shell(v, T.title, html`
${table(T.statsCaption, T.statsHeads, [[s.active, s.deferred, s.hold, s.corrupt, s.commits, s.fileSyncs, s.dirSyncs]])}
<section aria-labelledby="filter"><h2 id="filter">${T.filterTitle}</h2>
<form method="get" action="/queue" aria-label="${T.filterTitle}">
${field('f', 'state', filter, { value: q.state, options: [['', T.anyState], ...STATES.map((x) => [x, x] as const)] })}
${field('f', 'account', filter, { value: q.account, label: T.account })}${field('f', 'sender', filter, { value: q.sender, label: T.sender })}
<button type="submit">${COMMON.filter}</button></form></section>
<form method="post" action="/queue/act${q.state || q.account || q.sender ? `?${qs(given(q, 'state', 'account', 'sender'))}` : ''}" aria-label="${T.actionsTitle}">
<input type="hidden" name="_csrf" value="${v.me.csrf}">
${table(T.listCaption, T.heads, rows)}
${found.length > SHOWN ? html`<p class="muted">${T.shown(SHOWN, found.length)}</p>` : ''}
<h2>${T.actionsTitle}</h2>
${formErrorAct(v)}${field('act', 'reason', v, { label: COMMON.reason })}
${actionButtons()}</form>
<section aria-labelledby="flush"><h2 id="flush">${T.flushTitle}</h2>
${postForm('flush', '/queue/flush', v, field('flush', 'reason', v, { label: COMMON.reason }), T.flush)}</section>`, done(q));
}

function formErrorAct(v: View): Html {
  const f = v.failure;
  return f?.form === 'act' || f?.form === 'one' ? html`<p class="error" role="alert" id="act-error">${sayFailure(v)}</p>` : html``;
}

function sayFailure(v: View): string {
  const f = v.failure!;
  return say(f.error, v.me.role, `queue.${f.input.action}`);
}

async function messagePage(v: View): Promise<Html> {
  const id = (v.req.params as { id: string }).id;
  const { message: m, headers } = await run<{ message: Entry; headers: string }>(v, 'queue.show', { id });
  const attrs: Array<[string, string | number]> = [
    [T.state, m.state], [T.size, m.size], [T.arrival, when(m.arrival)], [T.account, m.account ?? ''], [T.attempts, m.attempts],
    [T.nextAttempt, m.nextAttemptAt === undefined ? '' : when(m.nextAttemptAt)], [T.lastReply, m.lastReply ?? ''],
    [T.holdReason, m.holdReason ?? ''], ...(m.damaged ? [[T.damaged, m.damaged] as [string, string]] : []),
  ];
  return shell(v, T.oneTitle(m.id), html`
<section aria-labelledby="env"><h2 id="env">${T.envelope}</h2>
${facts(T.envelope, [[T.sender, sender(m.sender)]])}
${table(T.recipients, T.recipientsHeads, m.recipients.map((r) => [r.address, r.state, r.reply ?? '']))}</section>
<section aria-labelledby="attrs"><h2 id="attrs">${T.attributes}</h2>
${facts(T.attributes, attrs)}</section>
<section aria-labelledby="hdr"><h2 id="hdr">${T.headers}</h2><pre>${headers}</pre></section>
<section aria-labelledby="one"><h2 id="one">${T.oneActions}</h2>
<form method="post" action="${path('/queue', m.id)}/act" aria-label="${T.oneActions}"><input type="hidden" name="_csrf" value="${v.me.csrf}">
${formErrorAct(v)}${field('one', 'reason', v, { label: COMMON.reason })}${actionButtons()}</form></section>`, done(v.query));
}

async function act(v: View, ids: string[], f: Form): Promise<Result> {
  const action = f.action as Action;
  if (!ACTIONS.includes(action)) throw new AppError('bad-request', T.noAction);
  if (!ids.length) throw new AppError('bad-request', T.noneSelected);
  return run<Result>(v, `queue.${action}`, { ids, ...given(f, 'reason') });
}

const counts = (f: Form, r: Result): Form => ({ done: f.action, n: String(r.done.length), skipped: String(r.skipped.length), missing: String(r.missing.length) });

export function queuePages(app: FastifyInstance, deps: ConsoleDeps): void {
  getPage(app, deps, '/queue', listPage);
  getPage(app, deps, '/queue/:id', messagePage);
  postAction(app, deps, '/queue/act', 'act', async (v, f, body) => {
    const r = await act(v, allOf(body, 'ids'), f);
    return `/queue?${qs({ ...given(v.query, 'state', 'account', 'sender'), ...counts(f, r) })}`;
  }, listPage);
  postAction(app, deps, '/queue/:id/act', 'one', async (v, f) => {
    const id = (v.req.params as { id: string }).id;
    const r = await act(v, [id], f);
    return `${f.action === 'delete' && r.done.length ? '/queue' : path('/queue', id)}?${qs(counts(f, r))}`;
  }, messagePage);
  postAction(app, deps, '/queue/flush', 'flush', async (v, f) => {
    await run(v, 'queue.flush', given(f, 'reason'));
    return '/queue?done=flush';
  }, listPage);
}

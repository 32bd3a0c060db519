// /cases: abuse cases by state and subscriber (cases.list), one case
// (cases.show: what is in force, the evidence in plain words, the score, the
// timeline of decisions, notices, notes and releases), and the desk's
// changes: a note, a release, a quarantine, each explained by a reason.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import { facts as factsTable, field, flash, getPage, given, intField, nextLink, path, postAction, postForm, run, shell, table, when, type Form, type View } from './kit.ts';
import { CASES as T, COMMON, EVIDENCE } from './texts.ts';

interface Active { decision: string; action: string; rule: string; at: number; until: number | null }
interface Summary {
  id: string; subscriber: string; state: 'open' | 'closed'; openedAt: number; closedAt: number | null; score: number; scoreAt: number;
  lastSignalAt: number | null; active: Active[]; selfReleases: number; deskReleases: number;
}
interface Evidence { class: string; address: string | null; port: number | null; account: string | null; origin: string; amount: number; count: number; firstAt: number; lastAt: number }
interface Detail extends Summary { evidence: Evidence[]; timeline: Array<{ at: number; kind: string; actor: string; text: string }> }

const STATES: ReadonlyArray<readonly [string, string]> = [['open', T.open], ['closed', T.closed], ['', T.any]];
const score = (x: number): string => x.toFixed(1);
const caseLink = (id: string): Html => html`<a href="${path('/cases', id)}">${id}</a>`;

async function listPage(v: View): Promise<Html> {
  const q: Form = { state: 'open', ...v.query };
  const r = await run<{ cases: Summary[]; next?: string }>(v, 'cases.list', { ...given(q, 'state', 'subscriber', 'after'), limit: 50 });
  const rows = r.cases.map((c) => [caseLink(c.id), html`<a href="${path('/subscribers', c.subscriber)}">${c.subscriber}</a>`, c.state,
    when(c.openedAt), score(c.score), c.active.map((a) => a.action).join(', ') || '—']);
  const filter = { me: v.me };
  return shell(v, T.title, html`
<section aria-labelledby="filter"><h2 id="filter">${T.filterTitle}</h2>
<form method="get" action="/cases" aria-label="${T.filterTitle}">
${field('f', 'state', filter, { value: q.state, options: STATES })}${field('f', 'subscriber', filter, { value: q.subscriber })}
<button type="submit">${COMMON.filter}</button></form></section>
${table(T.listCaption, T.heads, rows)}
${nextLink('/cases', q, r.next)}
<section aria-labelledby="q"><h2 id="q">${T.quarantineTitle}</h2>
${postForm('quarantine', '/cases/quarantine', v, [
    field('quarantine', 'subscriber', v, { required: true }), field('quarantine', 'duration', v, { label: T.durationHours }),
    field('quarantine', 'reason', v, { label: COMMON.reasonCase, required: true }),
  ], T.quarantine)}</section>`, flash(v, T.done));
}

/** One line per evidence row, in words: what, from where (address, port, account). */
function evidenceRow(e: Evidence): Array<string> {
  const where = T.where(e.address, e.port, e.account);
  const words = EVIDENCE[e.class]?.(e.amount, e.count, where) ?? T.otherEvidence(e.class, e.amount, where);
  return [words, e.origin, when(e.firstAt), when(e.lastAt)];
}

async function casePage(v: View): Promise<Html> {
  const c = await run<Detail>(v, 'cases.show', { id: (v.req.params as { id: string }).id });
  const base = path('/cases', c.id);
  const facts: Array<[string, Html | string]> = [
    [T.subscriber, html`<a href="${path('/subscribers', c.subscriber)}">${c.subscriber}</a>`], [T.state, c.state], [T.opened, when(c.openedAt)],
    ...(c.closedAt !== null ? [[T.closedAt, when(c.closedAt)] as [string, string]] : []),
    [T.score, `${score(c.score)} (${when(c.scoreAt)})`], [T.lastSignal, when(c.lastSignalAt)], [T.releases, `${c.selfReleases} / ${c.deskReleases}`],
  ];
  const active = c.active.map((a) => [a.decision, a.action, a.rule, when(a.at), a.until === null ? T.untilReleased : when(a.until)]);
  const timeline = c.timeline.map((t, i) => ({ t, i })).sort((a, b) => b.t.at - a.t.at || b.i - a.i).map(({ t }) => [when(t.at), t.kind, t.actor, t.text]);
  return shell(v, T.oneTitle(c.id), html`
<section aria-labelledby="facts"><h2 id="facts">${T.facts}</h2>${factsTable(T.facts, facts)}</section>
<section aria-labelledby="force"><h2 id="force">${T.inForce}</h2>${table(T.inForce, T.activeHeads, active, T.nothingInForce)}
${c.active.length || v.failure?.form === 'release' ? html`<h3>${T.releaseTitle}</h3><p class="muted">${T.releaseHint}</p>
${postForm('release', `${base}/release`, v, field('release', 'reason', v, { label: COMMON.reasonCase, required: true }), T.release)}` : ''}</section>
<section aria-labelledby="ev"><h2 id="ev">${T.evidence}</h2>${table(T.evidence, T.evidenceHeads, c.evidence.map(evidenceRow))}</section>
<section aria-labelledby="tl"><h2 id="tl">${T.timeline}</h2>${table(T.timeline, T.timelineHeads, timeline)}</section>
<section aria-labelledby="note"><h2 id="note">${T.noteTitle}</h2>
${postForm('note', `${base}/note`, v, field('note', 'text', v, { textarea: true, required: true }), T.note)}</section>`, flash(v, T.done));
}

export function casePages(app: FastifyInstance, deps: ConsoleDeps): void {
  const id = (v: View): string => (v.req.params as { id: string }).id;
  getPage(app, deps, '/cases', listPage);
  getPage(app, deps, '/cases/:id', casePage);
  postAction(app, deps, '/cases/quarantine', 'quarantine', async (v, f) => {
    const hours = intField(f, 'duration');
    if (hours !== undefined && (hours < 1 || hours > 365 * 24)) throw new AppError('invalid-value', T.durationRange, { field: 'duration' });
    const c = await run<Summary>(v, 'cases.quarantine', {
      subscriber: f.subscriber?.trim() ?? '', reason: f.reason?.trim() ?? '', ...(hours !== undefined ? { duration: hours * 3600 } : {}),
    });
    return `${path('/cases', c.id)}?done=quarantined`;
  }, listPage);
  postAction(app, deps, '/cases/:id/note', 'note', async (v, f) => {
    await run(v, 'cases.note', { id: id(v), text: f.text?.trim() ?? '' });
    return `${path('/cases', id(v))}?done=note`;
  }, casePage);
  postAction(app, deps, '/cases/:id/release', 'release', async (v, f) => {
    await run(v, 'cases.release', { id: id(v), reason: f.reason?.trim() ?? '' });
    return `${path('/cases', id(v))}?done=released`;
  }, casePage);
}

// /subscribers: the subscribers (subscribers.list), who held an address at a
// time (addresses.who), a subscriber's directory record created or changed
// (subscribers.put), and one subscriber (subscribers.show: accounts, tier,
// contacts, the addresses held now and their history from addresses.history),
// with addresses assigned (addresses.assign) and ended (addresses.end).
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import {
  attempt, facts, field, flash, getPage, given, intField, listOf, nextLink, path, postAction, postForm, run, say, shell, table, timeField, when, type View,
} from './kit.ts';
import { COMMON, FIELDS, SUBSCRIBERS as T } from './texts.ts';

interface Assignment { id: number; subscriber: string; prefix: string; portLo: number | null; portHi: number | null; start: number; end: number | null; source: string; session: string | null }
interface Subscriber {
  id: string; tiers: string[]; accounts: string[]; status: string;
  directory?: { record: { tier: string; contacts: string[]; access: string[] } | null; current: Assignment[] };
}

const subLink = (id: string): Html => html`<a href="${path('/subscribers', id)}">${id}</a>`;
const ports = (a: Assignment): string => (a.portLo === null ? '' : `${a.portLo}–${a.portHi}`);

async function whoSection(v: View): Promise<Html> {
  const q = v.query;
  const form = html`<form method="get" action="/subscribers" aria-label="${T.whoTitle}">
${field('who', 'address', { me: v.me }, { value: q.address })}${field('who', 'at', { me: v.me }, { value: q.at, label: T.whoAt, type: 'datetime-local' })}
<button type="submit">${T.who}</button></form>`;
  if (!q.address) return form;
  const at = await attempt((async () => timeField(q, 'at'))());
  const r = at.ok ? await attempt(run<{ holders: Array<{ assignment: Assignment }> }>(v, 'addresses.who', { address: q.address.trim(), ...(at.value !== undefined ? { at: at.value } : {}) })) : at;
  if (!r.ok) return html`${form}<p class="error" role="alert">${say(r.error, v.me.role)}</p>`;
  const rows = r.value.holders.map(({ assignment: a }) => [subLink(a.subscriber), a.prefix, ports(a), when(a.start), a.end === null ? T.stillHeld : when(a.end), a.source]);
  return html`${form}${table(T.whoTitle, T.whoHeads, rows, T.whoNone)}`;
}

async function listPage(v: View): Promise<Html> {
  const r = await run<{ subscribers: Subscriber[]; next?: string }>(v, 'subscribers.list', { ...given(v.query, 'after'), limit: 50 });
  const rows = r.subscribers.map((s) => [subLink(s.id), s.tiers.join(', '), s.accounts.join(', '), s.status]);
  return shell(v, T.title, html`
<section aria-labelledby="who"><h2 id="who">${T.whoTitle}</h2>${await whoSection(v)}</section>
${table(T.listCaption, T.heads, rows)}
${nextLink('/subscribers', given(v.query, 'after'), r.next)}
<section aria-labelledby="put"><h2 id="put">${T.putTitle}</h2>${putForm(v, '/subscribers')}</section>`, flash(v, T.done));
}

function putForm(v: View, action: string, s?: Subscriber): Html {
  const rec = s?.directory?.record;
  return postForm('put', action, v, [
    s ? html`` : field('put', 'id', v, { required: true }),
    field('put', 'tier', v, { value: rec?.tier }), field('put', 'contacts', v, { value: rec?.contacts.join(', '), hint: T.contactsHint }),
    field('put', 'access', v, { value: rec?.access.join(', '), hint: T.accessHint }), field('put', 'reason', v, { label: COMMON.reason }),
  ], T.put);
}

function addressRows(list: Assignment[], v: View, endable: boolean): Array<Array<Html | string>> {
  return list.map((a) => [a.prefix, ports(a), when(a.start), a.end === null ? T.stillHeld : when(a.end), a.source, a.session ?? '',
    ...(endable ? [postForm(`end-${a.id}`, `${path('/subscribers', a.subscriber)}/end`, v, html`<input type="hidden" name="prefix" value="${a.prefix}">
<input type="hidden" name="source" value="${a.source}">${a.session ? html`<input type="hidden" name="session" value="${a.session}">` : ''}`, T.endAction, { inline: true, secondary: true })] : [])]);
}

async function subscriberPage(v: View): Promise<Html> {
  const s = await run<Subscriber>(v, 'subscribers.show', { id: (v.req.params as { id: string }).id });
  const d = s.directory;
  const history = d ? await attempt(run<{ assignments: Assignment[] }>(v, 'addresses.history', { subscriber: s.id, limit: 100 })) : undefined;
  const base = path('/subscribers', s.id);
  const rec = d?.record;
  const endErr = v.failure?.form.startsWith('end-') ? html`<p class="error" role="alert">${say(v.failure.error, v.me.role)}</p>` : '';
  return shell(v, T.oneTitle(s.id), html`
<section aria-labelledby="rec"><h2 id="rec">${T.record}</h2>
${!d ? html`<p>${T.noDirectory}</p>` : rec ? facts(T.record, [[FIELDS.tier, rec.tier], [T.contactsLabel, rec.contacts.join(', ') || COMMON.none],
    [T.accessLabel, rec.access.join(', ') || COMMON.none]]) : html`<p>${T.noRecord}</p>`}
${facts(T.accounts, [[T.statusLabel, s.status], [T.tiersLabel, s.tiers.join(', ') || COMMON.none]])}
${d ? putForm(v, base, s) : ''}</section>
<section aria-labelledby="acc"><h2 id="acc">${T.accounts}</h2>
${s.accounts.length ? html`<ul>${s.accounts.map((a) => html`<li><a href="${path('/accounts', a)}">${a}</a></li>`)}</ul>` : html`<p>${COMMON.none}</p>`}</section>
${d ? html`<section aria-labelledby="cur"><h2 id="cur">${T.current}</h2>${endErr}${table(T.current, [...T.addrHeads, T.endAction], addressRows(d.current, v, true))}
<h3>${T.assignTitle}</h3>${postForm('assign', `${base}/assign`, v, [
    field('assign', 'prefix', v, { required: true }), field('assign', 'portLo', v, { type: 'number' }), field('assign', 'portHi', v, { type: 'number' }),
    field('assign', 'start', v, { type: 'datetime-local', hint: T.startHint }), field('assign', 'reason', v, { label: COMMON.reason }),
  ], T.assign)}</section>
<section aria-labelledby="hist"><h2 id="hist">${T.history}</h2>
${history?.ok ? table(T.history, T.addrHeads, addressRows(history.value.assignments, v, false)) : html`<p class="muted">${history ? say(history.error, v.me.role) : ''}</p>`}</section>` : ''}`,
  flash(v, T.done));
}

export function subscriberPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const id = (v: View): string => (v.req.params as { id: string }).id;
  const put = async (v: View, sid: string, f: Record<string, string>): Promise<string> => {
    const rec = await run<{ id: string }>(v, 'subscribers.put', {
      id: sid, ...given(f, 'tier', 'reason'),
      ...(f.contacts !== undefined ? { contacts: listOf(f.contacts) } : {}), ...(f.access !== undefined ? { access: listOf(f.access) } : {}),
    });
    return `${path('/subscribers', rec.id)}?done=put`;
  };
  getPage(app, deps, '/subscribers', listPage);
  getPage(app, deps, '/subscribers/:id', subscriberPage);
  postAction(app, deps, '/subscribers', 'put', (v, f) => put(v, f.id ?? '', f), listPage);
  postAction(app, deps, '/subscribers/:id', 'put', (v, f) => put(v, id(v), f), subscriberPage);
  postAction(app, deps, '/subscribers/:id/assign', 'assign', async (v, f) => {
    const start = timeField(f, 'start');
    const lo = intField(f, 'portLo'), hi = intField(f, 'portHi');
    await run(v, 'addresses.assign', {
      subscriber: id(v), prefix: f.prefix?.trim() ?? '', ...given(f, 'reason'),
      ...(lo !== undefined ? { portLo: lo } : {}), ...(hi !== undefined ? { portHi: hi } : {}), ...(start !== undefined ? { start } : {}),
    });
    return `${path('/subscribers', id(v))}?done=assigned`;
  }, subscriberPage);
  postAction(app, deps, '/subscribers/:id/end', 'end-', async (v, f) => {
    await run(v, 'addresses.end', { subscriber: id(v), ...given(f, 'prefix', 'source', 'session') });
    return `${path('/subscribers', id(v))}?done=ended`;
  }, subscriberPage);
}

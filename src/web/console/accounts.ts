// /accounts: find accounts (accounts.list with its filters and keyset pages),
// create one (accounts.add), and one account's page (accounts.show, with the
// limits in effect and their live state from limits.show): disable, enable,
// a new password, sender addresses added and removed.
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import {
  attempt, facts as factsTable, field, flash, getPage, given, listOf, nextLink, path, postAction, postForm, run, say, shell, table, when, type View,
} from './kit.ts';
import { ACCOUNTS as T, COMMON, FIELDS } from './texts.ts';

interface Account {
  login: string; subscriber: string; status: 'active' | 'disabled'; disabledReason: string | null; tier: string;
  addresses: string[]; scheme: string; scram: boolean; createdAt: number; updatedAt: number;
}
interface Rule { id: string; name?: string; counts: string; limit: number; per: string | number; burst: number; action: string; remaining?: number; resetMs?: number }

const STATUS: ReadonlyArray<readonly [string, string]> = [['', T.anyStatus], ['active', T.active], ['disabled', T.disabled]];
const accountLink = (login: string): Html => html`<a href="${path('/accounts', login)}">${login}</a>`;
const statusOf = (a: Account): Html => html`<span class="${a.status === 'active' ? 'ok' : 'bad'}">${a.status === 'active' ? T.active : T.disabled}</span>`;

async function listPage(v: View): Promise<Html> {
  const q = v.query;
  // One login asked for: that account alone (or its refusal in words), else a page of the filtered list.
  const one = q.login?.trim() ? await attempt(run<Account>(v, 'accounts.show', { login: q.login.trim() })) : undefined;
  const r = one ? { accounts: one.ok ? [one.value] : [] } as { accounts: Account[]; next?: string }
    : await run<{ accounts: Account[]; next?: string }>(v, 'accounts.list', { ...given(q, 'subscriber', 'status', 'after'), limit: 50 });
  const rows = r.accounts.map((a) => [accountLink(a.login), html`<a href="${path('/subscribers', a.subscriber)}">${a.subscriber}</a>`, a.tier, statusOf(a), when(a.createdAt)]);
  const find = { failure: undefined, me: v.me };
  return shell(v, T.title, html`
<section aria-labelledby="find"><h2 id="find">${T.filterTitle}</h2>
<form method="get" action="/accounts" aria-label="${T.filterTitle}">
${field('find', 'login', find, { value: q.login, hint: T.loginHint })}${field('find', 'subscriber', find, { value: q.subscriber })}${field('find', 'status', find, { value: q.status, options: STATUS })}
${field('find', 'after', find, { value: q.after, label: T.afterLogin })}
<button type="submit">${COMMON.filter}</button></form></section>
${one && !one.ok ? html`<p class="error" role="alert">${say(one.error, v.me.role)}</p>` : ''}
${table(T.listCaption, T.heads, rows)}
${nextLink('/accounts', q, r.next)}
<section aria-labelledby="create"><h2 id="create">${T.createTitle}</h2>
${postForm('create', '/accounts', v, [
    field('create', 'login', v, { required: true }), field('create', 'password', v, { type: 'password', required: true, hint: T.passwordHint }),
    field('create', 'subscriber', v, { hint: T.subscriberHint }), field('create', 'tier', v),
    field('create', 'addresses', v, { hint: T.addressesHint }),
  ], T.create)}</section>`, flash(v, T.done));
}

function limitsSection(r: Awaited<ReturnType<typeof attempt<{ rules: Rule[] }>>>, v: View): Html {
  if (!r.ok) return html`<p class="muted">${T.limitsUnavailable}${say(r.error, v.me.role)}</p>`;
  const rows = r.value.rules.map((x) => [x.name ?? x.id, x.counts, x.limit, String(x.per), x.burst, x.action,
    x.remaining ?? '—', x.resetMs === undefined ? '—' : x.resetMs === 0 ? T.fullNow : `${Math.ceil(x.resetMs / 1000)} s`]);
  return table(T.limits, T.limitsHeads, rows);
}

async function accountPage(v: View): Promise<Html> {
  const login = (v.req.params as { login: string }).login;
  const a = await run<Account>(v, 'accounts.show', { login });
  const limits = await attempt(run<{ rules: Rule[] }>(v, 'limits.show', { login: a.login }));
  const base = path('/accounts', a.login);
  const facts: Array<[string, Html | string]> = [
    [T.statusOf, statusOf(a)], ...(a.disabledReason ? [[T.disabledBecause, a.disabledReason] as [string, string]] : []),
    [FIELDS.subscriber, html`<a href="${path('/subscribers', a.subscriber)}">${a.subscriber}</a>`], [FIELDS.tier, a.tier],
    [T.scheme, a.scheme], [T.scram, a.scram ? COMMON.yes : COMMON.no], [T.created, when(a.createdAt)], [T.updated, when(a.updatedAt)],
  ];
  const aliases = a.addresses.map((x) => [x, postForm(`alias-remove-${x}`, `${base}/aliases/remove`, v,
    html`<input type="hidden" name="address" value="${x}">`, T.aliasRemove, { inline: true, secondary: true })]);
  const toggle = a.status === 'active'
    ? postForm('disable', `${base}/disable`, v, field('disable', 'reason', v, { label: COMMON.reason }), T.disable)
    : postForm('enable', `${base}/enable`, v, field('enable', 'reason', v, { label: COMMON.reason }), T.enable);
  return shell(v, T.oneTitle(a.login), html`
<section aria-labelledby="facts"><h2 id="facts">${T.facts}</h2>${factsTable(T.facts, facts)}</section>
<section aria-labelledby="toggle"><h2 id="toggle">${a.status === 'active' ? T.disableTitle : T.enableTitle}</h2>${toggle}</section>
<section aria-labelledby="aliases"><h2 id="aliases">${T.aliases}</h2>
${aliases.length ? table(T.aliases, [FIELDS.address, T.aliasRemove], aliases) : html`<p>${T.aliasesNone}</p>`}
${formErrorOfRemove(v)}
${postForm('alias-add', `${base}/aliases/add`, v, field('alias-add', 'address', v, { required: true, hint: T.addressesHint }), T.aliasAdd)}</section>
<section aria-labelledby="limits"><h2 id="limits">${T.limits}</h2>${limitsSection(limits, v)}</section>
<section aria-labelledby="passwd"><h2 id="passwd">${T.passwdTitle}</h2>
${postForm('passwd', `${base}/password`, v, field('passwd', 'password', v, { type: 'password', required: true, label: T.newPassword, hint: T.passwordHint }), T.passwd)}</section>`,
  flash(v, T.done));
}

/** A refused removal of one address (its form is a button in the table): the error under the table. */
function formErrorOfRemove(v: View): Html {
  const f = v.failure;
  return f?.form.startsWith('alias-remove-') ? html`<p class="error" role="alert">${say(f.error, v.me.role)}</p>` : html``;
}

export function accountPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const login = (v: View): string => (v.req.params as { login: string }).login;
  const back = (v: View, done: string): string => `${path('/accounts', login(v))}?done=${done}`;
  getPage(app, deps, '/accounts', listPage);
  getPage(app, deps, '/accounts/:login', accountPage);
  postAction(app, deps, '/accounts', 'create', async (v, f) => {
    const addresses = listOf(f.addresses);
    const a = await run<Account>(v, 'accounts.add', { login: f.login ?? '', password: f.password ?? '', ...given(f, 'subscriber', 'tier'), ...(addresses.length ? { addresses } : {}) });
    return `${path('/accounts', a.login)}?done=added`;
  }, listPage);
  postAction(app, deps, '/accounts/:login/disable', 'disable', async (v, f) => {
    await run(v, 'accounts.disable', { login: login(v), ...given(f, 'reason') });
    return back(v, 'disabled');
  }, accountPage);
  postAction(app, deps, '/accounts/:login/enable', 'enable', async (v, f) => {
    await run(v, 'accounts.enable', { login: login(v), ...given(f, 'reason') });
    return back(v, 'enabled');
  }, accountPage);
  postAction(app, deps, '/accounts/:login/password', 'passwd', async (v, f) => {
    await run(v, 'accounts.passwd', { login: login(v), password: f.password ?? '' });
    return back(v, 'passwd');
  }, accountPage);
  postAction(app, deps, '/accounts/:login/aliases/add', 'alias-add', async (v, f) => {
    await run(v, 'accounts.alias.add', { login: login(v), address: (f.address ?? '').trim() });
    return back(v, 'aliasAdded');
  }, accountPage);
  postAction(app, deps, '/accounts/:login/aliases/remove', 'alias-remove-', async (v, f) => {
    const r = await run<{ done: boolean }>(v, 'accounts.alias.remove', { login: login(v), address: f.address ?? '' });
    return back(v, r.done ? 'aliasRemoved' : 'aliasMissing');
  }, accountPage);
}

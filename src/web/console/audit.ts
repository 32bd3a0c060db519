// /audit: the audit log (audit.list) filtered by actor, action (or an area
// ending in "."), object, outcome and a time range, newest first, in keyset
// pages. Every value shown is the record's text, escaped.
import type { FastifyInstance } from 'fastify';
import { html, type Html } from '../html.ts';
import type { ConsoleDeps } from '../types.ts';
import { attempt, field, getPage, given, nextLink, run, say, shell, table, timeField, when, type View } from './kit.ts';
import { AUDIT as T, COMMON } from './texts.ts';

interface Row { id: number; at: number; actorKind: string; actor: string; from: string; action: string; object: string; reason: string; outcome: string; detail: string }

async function query(v: View): Promise<{ entries: Row[]; next?: number }> {
  const q = v.query;
  const since = timeField(q, 'since'), until = timeField(q, 'until');
  const after = /^\d{1,15}$/.test(q.after ?? '') ? Number(q.after) : undefined;
  return run(v, 'audit.list', {
    ...given(q, 'actor', 'action', 'object', 'outcome'), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    ...(after ? { after } : {}), limit: 50,
  });
}

async function auditPage(v: View): Promise<Html> {
  const q = v.query;
  const r = await attempt(query(v));
  // A refused filter is shown beside its field, with what was typed.
  const fv = { me: v.me, failure: r.ok ? undefined : { form: 'f', error: r.error, input: q } };
  const rows = r.ok ? r.value.entries.map((e) => [when(e.at), `${e.actorKind}:${e.actor}`, e.from, e.action, e.object, e.reason,
    html`<span class="${e.outcome === 'ok' ? 'ok' : 'bad'}">${e.outcome}</span>`, html`<code>${e.detail}</code>`]) : [];
  const filters = given(q, 'actor', 'action', 'object', 'outcome', 'since', 'until');
  return shell(v, T.title, html`
<section aria-labelledby="filter"><h2 id="filter">${T.filterTitle}</h2>
<form method="get" action="/audit" aria-label="${T.filterTitle}">
${field('f', 'actor', fv, { value: q.actor })}${field('f', 'action', fv, { value: q.action, hint: T.actionHint })}
${field('f', 'object', fv, { value: q.object })}${field('f', 'outcome', fv, { value: q.outcome, hint: T.outcomeHint })}
${field('f', 'since', fv, { value: q.since, type: 'datetime-local', hint: T.timeHint })}${field('f', 'until', fv, { value: q.until, type: 'datetime-local', hint: T.timeHint })}
<button type="submit">${COMMON.filter}</button></form>
${r.ok || fv.failure?.input[String(r.error.detail?.field ?? '')] !== undefined ? '' : html`<p class="error" role="alert">${say(r.error, v.me.role)}</p>`}</section>
${table(T.listCaption, T.heads, rows)}
${nextLink('/audit', { ...filters, ...given(q, 'after') }, r.ok ? r.value.next : undefined)}`);
}

export function auditPages(app: FastifyInstance, deps: ConsoleDeps): void {
  getPage(app, deps, '/audit', auditPage);
}

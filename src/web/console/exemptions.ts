// The desk's review queue of port-25 exemption requests (issue 13 §4, §7):
// each pending request with its automatic checks, a grant for N days and a
// refusal with a reason; below, the latest decided ones. Every decision is an
// operation run as the signed-in member of staff (runAs: role check, audit).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExemptionRequest } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import { consolePage } from './shell.ts';
import { seeOther, sendPage } from '../respond.ts';
import { runAs } from '../run.ts';
import { errorText, field, query, when } from '../form.ts';
import type { ConsoleDeps, StaffPrincipal } from '../types.ts';
import { EXEMPTION_DESK_TEXTS as T } from './exemptions-texts.ts';

interface Refusal { id: number; form: 'grant' | 'refuse'; text: string; days: string; reason: string }

function checks(r: ExemptionRequest): Html {
  return html`<ul>${r.checks.map((c) => html`<li><span class="${c.result === 'pass' ? 'ok' : c.result === 'fail' ? 'bad' : 'muted'}">${T.names[c.name] ?? c.name}: ${T.results[c.result] ?? c.result}</span> — ${c.why}</li>`)}</ul>`;
}

function decisionForms(p: StaffPrincipal, r: ExemptionRequest, err: Refusal | null, defaultDays: number): Html {
  const mine = err && err.id === r.id ? err : null;
  const msg = (f: 'grant' | 'refuse') => (mine && mine.form === f ? html`<p class="error" role="alert" id="err-${f}-${r.id}">${T.failed} ${mine.text}</p>` : '');
  const aria = (f: 'grant' | 'refuse') => (mine && mine.form === f ? html` aria-invalid="true" aria-describedby="err-${f}-${r.id}"` : '');
  return html`<form method="post" action="/exemptions/${r.id}/grant">
<input type="hidden" name="_csrf" value="${p.csrf}">${msg('grant')}
<label for="days-${r.id}">${T.days}</label><input id="days-${r.id}" name="days" type="number" min="1" required value="${mine?.form === 'grant' ? mine.days : String(defaultDays)}"${aria('grant')}>
<label for="grant-reason-${r.id}">${T.grantReason}</label><input id="grant-reason-${r.id}" name="reason" required maxlength="500" value="${mine?.form === 'grant' ? mine.reason : ''}"${aria('grant')}>
<p><button type="submit">${T.grant}</button></p></form>
<form method="post" action="/exemptions/${r.id}/refuse">
<input type="hidden" name="_csrf" value="${p.csrf}">${msg('refuse')}
<label for="refuse-reason-${r.id}">${T.refuseReason}</label><input id="refuse-reason-${r.id}" name="reason" required maxlength="500" value="${mine?.form === 'refuse' ? mine.reason : ''}"${aria('refuse')}>
<p><button class="secondary" type="submit">${T.refuse}</button></p></form>`;
}

export function exemptionDeskPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const defaultDays = Math.min(90, deps.app.exemptions?.settings.maxDays ?? 90);

  const render = async (req: FastifyRequest, reply: FastifyReply, p: StaffPrincipal, err: Refusal | null, status = 200, flash?: Html) => {
    const pending = (await runAs<{ requests: ExemptionRequest[] }>(deps, p, req.ip, 'exemptions.requests.list', { state: 'pending', limit: 200 })).requests.reverse();
    const all = (await runAs<{ requests: ExemptionRequest[] }>(deps, p, req.ip, 'exemptions.requests.list', { limit: 50 })).requests.filter((r) => r.state !== 'pending');
    const c = T.cols;
    const main = html`<p>${T.intro}</p>
<h2>${T.queue}</h2>
${pending.length ? pending.map((r) => html`<section aria-labelledby="req-${r.id}"><h3 id="req-${r.id}">${c.id} ${r.id}: ${r.prefix} (${r.subscriber})${r.renewal ? html` — ${T.renewal}` : ''}</h3>
<dl><dt>${c.account}</dt><dd>${r.account || '—'}</dd><dt>${c.server}</dt><dd>${r.server}</dd><dt>${c.reason}</dt><dd>${r.reason}</dd><dt>${c.asked}</dt><dd>${when(r.createdAt)}</dd>
${r.expiresAt ? html`<dt>${c.until}</dt><dd>${when(r.expiresAt)}</dd>` : ''}</dl>
<h4>${T.checks}</h4>${checks(r)}
${decisionForms(p, r, err, defaultDays)}</section>`) : html`<p>${T.queueEmpty}</p>`}
<h2>${T.recent}</h2>
<table><caption>${T.recentCaption}</caption><thead><tr>${[c.id, c.subscriber, c.address, c.server, c.state, c.until, c.decision].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${all.map((r) => html`<tr><td>${r.id}</td><td>${r.subscriber}</td><td>${r.prefix}</td><td>${r.server}</td><td>${r.state}</td><td>${when(r.expiresAt)}</td><td>${r.decisionReason ?? ''}${r.decidedBy ? html` <span class="muted">(${r.decidedBy})</span>` : ''}</td></tr>`)}</tbody></table>`;
    const m = query(req, 'm'), id = Number(query(req, 'id')) || 0;
    const f = flash ?? (m === 'granted' ? html`<p class="notice" role="status">${T.granted(id)}</p>` : m === 'refused' ? html`<p class="notice" role="status">${T.refused(id)}</p>` : undefined);
    return sendPage(reply, { status, body: consolePage(p, { title: T.title, path: '/exemptions', flash: f, main }).body });
  };

  app.get('/exemptions', async (req, reply) => {
    const p = await deps.gate.current(req);
    if (!p) return seeOther(reply, '/signin');
    return render(req, reply, p, null);
  });

  for (const form of ['grant', 'refuse'] as const) {
    app.post<{ Params: { id: string } }>(`/exemptions/:id/${form}`, async (req, reply) => {
      const p = await deps.gate.current(req);
      if (!p) return seeOther(reply, '/signin');
      if (!deps.gate.csrfOk(req, p, field(req, '_csrf', 200))) return render(req, reply, p, null, 403, html`<p class="error" role="alert">${T.badForm}</p>`);
      const id = /^\d{1,12}$/.test(req.params.id) ? Number(req.params.id) : 0;
      const days = field(req, 'days', 12).trim(), reason = field(req, 'reason', 500).trim();
      try {
        if (!reason) throw new Error('reason');
        const input = form === 'grant' ? { id, days: /^\d{1,5}$/.test(days) ? Number(days) : -1, reason } : { id, reason };
        await runAs(deps, p, req.ip, `exemptions.${form}`, input);
      } catch (e) {
        const text = !reason ? (form === 'grant' ? T.grantReason : T.refuseReason) : errorText(e);
        return render(req, reply, p, { id, form, text, days, reason }, 400);
      }
      return seeOther(reply, `/exemptions?m=${form === 'grant' ? 'granted' : 'refused'}&id=${id}`);
    });
  }
}

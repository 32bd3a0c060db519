// The portal's signed-in side (issue 13 §4, §6): sign-in with the submission
// account (PortalDeps.signin: the same gate and counters as SMTP AUTH), sign-out,
// "My account" (who am I, my customer number, my exemption requests with the
// desk's answers) and the port-25 exemption request with its automatic checks.
// Every change is an operation run as the subscriber (runAs); every sign-in and
// failed sign-in is an audit record (actor kind subscriber). Only the mail login
// and password are ever asked for, and only on /signin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExemptionRequest } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import { page } from '../layout.ts';
import { seeOther, sendPage } from '../respond.ts';
import { runAs } from '../run.ts';
import { errorField, errorText, field, query, when } from '../form.ts';
import type { PortalDeps, SubscriberPrincipal } from '../types.ts';
import { ACCOUNT_TEXTS as T } from './account-texts.ts';

const NAV = [{ href: '/account', label: T.nav.account }, { href: '/exemption', label: T.nav.exemption }];
const FLASH: Record<string, string> = {
  'signed-out': T.signin.signedOut, 'signin': T.signin.expired, 'sent': T.exemption.sent, 'withdrawn': T.exemption.withdrawn,
  'renewed': T.exemption.renewed, 'bad-form': T.signin.badForm,
};

function shell(req: FastifyRequest, p: SubscriberPrincipal | null, title: string, main: Html, flash?: Html): Html {
  const f = flash ?? (FLASH[query(req, 'm')] ? html`<p class="notice" role="status">${FLASH[query(req, 'm')]}</p>` : undefined);
  const account = p
    ? html`<form class="inline" method="post" action="/signout"><span class="muted">${T.signedInAs(p.login)}</span> <input type="hidden" name="_csrf" value="${p.csrf}"><button class="secondary" type="submit">${T.signOut}</button></form>`
    : html`<a href="/signin">${T.nav.signin}</a>`;
  return page({ lang: T.lang, site: T.site, title, path: req.url.split('?')[0], nav: p ? NAV : [], account, flash: f, main, skipText: T.skip });
}

function stateText(r: ExemptionRequest): string {
  return r.state === 'pending' && r.renewal ? T.pendingRenewal : (T.states[r.state] ?? r.state);
}

/** The audit line of a sign-in or a failed one (actor kind subscriber, as typed when it failed). */
async function auditSignIn(deps: PortalDeps, login: string, from: string, outcome: string): Promise<void> {
  await deps.audit.write({ at: deps.clock.now(), actorKind: 'subscriber', actor: login.slice(0, 320), from, action: 'portal.signin', object: `account ${login.slice(0, 320)}`,
    reason: '', outcome, detail: '{}' }).catch((err: unknown) => deps.logger.error({ event: 'portal', err: String(err) }, 'audit of a portal sign-in failed'));
}

function signinForm(token: string, login: string, error?: string): Html {
  return html`<p>${T.signin.intro}</p>
${error ? html`<p class="error" role="alert" id="signin-error">${error}</p>` : ''}
<form method="post" action="/signin">
<input type="hidden" name="_csrf" value="${token}">
<label for="login">${T.signin.login}</label>
<input id="login" name="login" type="text" autocomplete="username" required maxlength="320" value="${login}"${error ? html` aria-describedby="signin-error"` : ''}>
<label for="password">${T.signin.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<p><button type="submit">${T.signin.submit}</button></p>
</form>
<p class="muted">${T.signin.never}</p>`;
}

function checksTable(r: ExemptionRequest): Html {
  return html`<table><caption>${T.exemption.checksCaption}</caption>
<thead><tr><th scope="col">${T.exemption.check}</th><th scope="col">${T.exemption.result}</th><th scope="col">${T.exemption.why}</th></tr></thead>
<tbody>${r.checks.map((c) => html`<tr><th scope="row">${T.exemption.names[c.name] ?? c.name}</th><td class="${c.result === 'pass' ? 'ok' : c.result === 'fail' ? 'bad' : 'muted'}">${T.exemption.results[c.result] ?? c.result}</td><td>${c.why}</td></tr>`)}</tbody></table>`;
}

function exemptionForm(p: SubscriberPrincipal, v: { address: string; server: string; reason: string }, err?: { field: string; text: string }): Html {
  const at = (f: string) => (err && err.field === f ? html`<p class="error" id="err-${f}">${err.text}</p>` : '');
  const described = (f: string) => (err && err.field === f ? html` aria-invalid="true" aria-describedby="err-${f}"` : '');
  return html`<p>${T.exemption.intro}</p>
${err && !['address', 'server', 'reason'].includes(err.field) ? html`<p class="error" role="alert">${T.errors.generic} ${err.text}</p>` : ''}
<form method="post" action="/exemption">
<input type="hidden" name="_csrf" value="${p.csrf}">
<label for="address">${T.exemption.address}</label>${at('address')}
<input id="address" name="address" type="text" maxlength="64" value="${v.address}"${described('address')}>
<label for="server">${T.exemption.server}</label>${at('server')}
<input id="server" name="server" type="text" required maxlength="253" value="${v.server}"${described('server')}>
<label for="reason">${T.exemption.reason}</label>${at('reason')}
<textarea id="reason" name="reason" rows="4" cols="60" required maxlength="1000"${described('reason')}>${v.reason}</textarea>
<p><button type="submit">${T.exemption.submit}</button></p>
</form>`;
}

export function accountPages(app: FastifyInstance, deps: PortalDeps): void {
  const send = (reply: FastifyReply, body: Html, status = 200) => sendPage(reply, { status, body });
  /** The principal, or a redirect to the sign-in (null returned: the reply is sent). */
  const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<SubscriberPrincipal | null> => {
    const p = await deps.gate.current(req);
    if (!p) seeOther(reply, '/signin?m=signin');
    return p;
  };
  /** The principal of a POST whose CSRF token is right; else the reply is sent. */
  const posted = async (req: FastifyRequest, reply: FastifyReply): Promise<SubscriberPrincipal | null> => {
    const p = await signedIn(req, reply);
    if (p && !deps.gate.csrfOk(req, p, field(req, '_csrf', 200))) {
      send(reply, shell(req, p, T.account.title, html`<p class="error" role="alert">${T.signin.badForm}</p><p><a href="/account">${T.nav.account}</a></p>`), 403);
      return null;
    }
    return p;
  };

  app.get('/signin', async (req, reply) => {
    const p = await deps.gate.current(req);
    if (p) return seeOther(reply, '/account');
    return send(reply, shell(req, null, T.signin.title, signinForm(deps.signin.formToken(reply), '')));
  });

  app.post('/signin', async (req, reply) => {
    const login = field(req, 'login', 320).trim();
    const password = field(req, 'password', 1025);
    const again = (error: string, status: number) => send(reply, shell(req, null, T.signin.title, signinForm(deps.signin.formToken(reply), login, error)), status);
    // Before the password is looked at: a form from another site (login CSRF) or an old tab.
    if (!deps.signin.formTokenOk(req, field(req, '_csrf', 200))) return again(T.signin.badForm, 403);
    if (!login || !password) return again(T.signin.missing, 400);
    const r = await deps.signin.check(req.ip, login, password);
    if (r.ok) {
      await deps.signin.open(reply, r.login, r.subscriber);
      await auditSignIn(deps, r.login, req.ip, 'ok');
      return seeOther(reply, '/account');
    }
    await auditSignIn(deps, login, req.ip, r.why);
    const status = r.why === 'locked' ? 429 : r.why === 'temporary' ? 503 : r.why === 'disabled' ? 403 : 401;
    return again(T.signin[r.why === 'credentials' ? 'failed' : r.why], status);
  });

  app.post('/signout', async (req, reply) => {
    const p = await deps.gate.current(req);
    if (p && deps.gate.csrfOk(req, p, field(req, '_csrf', 200))) await deps.signin.close(req, reply);
    else if (p) return seeOther(reply, '/account?m=bad-form');
    return seeOther(reply, '/signin?m=signed-out');
  });

  app.get('/account', async (req, reply) => {
    const p = await signedIn(req, reply);
    if (!p) return reply;
    const list = p.subscriber ? (await runAs<{ requests: ExemptionRequest[] }>(deps, p, req.ip, 'exemptions.requests.list', { limit: 20 })).requests : [];
    const shown = await Promise.all(list.map((r) => runAs<ExemptionRequest>(deps, p, req.ip, 'exemptions.requests.show', { id: r.id })));
    const main = html`<dl><dt>${T.account.login}</dt><dd>${p.login}</dd><dt>${T.account.subscriber}</dt><dd>${p.subscriber ?? T.account.none}</dd></dl>
<h2>${T.account.exemptions}</h2>
${shown.length ? html`<table><caption>${T.account.caption}</caption>
<thead><tr>${Object.values(T.account.cols).map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${shown.map((r) => html`<tr><td><a href="/exemption/${r.id}">${r.id}</a></td><td>${r.prefix}</td><td>${r.server}</td><td>${stateText(r)}</td><td>${when(r.expiresAt)}</td><td>${r.decisionReason ?? ''}</td></tr>`)}</tbody></table>
<h2>${T.account.history}</h2>
<ul>${shown.flatMap((r) => r.steps.map((s) => html`<li>${when(s.at)}: ${T.exemption.detail(r.id)}, ${s.step}${s.reason ? html` — ${s.reason}` : ''}</li>`))}</ul>`
    : html`<p>${p.subscriber ? T.account.noRequests : T.exemption.noSubscriber}</p>`}
${p.subscriber ? html`<p><a href="/exemption">${T.account.ask}</a></p>` : ''}`;
    return send(reply, shell(req, p, T.account.title, main));
  });

  app.get('/exemption', async (req, reply) => {
    const p = await signedIn(req, reply);
    if (!p) return reply;
    if (!p.subscriber) return send(reply, shell(req, p, T.exemption.title, html`<p>${T.exemption.noSubscriber}</p>`));
    // Prefilled with the connection's current address (a read of the directory; the request itself is the operation's).
    const current = deps.app.directory ? await deps.app.directory.currentOf(p.subscriber).catch(() => []) : [];
    const address = (current.find((a) => a.portLo === null) ?? current[0])?.prefix ?? '';
    return send(reply, shell(req, p, T.exemption.title, exemptionForm(p, { address, server: '', reason: '' })));
  });

  app.post('/exemption', async (req, reply) => {
    const p = await signedIn(req, reply);
    if (!p) return reply;
    const v = { address: field(req, 'address', 64).trim(), server: field(req, 'server', 253).trim(), reason: field(req, 'reason', 1000).trim() };
    // An old or foreign form: shown again with what was typed and this session's token, nothing sent.
    if (!deps.gate.csrfOk(req, p, field(req, '_csrf', 200))) return send(reply, shell(req, p, T.exemption.title, exemptionForm(p, v, { field: '', text: T.signin.badForm })), 403);
    try {
      const r = await runAs<ExemptionRequest>(deps, p, req.ip, 'exemptions.request', { server: v.server, reason: v.reason, ...(v.address ? { address: v.address } : {}) });
      return seeOther(reply, `/exemption/${r.id}?m=sent`);
    } catch (e) {
      const f = errorField(e) || (!v.server ? 'server' : !v.reason ? 'reason' : '');
      const text = !v.server && f === 'server' ? T.exemption.server : !v.reason && f === 'reason' ? T.exemption.reason : errorText(e);
      return send(reply, shell(req, p, T.exemption.title, exemptionForm(p, v, { field: f, text })), 400);
    }
  });

  app.get<{ Params: { id: string } }>('/exemption/:id', async (req, reply) => {
    const p = await signedIn(req, reply);
    if (!p) return reply;
    const id = /^\d{1,12}$/.test(req.params.id) ? Number(req.params.id) : 0;
    let r: ExemptionRequest;
    try {
      if (!id) throw new Error('no id');
      r = await runAs<ExemptionRequest>(deps, p, req.ip, 'exemptions.requests.show', { id });
    } catch {
      return send(reply, shell(req, p, T.exemption.title, html`<p class="error">${T.errors.notFound}</p>`), 404);
    }
    const csrf = html`<input type="hidden" name="_csrf" value="${p.csrf}">`;
    const actions = [
      r.state === 'granted' || r.state === 'renewal-offered'
        ? html`<form method="post" action="/exemption/${r.id}/renew">${csrf}<label for="renew-reason">${T.exemption.renewReason}</label><input id="renew-reason" name="reason" maxlength="1000"> <button type="submit">${T.exemption.renew}</button></form>` : '',
      ['pending', 'granted', 'renewal-offered'].includes(r.state)
        ? html`<form method="post" action="/exemption/${r.id}/withdraw">${csrf}<p class="muted">${T.exemption.withdrawNote}</p><button class="secondary" type="submit">${T.exemption.withdraw}</button></form>` : '',
    ];
    const main = html`<dl><dt>${T.account.cols.address}</dt><dd>${r.prefix}</dd><dt>${T.account.cols.server}</dt><dd>${r.server}</dd>
<dt>${T.account.cols.state}</dt><dd>${stateText(r)}</dd>${r.expiresAt ? html`<dt>${T.account.cols.until}</dt><dd>${when(r.expiresAt)}</dd>` : ''}
${r.decisionReason ? html`<dt>${T.account.cols.decision}</dt><dd>${r.decisionReason}</dd>` : ''}</dl>
<h2>${T.exemption.checks}</h2>${checksTable(r)}
<h2>${T.exemption.steps}</h2>
<table><caption>${T.exemption.steps}</caption><thead><tr><th scope="col">${T.exemption.at}</th><th scope="col">${T.exemption.what}</th><th scope="col">${T.exemption.note}</th></tr></thead>
<tbody>${r.steps.map((s) => html`<tr><td>${when(s.at)}</td><td>${s.step}</td><td>${s.reason}</td></tr>`)}</tbody></table>
${actions}`;
    return send(reply, shell(req, p, T.exemption.detail(r.id), main));
  });

  for (const action of ['withdraw', 'renew'] as const) {
    app.post<{ Params: { id: string } }>(`/exemption/:id/${action}`, async (req, reply) => {
      const p = await posted(req, reply);
      if (!p) return reply;
      const id = /^\d{1,12}$/.test(req.params.id) ? Number(req.params.id) : 0;
      const reason = field(req, 'reason', 1000).trim();
      try {
        await runAs(deps, p, req.ip, `exemptions.${action}`, { id, ...(reason ? { reason } : {}) });
      } catch (e) {
        return send(reply, shell(req, p, T.exemption.title, html`<p class="error" role="alert">${T.errors.generic} ${errorText(e)}</p><p><a href="/account">${T.nav.account}</a></p>`), 400);
      }
      return seeOther(reply, `/exemption/${id}?m=${action === 'withdraw' ? 'withdrawn' : 'renewed'}`);
    });
  }
}

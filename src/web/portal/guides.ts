// Setup guides per client family, from the provider's own facts (PortalSite:
// the submission server, its public ports, the hosted domains, the incoming
// servers of whoever hosts the mailboxes): /guides and /guides/<family>. Only
// submission is ever shown: SSL/TLS on 465 and STARTTLS on 587, normal password,
// the full address as user name (RFC 8314, RFC 6409); never port 25, with the
// reason in plain words (MAAWG "Managing Port 25"). Apple devices get a link to
// the signed profile of the autoconfig listener for the address typed (a GET
// form back to this page: no script, no other origin posted to).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html, join, type Html } from '../html.ts';
import { sendPage } from '../respond.ts';
import type { PageAnswer, PortalSite, PublicDeps } from '../types.ts';
import { GUIDE_FAMILIES, PORTAL_TEXTS, type GuideFamily } from './texts.ts';
import { errorPage, portalPage } from './shell.ts';

const T = PORTAL_TEXTS.guides;

const exampleDomain = (s: PortalSite): string => s.domains[0] ?? s.server;

function settingsTable(s: PortalSite): Html {
  const row = (what: string, server: string, port: number, sec: 'SSL' | 'STARTTLS', auth: string, user: string) =>
    html`<tr><th scope="row">${what}</th><td><code>${server}</code></td><td>${port}</td><td>${T.security[sec]}</td><td>${auth}</td><td>${user}</td></tr>`;
  const head = html`<tr><th scope="col">${T.col.what}</th><th scope="col">${T.col.server}</th><th scope="col">${T.col.port}</th><th scope="col">${T.col.security}</th><th scope="col">${T.col.auth}</th><th scope="col">${T.col.user}</th></tr>`;
  const outgoing = html`<table><caption>${T.settingsCaption}</caption><thead>${head}</thead><tbody>
${row(T.outgoing, s.server, s.tlsPort, 'SSL', T.auth, T.user)}
${row(T.outgoing, s.server, s.starttlsPort, 'STARTTLS', T.auth, T.user)}
</tbody></table>`;
  const incoming = s.incoming.length
    ? html`<table><caption>${T.incomingCaption}</caption><thead>${head}</thead><tbody>${s.incoming.map((i) => row(T.incomingType[i.type], i.hostname, i.port, i.socketType, T.auth, T.user))}</tbody></table>`
    : html`<p>${T.noIncoming}</p>`;
  return html`<h2>${T.settingsHeading}</h2>\n${outgoing}\n<p class="notice">${T.neverPort25}</p>\n${incoming}`;
}

function why(): Html {
  return html`<h2 id="port-25">${T.why.heading}</h2>\n${T.why.text.map((p) => html`<p>${p}</p>`)}\n<p><a href="/blocked">${T.why.more}</a></p>`;
}

const pre = (caption: string, text: string): Html => html`<h3>${caption}</h3>\n<pre><code>${text}</code></pre>`;

function snippets(f: GuideFamily, s: PortalSite): Html | '' {
  const you = T.exampleAddress(exampleDomain(s));
  if (f === 'command-line') {
    return join([
      pre(T.snippets.msmtp, `account default\nhost ${s.server}\nport ${s.tlsPort}\ntls on\ntls_starttls off\nauth on\nuser ${you}\nfrom ${you}\npasswordeval "pass show mail/${you}"\n`),
      pre(T.snippets.mutt, `set from = "${you}"\nset smtp_url = "smtps://${you.replace('@', '%40')}@${s.server}:${s.tlsPort}/"\nset smtp_authenticators = "plain"\nset ssl_force_tls = yes\n`),
      pre(T.snippets.curl, `curl --url 'smtps://${s.server}:${s.tlsPort}' --user '${you}' \\\n  --mail-from '${you}' --mail-rcpt 'friend@example.org' --upload-file message.txt\n`),
    ], '\n');
  }
  if (f === 'device') {
    return pre(T.snippets.postfix, `# /etc/postfix/main.cf\nrelayhost = [${s.server}]:${s.starttlsPort}\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\nsmtp_sasl_security_options = noanonymous\nsmtp_tls_security_level = encrypt\n\n# /etc/postfix/sasl_passwd (then: postmap /etc/postfix/sasl_passwd; chmod 600 it)\n[${s.server}]:${s.starttlsPort} ${you}:YOUR-PASSWORD\n`);
  }
  return '';
}

/** The address typed for the Apple profile: one of our domains, else the words of the refusal. */
function profileAddress(s: PortalSite, raw: string): { ok: true; address: string; domain: string } | { ok: false } {
  const m = /^([^\s@<>"'`\\]{1,64})@([A-Za-z0-9.-]{1,253})$/.exec(raw.trim());
  const domain = m?.[2].toLowerCase();
  if (!m || !domain || !s.domains.includes(domain)) return { ok: false };
  return { ok: true, address: `${m[1]}@${domain}`, domain };
}

function profileSection(s: PortalSite, req: FastifyRequest): Html {
  if (!s.appleProfile || !s.domains.length) return html`<h2>${T.profile.heading}</h2>\n<p>${T.profile.none}</p>`;
  const q = (req.query ?? {}) as Record<string, unknown>;
  const raw = typeof q.emailaddress === 'string' ? q.emailaddress.slice(0, 320) : null;
  const checked = raw === null || raw === '' ? null : profileAddress(s, raw);
  const bad = checked && !checked.ok;
  const link = checked?.ok
    ? html`<p><a href="${`http://autoconfig.${checked.domain}/mobileconfig?emailaddress=${encodeURIComponent(checked.address)}`}">${T.profile.link(checked.address)}</a></p>`
    : '';
  return html`<h2 id="profile">${T.profile.heading}</h2>
<p>${T.profile.text}</p>
<form method="get" action="/guides/apple#profile">
<label for="emailaddress">${T.profile.label}</label>
<input id="emailaddress" name="emailaddress" type="email" autocomplete="email" value="${raw ?? ''}"${bad ? html` aria-invalid="true" aria-describedby="emailaddress-error"` : ''}>
${bad ? html`<p id="emailaddress-error" class="error">${T.profile.bad(s.domains.map((d) => `@${d}`).join(', '))}</p>` : ''}
<p><button type="submit">${T.profile.button}</button></p>
</form>
${link}`;
}

function guide(f: GuideFamily, s: PortalSite, req: FastifyRequest): PageAnswer {
  const steps = html`<h2>${T.stepsHeading}</h2>\n<ol>${T.steps[f].map((x) => html`<li>${x}</li>`)}</ol>`;
  const extra = f === 'apple' ? profileSection(s, req) : f === 'device' ? html`<p><a href="${s.exemptionPath}">${T.exemptionLink}</a></p>` : '';
  const main = html`${settingsTable(s)}\n${steps}\n${snippets(f, s)}\n${extra}\n${why()}\n<p><a href="/guides">${T.back}</a></p>`;
  return portalPage(s, `/guides/${f}`, T.families[f].title, main);
}

function index(s: PortalSite): PageAnswer {
  const list = html`<ul>${GUIDE_FAMILIES.map((f) => html`<li><a href="/guides/${f}">${T.families[f].title}</a> — ${T.families[f].short}</li>`)}</ul>`;
  return portalPage(s, '/guides', T.indexTitle, html`<p>${T.indexIntro(s.displayName)}</p>\n<nav aria-label="${T.listCaption}">${list}</nav>\n${settingsTable(s)}\n${why()}`);
}

export function guidePages(app: FastifyInstance, deps: PublicDeps): void {
  const s = deps.site;
  const safe = (path: string, fn: () => PageAnswer): PageAnswer => {
    try { return fn(); } catch (err) {
      deps.logger.error({ event: 'portal', path, err: String(err) }, 'guide page failed');
      return errorPage(s, path);
    }
  };
  // The pages depend on the config alone (the Apple one also on its query): rendered once.
  const rendered = new Map<string, PageAnswer>();
  const once = (key: string, fn: () => PageAnswer): PageAnswer => {
    let a = rendered.get(key);
    if (!a) { a = fn(); if ((a.status ?? 200) === 200) rendered.set(key, a); }
    return a;
  };
  app.get('/guides', async (_req, reply) => sendPage(reply, once('/guides', () => safe('/guides', () => index(s)))));
  app.get<{ Params: { family: string } }>('/guides/:family', async (req, reply) => {
    const f = req.params.family as GuideFamily;
    if (!GUIDE_FAMILIES.includes(f)) {
      return sendPage(reply, portalPage(s, '/guides', PORTAL_TEXTS.notFoundTitle, html`<p>${PORTAL_TEXTS.notFoundText}</p>\n<p><a href="/guides">${T.back}</a></p>`, 404));
    }
    const render = () => safe(`/guides/${f}`, () => guide(f, s, req));
    return sendPage(reply, f === 'apple' ? render() : once(f, render));
  });
}

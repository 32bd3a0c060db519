// "Am I blocked?" (/blocked) for the request's own source address: the
// policy.explain operation, run as the system actor "portal" (read only, and
// only about the address the request comes from: client.ts; X-Forwarded-For
// only from portal.trustedProxies), put into words a subscriber understands.
// Never the internals: no subscriber id, no case id or evidence, no pool
// prefix — only what kind of address it is, whether port 25 is blocked and
// why, an exemption's end, that a case is open (and the notice page), the
// block lists, and what to do.
import type { FastifyInstance } from 'fastify';
import { systemActor, invoke, type Explanation } from '../../app/index.ts';
import { html, type Html } from '../html.ts';
import { sendPage } from '../respond.ts';
import type { PageAnswer, PortalSite, PublicDeps } from '../types.ts';
import { clientAddress } from './client.ts';
import { PORTAL_TEXTS } from './texts.ts';
import { errorPage, portalPage } from './shell.ts';

const T = PORTAL_TEXTS.blocked;

const day = (t: number): string => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

function todo(e: Explanation, s: PortalSite): Html {
  const items: Html[] = [];
  const link = (href: string, text: string) => html`<li><a href="${href}">${text}</a></li>`;
  if (e.port25.reason === 'quarantine' || e.openCase?.open) items.push(link(s.noticeUrl, T.todo.notice));
  if (e.port25.reason === 'blocked-class' || e.port25.reason === 'quarantine') {
    items.push(link('/guides', T.todo.setup));
    // No exemption while quarantined: the walled garden blocks port 25 even for exempt hosts.
    if (e.port25.reason === 'blocked-class') items.push(e.class === 'cgnat' ? html`<li>${T.todo.staticFirst}</li>` : link(s.exemptionPath, T.todo.exemption));
    items.push(link('/guides#port-25', T.todo.why));
  } else if (e.port25.reason === 'exemption') {
    if (e.exemption?.expiresAt !== null) items.push(link(s.exemptionPath, T.todo.renew));
  } else if (e.port25.reason !== 'not-ours') {
    items.push(html`<li>${T.todo.nothing}</li>`);
  }
  if (e.port25.reason === 'not-ours') items.push(link('/guides', T.todo.setup));
  return html`<h2>${T.todoHeading}</h2>\n<ul>${items}</ul>`;
}

function caseSection(e: Explanation, s: PortalSite): Html | '' {
  if (e.holders !== null && e.holders > 1) return html`<h2>${T.caseHeading}</h2>\n<p>${T.caseShared}</p>`;
  if (!e.openCase) return '';
  return e.openCase.open
    ? html`<h2>${T.caseHeading}</h2>\n<p class="bad">${T.caseOpen}</p>\n<p><a href="${s.noticeUrl}">${T.noticeLink}</a></p>`
    : html`<h2>${T.caseHeading}</h2>\n<p class="ok">${T.caseNone}</p>`;
}

function listsSection(e: Explanation): Html | '' {
  if (e.class === 'outside') return '';
  const own = html`<p>${e.providerDnsbl.listed ? T.ownListed : T.ownNotListed}</p>`;
  const outside = e.outsideDnsbl === null ? ''
    : e.outsideDnsbl.length ? html`<p class="bad">${T.outsideListed([...new Set(e.outsideDnsbl.map((l) => l.zone))].join(', '))}</p>`
    : html`<p>${T.outsideNone}</p>`;
  return html`<h2>${T.listsHeading}</h2>\n${own}\n${outside}`;
}

export function blockedAnswer(e: Explanation, s: PortalSite, forwarded: boolean): PageAnswer {
  const blocked = e.port25.blocked;
  const exemption = e.port25.reason === 'exemption' && e.exemption
    ? html`<p>${e.exemption.expiresAt === null ? T.exemptionForever : T.exemptionUntil(day(e.exemption.expiresAt))}</p>` : '';
  const main = html`<p>${T.intro}</p>
<p>${T.yourAddress} <strong><code>${e.address}</code></strong>${forwarded ? html` ${T.forwarded}` : ''}</p>
<h2>${T.classHeading}</h2>
<p data-class="${e.class}">${T.class[e.class]}</p>
<h2>${T.port25Heading}</h2>
<p class="${blocked ? 'bad' : 'ok'}" data-port25="${blocked ? 'blocked' : 'open'}">${T.port25[e.port25.reason]}</p>
${exemption}
${caseSection(e, s)}
${listsSection(e)}
${todo(e, s)}`;
  return portalPage(s, '/blocked', T.title, main);
}

export function blockedPage(app: FastifyInstance, deps: PublicDeps): void {
  const s = deps.site;
  app.get('/blocked', async (req, reply) => {
    const from = clientAddress(req, s.trustedProxies);
    if (!from) return sendPage(reply, portalPage(s, '/blocked', T.unknownTitle, html`<p>${T.unknownText}</p>`));
    const op = deps.operations.get('policy.explain');
    try {
      if (!op) throw new Error('no operation policy.explain');
      const input = from.port === null ? { address: from.address } : { address: from.address, port: from.port };
      const e = await invoke(op, input as never, { actor: { ...systemActor('portal'), from: from.address } }, deps.app, deps.audit, () => deps.clock.now()) as Explanation;
      return sendPage(reply, blockedAnswer(e, s, from.forwarded));
    } catch (err) {
      deps.logger.error({ event: 'portal', path: '/blocked', err: String(err) }, '"Am I blocked?" failed');
      return sendPage(reply, errorPage(s, '/blocked'));
    }
  });
}

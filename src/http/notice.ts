// The walled garden's notice page (abuse.noticeListen, plain HTTP): what the
// edge DNATs a quarantined host's port-80 traffic to, so it answers any Host
// and any path. The case is found by the link's token (?t=) or, in the garden,
// by who holds the client's source address now (NoticeDesk decides, this
// renders: notice-html.ts, texts in notice-texts.ts). A self-release is a POST
// back to the same URL with the page's signed CSRF value; several tabs each
// hold a good one. RFC 8908 captive-portal API at /.well-known/captive-portal
// and /captive-portal/api, answered for the requesting address.
//
// Never a password field, never a login form, never a script. The token rides
// in the URL, so pages say Referrer-Policy: no-referrer and are not cached.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { visible, type Logger } from '../core/index.ts';
import type { NoticeDesk, NoticeLookup } from '../abuse/index.ts';
import { noticeHtml, type Rendered } from './notice-html.ts';

export interface NoticeRouteOptions {
  desk: NoticeDesk;
  /** How to reach the abuse desk, shown on every page (abuse.notices.from). */
  contact: string;
  /** user-portal-url of the captive-portal API (abuse.notices.pageUrl; RFC 8908 wants https). */
  portalUrl: string;
  logger: Logger;
}

const FORM_LIMIT = 4096;
/** The RFC 8908 API's path, the URI DHCP and RA hand out (RFC 8910; `portwarden notice snippets` prints them). */
export const CAPTIVE_API_PATH = '/captive-portal/api';
const CAPTIVE_PATHS = ['/.well-known/captive-portal', CAPTIVE_API_PATH];

const HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // No script at all; the inline style only; forms post back to this origin only.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function send(reply: FastifyReply, r: Rendered): FastifyReply {
  return reply.code(r.status).headers(HEADERS).type('text/html; charset=utf-8').send(r.html);
}

function token(req: FastifyRequest, form?: URLSearchParams): string | null {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const t = typeof q.t === 'string' ? q.t : form?.get('t') ?? null;
  return t || null;
}

const ask = (req: FastifyRequest, t: string | null) => ({ token: t, address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? null });

function refusal(l: Extract<NoticeLookup, { ok: false }>, contact: string): Rendered {
  switch (l.why) {
    case 'no-case': return noticeHtml.none(contact);
    case 'ambiguous': return noticeHtml.ambiguous(contact);
    case 'expired': return noticeHtml.badLink(l.text, 410, contact);
    case 'unknown-case': return noticeHtml.badLink(l.text, 404, contact);
    default: return noticeHtml.badLink(l.text, 400, contact);
  }
}

export function noticeRoutes(app: FastifyInstance, o: NoticeRouteOptions): void {
  const failed = (req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply => {
    o.logger.error({ event: 'notice-page', method: req.method, path: visible(req.url).slice(0, 200), err: String(err) }, 'notice page failed');
    return send(reply, noticeHtml.error(o.contact));
  };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_req, body, done) => done(null, new URLSearchParams(body as string)));

  const captive = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let captive = false;
    try {
      const l = await o.desk.find(ask(req, null), false);
      captive = l.ok && l.view.actions.includes('quarantine');
    } catch (err) {
      o.logger.error({ event: 'notice-page', path: CAPTIVE_PATHS[0], err: String(err) }, 'captive-portal lookup failed');
    }
    // RFC 8908 §5: user-portal-url only matters while captive; the body is private to this client.
    // It names the media type bare (JSON has no charset parameter, RFC 8259 §11).
    return reply.code(200).headers({ 'cache-control': 'private, no-store', 'content-type': 'application/captive+json' })
      .send(Buffer.from(JSON.stringify(captive ? { captive, 'user-portal-url': o.portalUrl } : { captive }))); // a Buffer: Fastify adds no charset
  };

  app.get('/.well-known/captive-portal', (req, reply) => captive(req, reply));
  app.get(CAPTIVE_API_PATH, (req, reply) => captive(req, reply));

  app.get('/*', async (req, reply) => {
    try {
      const l = await o.desk.find(ask(req, token(req)));
      return send(reply, l.ok ? noticeHtml.view(l.view, o.contact) : refusal(l, o.contact));
    } catch (err) { return failed(req, reply, err); }
  });

  app.post('/*', { bodyLimit: FORM_LIMIT }, async (req, reply) => {
    const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    try {
      const r = await o.desk.release(ask(req, token(req, form)), form.get('csrf'));
      switch (r.outcome) {
        case 'released': return send(reply, noticeHtml.released(r.view, o.contact));
        case 'refused': return send(reply, noticeHtml.refused(r.view, r.why, o.contact));
        case 'csrf': return send(reply, noticeHtml.csrf(o.contact));
        default: return send(reply, r.lookup.ok ? noticeHtml.view(r.lookup.view, o.contact) : refusal(r.lookup, o.contact));
      }
    } catch (err) { return failed(req, reply, err); }
  });
}

// Mail client autoconfig (autoconfig.listen, plain HTTP): the autoconfig
// part's answers mounted. Thunderbird asks http://autoconfig.<domain>/mail/
// config-v1.1.xml and <domain>/.well-known/autoconfig/mail/config-v1.1.xml;
// Outlook POSTs its POX request to /autodiscover/autodiscover.xml (the three
// spellings seen in the wild; routes are case-sensitive) and asks Autodiscover v2 at /autodiscover/autodiscover.json.
// /mobileconfig?emailaddress= is the signed Apple mail profile (a link the user opens on the device).
// Bodies are read as text up to POX_LIMIT (413 beyond), whatever the type.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Answer, Autoconfig, Signer } from '../autoconfig/index.ts';

export interface AutoconfigRouteOptions {
  autoconfig: Autoconfig;
  /** Signs the Apple mail profile; /mobileconfig is not mounted without one (never an unsigned profile). */
  profileSigner?: Signer;
}

export const POX_LIMIT = 16 * 1024;

const query = (req: FastifyRequest, name: string): string | undefined => {
  const v = ((req.query ?? {}) as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
};

const send = (reply: FastifyReply, a: Answer) =>
  reply.code(a.status).headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).type(a.type).send(a.body);

export function autoconfigRoutes(app: FastifyInstance, o: AutoconfigRouteOptions): void {
  const ac = o.autoconfig;
  const thunderbird = async (req: FastifyRequest, reply: FastifyReply) => send(reply, ac.thunderbird(query(req, 'emailaddress'), req.headers.host));
  app.get('/mail/config-v1.1.xml', thunderbird);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', thunderbird);

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: POX_LIMIT }, (_req, body, done) => done(null, body));
    const pox = async (req: FastifyRequest, reply: FastifyReply) => send(reply, ac.pox(typeof req.body === 'string' ? req.body : ''));
    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml', '/AutoDiscover/AutoDiscover.xml']) scope.post(path, { bodyLimit: POX_LIMIT }, pox);
  });

  const signer = o.profileSigner;
  if (signer) {
    app.get('/mobileconfig', async (req, reply) => {
      const p = ac.profile(query(req, 'emailaddress'));
      if (!p.ok) return send(reply, p.answer);
      const body = await signer.sign(Buffer.from(p.plist, 'utf8'));
      return reply.code(200).headers({
        'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
        'content-disposition': `attachment; filename="${p.fileName}"`,
      }).type('application/x-apple-aspen-config').send(body);
    });
  }

  app.get('/autodiscover/autodiscover.json', async (req, reply) => send(reply, ac.v2(query(req, 'Email'), query(req, 'Protocol'))));
  app.get('/autodiscover/autodiscover.json/v1.0/:email', async (req, reply) =>
    send(reply, ac.v2((req.params as { email: string }).email, query(req, 'Protocol'))));
}

// The console's frame on one Fastify instance: cookies and form bodies, the
// sign-in routes (open), then one scope behind the sign-in: its onRequest hook
// sends anyone not signed in to /signin (303 for GET and HEAD, 401 for any
// other method), its preHandler refuses every other method whose form lacks the
// session's `_csrf` (403) — so no page module can forget either — and its error
// handler answers in HTML, as does a path nothing serves (404). In that scope:
// the home page, /staff, and every module of CONSOLE_PAGES with the ConsoleDeps.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { asAppError, isAppError, type LockPolicy, type StaffRepository } from '../../app/index.ts';
import { HashBusyError } from '../../auth/index.ts';
import { visible } from '../../core/index.ts';
import { html } from '../html.ts';
import { seeOther, sendPage } from '../respond.ts';
import type { ConsoleDeps } from '../types.ts';
import type { ConsoleSessions } from '../staff/gate.ts';
import { safeNext, signinRoutes, withNext } from '../staff/signin.ts';
import { staffPage } from '../staff/page.ts';
import { T } from '../staff/texts.ts';
import { homePage } from './home.ts';
import { CONSOLE_PAGES } from './index.ts';
import { alert, consolePage } from './shell.ts';

export interface ConsoleFrameOptions {
  staff: StaffRepository;
  lock: LockPolicy;
}

const SAFE = new Set(['GET', 'HEAD']);

export async function consoleFrame(app: FastifyInstance, deps: ConsoleDeps & { gate: ConsoleSessions }, o: ConsoleFrameOptions): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(async (open) => {
    htmlErrors(open, deps);
    signinRoutes(open, { gate: deps.gate, staff: o.staff, audit: deps.audit, clock: deps.clock, lock: o.lock });
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (await deps.gate.current(req)) return;
      // Back where they were after the sign-in (a link to a case in a mail, a session that ran out).
      if (SAFE.has(req.method)) return seeOther(reply, withNext('/signin', req.url === '/' ? null : safeNext(req.url)));
      return sendPage(reply, consolePage(null, { title: T.signin.title, status: 401, main: html`${alert(T.errors.signInFirst)}<p><a href="/signin">${T.signin.title}</a></p>` }));
    });
    scope.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      if (SAFE.has(req.method)) return;
      const p = (await deps.gate.current(req))!;
      // The body is left as it came: a page module may check the token again (SessionGate.csrfOk) and drops _csrf from an operation's input itself.
      if (deps.gate.csrfOk(req, p, (req.body as Record<string, unknown> | undefined)?._csrf)) return;
      return sendPage(reply, consolePage(p, { title: T.home.title, status: 403, main: alert(T.errors.csrf) }));
    });
    htmlErrors(scope, deps);
    // Behind the sign-in, a path no module serves is an HTML page too (the listener's own 404 is JSON, and says nothing to someone not signed in).
    scope.get('/*', async (req, reply) => sendPage(reply, consolePage(await deps.gate.current(req), { title: T.home.title, status: 404, main: alert(T.errors.notFound) })));
    homePage(scope, deps);
    await staffPage(scope, deps);
    for (const m of CONSOLE_PAGES) await m(scope, deps);
  });
}

/** Errors of the console's routes as pages: an AppError's words, anything else a plain 500 (its detail goes to the log). */
function htmlErrors(scope: FastifyInstance, deps: ConsoleDeps): void {
  scope.setErrorHandler(async (err, req, reply) => {
    if (err instanceof HashBusyError) {
      // Every password check slot is taken (a burst of sign-ins or SMTP logins): a moment's wait, not a failure.
      return sendPage(reply.header('retry-after', '5'), consolePage(null, { title: T.signin.title, status: 503, main: alert(T.errors.busy) }));
    }
    const e = asAppError(err);
    const known = isAppError(err) || (typeof (err as { statusCode?: unknown }).statusCode === 'number' && (err as { statusCode: number }).statusCode < 500);
    if (!known) deps.logger.error({ event: 'http', listener: 'console', method: req.method, path: visible(req.url).slice(0, 200), err: String(err) }, 'console: page failed');
    const status = isAppError(err) ? e.status : known ? (err as { statusCode: number }).statusCode : 500;
    const text = isAppError(err) ? (e.code === 'forbidden' ? T.errors.forbidden : e.message) : known ? (err as Error).message : T.errors.failed;
    const p = await deps.gate.current(req).catch(() => null);
    return sendPage(reply, consolePage(p, { title: T.home.title, status, main: alert(text) }));
  });
}

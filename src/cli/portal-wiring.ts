// The subscriber portal wired (issue 13): on portal.listen, HTTPS with the
// node's TLS store (SIGHUP's reload reaches it), from the one listener factory
// of src/http, with form bodies and cookies, then every public page module
// (PUBLIC_PAGES: guides, "Am I blocked?") and every signed-in one
// (SUBSCRIBER_PAGES: sign-in, account, exemption requests). The sign-in is the
// submission account's: the same Authenticator and the same brute-force tracker
// as SMTP AUTH (asked before the password is looked at, told every outcome), so
// a lockout on 587 locks the portal and the other way round.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLIES, loadSecretFile, type Logger } from '../core/index.ts';
import { splitHostPort, type Config } from '../config/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Store } from '../store/index.ts';
import type { AccountStore, Authenticator } from '../auth/index.ts';
import type { BruteForceTracker } from '../limits/index.ts';
import type { AppDeps, AuditLog } from '../app/index.ts';
import type { PortalSignIn, SignInOutcome, PortalSessions } from '../web/index.ts';
import type { TlsStore } from './tls.ts';
import type { Service } from './services.ts';
import { portalSiteFor } from './portal-site.ts';

export interface PortalWiring {
  cfg: Config;
  logger: Logger;
  tls: TlsStore;
  store: Store;
  bus: EventBus;
  app: AppDeps;
  accounts: AccountStore;
  authenticator: Authenticator;
  bf: BruteForceTracker;
  bindError?: (what: string, host: string, port: number, err: NodeJS.ErrnoException) => Error;
}

/** The sign-in check: the submission account's password behind the SMTP AUTH brute-force gate and counters. */
export function portalPasswordCheck(w: Pick<PortalWiring, 'accounts' | 'authenticator' | 'bf' | 'bus'>): PortalSignIn['check'] {
  const { bf, bus } = w;
  return async (ip, login, password): Promise<SignInOutcome> => {
    const base = { session: `portal-${randomBytes(4).toString('hex')}`, listener: 'portal', clientIp: ip, mechanism: 'PLAIN' };
    // The address scopes first (as AUTH's first step does), then the login's inside verifyPlain, before any lookup or hash.
    if ((await bf.before(ip, null)).action === 'locked') {
      bus.publish('auth.failed', { ...base, login: null, why: 'locked' });
      await sleep(bf.lockedDelayMs());
      return { ok: false, why: 'locked' };
    }
    const r = await w.authenticator.verifyPlain(login, password, undefined, async (l) => ((await bf.before(ip, l)).action === 'locked' ? REPLIES.authLocked : null));
    if (r.ok) {
      await bf.succeeded(ip, r.identity);
      bus.publish('auth.succeeded', { ...base, login: r.identity });
      const a = await w.accounts.get(r.identity);
      return { ok: true, login: r.identity, subscriber: a?.subscriber ? a.subscriber : null };
    }
    bus.publish('auth.failed', { ...base, login, why: r.fail === 'credentials' ? 'failure' : r.fail === 'temporary' ? 'error' : r.fail });
    if (r.fail === 'locked') {
      await sleep(bf.lockedDelayMs());
      return { ok: false, why: 'locked' };
    }
    if (r.fail === 'credentials') {
      const g = await bf.failed(ip, login);
      if (g.action === 'locked') return { ok: false, why: 'locked' };
      if (g.delayMs > 0) await sleep(g.delayMs);
    }
    return { ok: false, why: r.fail };
  };
}

export interface PortalHandle {
  port: number;
  reload(): void;
  close(): Promise<void>;
}

/** Binds the portal; resolves with its port, the TLS reload and close. */
export async function startPortal(w: PortalWiring, listen: string): Promise<PortalHandle> {
  const { cfg, logger } = w;
  const [{ createHttpListener }, web, app, formbody, cookie] = await Promise.all([
    import('../http/index.ts'), import('../web/index.ts'), import('../app/index.ts'), import('@fastify/formbody'), import('@fastify/cookie'),
  ]);
  await w.store.migrate([...app.AUDIT_MIGRATIONS, ...web.PORTAL_SESSION_MIGRATIONS]);
  const audit: AuditLog = w.app.audit ?? new app.AuditLog(w.store.db);
  const sessions: PortalSessions = new web.PortalSessions({
    db: w.store.db, secret: loadSecretFile(cfg.dataDir, 'portal-secret', 'every portal session and form in flight becomes invalid'),
    clock: w.app.clock, lifetimeMs: cfg.portal.sessionHours * 3_600_000, idleMs: cfg.portal.idleMinutes * 60_000,
  });
  const l = createHttpListener({ name: 'portal', logger, tls: w.tls.options(), maxConnections: cfg.portal.maxConnections, bodyLimit: 16 * 1024 });
  await l.app.register(formbody.default, { bodyLimit: 16 * 1024 });
  await l.app.register(cookie.default);
  const operations = new Map((await app.loadOperations()).map((o) => [o.name, o]));
  const deps = { app: w.app, audit, operations, clock: w.app.clock, logger };
  for (const m of web.PUBLIC_PAGES) await m(l.app, { ...deps, site: portalSiteFor(cfg) });
  const signin: PortalSignIn = { check: portalPasswordCheck(w), open: (reply, login, sub) => sessions.open(reply, login, sub), close: (req, reply) => sessions.close(req, reply),
    formToken: (reply) => sessions.formToken(reply), formTokenOk: (req, t) => sessions.formTokenOk(req, t) };
  for (const m of web.SUBSCRIBER_PAGES) await m(l.app, { ...deps, gate: sessions, signin });
  const { host, port } = splitHostPort(listen);
  const bound = await l.listen(host, port).catch((err: NodeJS.ErrnoException) => { throw w.bindError ? w.bindError('portal', host, port, err) : err; });
  logger.info({ event: 'listening', listener: 'portal', host, port: bound, tls: true });
  return { port: bound, reload: () => l.setSecureContext(w.tls.options()), close: () => l.close() };
}

/** The portal as a service of the node; nothing when portal.listen is unset. `onStart` gets the handle (SIGHUP reload). */
export function portalService(get: () => PortalWiring, onStart?: (h: PortalHandle | undefined) => void): Service {
  let h: PortalHandle | undefined;
  return {
    name: 'portal',
    start: async () => {
      const w = get();
      if (!w.cfg.portal.listen) return;
      h = await startPortal(w, w.cfg.portal.listen);
      onStart?.(h);
    },
    stop: async () => { await h?.close(); h = undefined; onStart?.(undefined); },
  };
}

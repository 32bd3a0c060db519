// The contract of the people's pages (issue 13): who is signed in, what a page
// module is handed, and how a page runs an operation as that person.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock, Logger } from '../core/index.ts';
import type { AppDeps, AuditLog, OperationDef, StaffRole } from '../app/index.ts';
import type { Html } from './html.ts';


/** A signed-in member of staff (console). */
export interface StaffPrincipal {
  kind: 'staff';
  /** The staff user's name, normalised once (lower case). */
  name: string;
  role: StaffRole;
  sessionId: string;
  /** The session's CSRF token: the same in every tab of the session (forms carry it as `_csrf`). */
  csrf: string;
}

/** A subscriber signed in with a submission account (portal). */
export interface SubscriberPrincipal {
  kind: 'subscriber';
  /** The account's login as the account store normalises it. */
  login: string;
  /** The subscriber the account belongs to (accounts carry it), or null. */
  subscriber: string | null;
  sessionId: string;
  csrf: string;
}

export type Principal = StaffPrincipal | SubscriberPrincipal;

/**
 * Sessions of one listener (the console's are staff, the portal's subscribers):
 * HttpOnly, Secure, SameSite=Strict cookies naming a server-side session row.
 */
export interface SessionGate<P extends Principal> {
  /** The request's principal, or null (no cookie, expired, idle too long, revoked). */
  current(req: FastifyRequest): Promise<P | null>;
  /** True when the form's `_csrf` belongs to the request's session (compared in constant time). */
  csrfOk(req: FastifyRequest, principal: P, token: unknown): boolean;
}

/** What every page module gets. */
export interface WebDeps {
  app: AppDeps;
  audit: AuditLog;
  /** Every operation by name (app's loadOperations()). */
  operations: ReadonlyMap<string, OperationDef>;
  clock: Clock;
  logger: Logger;
}

/** A group of routes on the portal or the console listener. */
export type PageModule<D extends WebDeps = WebDeps> = (app: FastifyInstance, deps: D) => void | Promise<void>;

/** A page's answer: HTML with its status (200 unless given). */
export interface PageAnswer {
  status?: number;
  body: Html;
}


/** The console's page modules get the staff sessions too (console/). */
export interface ConsoleDeps extends WebDeps {
  gate: SessionGate<StaffPrincipal>;
}

/** What a portal sign-in ends with: the account and its subscriber, or why not (never which of login and password was wrong). */
export type SignInOutcome =
  | { ok: true; login: string; subscriber: string | null }
  | { ok: false; why: 'credentials' | 'locked' | 'disabled' | 'temporary' };

/**
 * The subscribers' sign-in with the submission account: `check` asks the same brute-force
 * gate as SMTP AUTH before the password is looked at and reports the outcome to the same
 * counters (cli/ wires it over the node's Authenticator and BruteForceTracker), so a lockout
 * on 587 locks the portal and the other way round; `open` and `close` are the session's.
 */
export interface PortalSignIn {
  check(ip: string, login: string, password: string): Promise<SignInOutcome>;
  open(reply: FastifyReply, login: string, subscriber: string | null): Promise<SubscriberPrincipal>;
  /** The sign-in form's token before any session (a double-submit cookie: another site cannot sign a browser in to its own account). */
  formToken(reply: FastifyReply): string;
  formTokenOk(req: FastifyRequest, token: unknown): boolean;
  close(req: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** The portal's page modules get the subscribers' sessions (portal/; sign-in with the submission account). */
export interface PortalDeps extends WebDeps {
  gate: SessionGate<SubscriberPrincipal>;
  signin: PortalSignIn;
}

/** A mailbox server the guides name (autoconfig.incoming: someone else's IMAP/POP3; portwarden hosts none). */
export interface IncomingServer { type: 'imap' | 'pop3'; hostname: string; port: number; socketType: 'SSL' | 'STARTTLS' }

/** The provider's facts the public portal pages show, from the config (cli/portal-site.ts builds it). */
export interface PortalSite {
  /** The provider's name as the pages and mail clients show it (autoconfig.displayName, else the server name). */
  displayName: string;
  /** The submission server's public name (autoconfig.server, else hostname). */
  server: string;
  /** Public submission ports: STARTTLS (587) and implicit TLS (465). */
  starttlsPort: number;
  tlsPort: number;
  /** The hosted mail domains (autoconfig.domains). */
  domains: readonly string[];
  incoming: readonly IncomingServer[];
  /** The autoconfig listener serves the signed Apple profile at http://autoconfig.<domain>/mobileconfig (autoconfig.listen is set). */
  appleProfile: boolean;
  /** Networks of reverse proxies whose X-Forwarded-For is believed (portal.trustedProxies). */
  trustedProxies: readonly string[];
  /** The quarantine notice page subscribers are sent to (abuse.notices.pageUrl). */
  noticeUrl: string;
  /** Where a signed-in subscriber asks for a port-25 exemption (a SUBSCRIBER_PAGES path). */
  exemptionPath: string;
}

/** What the public portal pages get: the site's facts besides the common dependencies. */
export interface PublicDeps extends WebDeps {
  site: PortalSite;
}

// web: the people's pages (issue 13), server-rendered HTML on the one HTTP layer:
// the subscriber portal (portal/: setup guides, "Am I blocked?", exemption
// requests, sign-in with the submission account) and the staff console
// (console/: accounts, subscribers, queue, cases, exemption review, network
// policy, audit, charts; staff users with roles, argon2id and TOTP).
//
// Trusts: the operations it runs (every change goes through app's invoke() as
// the signed-in person, so the role check and the audit are app's) and the
// session rows it wrote. Trusts nothing a browser sends: every form field is
// checked against the operation's schema, every value shown is escaped by the
// `html` tag (html.ts), no page runs script (CSP), every change needs the
// session's CSRF token and comes by POST with a 303 after it.
export { esc, html, join, trusted, Html } from './html.ts';
export { page, type NavItem, type PageShell } from './layout.ts';
export { PAGE_HEADERS, seeOther, sendPage } from './respond.ts';
export { actorOf, runAs } from './run.ts';
export type {
  ConsoleDeps, IncomingServer, PageAnswer, PageModule, PortalDeps, PortalSignIn, PortalSite, Principal, PublicDeps, SessionGate, SignInOutcome, StaffPrincipal, SubscriberPrincipal, WebDeps,
} from './types.ts';
export { PUBLIC_PAGES, SUBSCRIBER_PAGES, clientAddress } from './portal/index.ts';
export { CONSOLE_PAGES } from './console/index.ts';
export { consoleFrame, type ConsoleFrameOptions } from './console/frame.ts';
export { CONSOLE_AREAS, areasFor, navFor, type ConsoleArea } from './console/nav.ts';
export { alert, consolePage, csrfField, notice, type ConsolePage } from './console/shell.ts';
export { ConsoleSessions, CODE_STAGE_MS, PRE_COOKIE, SESSION_COOKIE, type ConsoleSessionOptions } from './staff/gate.ts';
export { PORTAL_COOKIE, PORTAL_SESSION_MIGRATIONS, SIGNIN_COOKIE, PortalSessions, type PortalSessionOptions } from './portal/sessions.ts';

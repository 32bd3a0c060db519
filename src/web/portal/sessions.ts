// The subscribers' portal sessions: a server-side row per session, keyed by the
// SHA-256 of a random 256-bit id that only the cookie holds (a leaked table
// opens no session), with a lifetime from sign-in and an idle timeout. The
// cookie is `__Host-pw_portal`: HttpOnly, Secure, SameSite=Strict, Path=/, no
// Domain (the __Host- prefix makes the browser insist on all of that). The
// CSRF token is the HMAC of the session id under a secret of the data
// directory, so every tab of one session carries the same valid token and a
// restart keeps them valid.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie'; // its types: reply.setCookie, request.cookies
import type { Clock } from '../../core/index.ts';
import type { Db, DbMigration } from '../../store/index.ts';
import type { SessionGate, SubscriberPrincipal } from '../types.ts';

export const PORTAL_COOKIE = '__Host-pw_portal';
/** The sign-in form's double-submit token (before there is a session). */
export const SIGNIN_COOKIE = '__Host-pw_signin';

export const PORTAL_SESSION_MIGRATIONS: readonly DbMigration[] = [{
  id: 'web/001-portal-sessions',
  sqlite: `CREATE TABLE web_portal_sessions (id_hash TEXT PRIMARY KEY, login TEXT NOT NULL, subscriber TEXT,
    created_at BIGINT NOT NULL, seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
    CREATE INDEX web_portal_sessions_expires ON web_portal_sessions (expires_at);`,
  postgres: `CREATE TABLE web_portal_sessions (id_hash TEXT PRIMARY KEY, login TEXT NOT NULL, subscriber TEXT,
    created_at BIGINT NOT NULL, seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
    CREATE INDEX web_portal_sessions_expires ON web_portal_sessions (expires_at);`,
}];

export interface PortalSessionOptions {
  db: Db;
  /** The CSRF HMAC key (loadSecretFile(dataDir, 'portal-secret')). */
  secret: Buffer;
  clock: Clock;
  /** portal.sessionHours in ms. */
  lifetimeMs: number;
  /** portal.idleMinutes in ms. */
  idleMs: number;
}

const ID = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (id: string): string => createHash('sha256').update(id).digest('hex');
/** seen_at is written at most this often per session: a page with many requests is one write. */
const TOUCH_MS = 30_000;

interface Row { login: string; subscriber: string | null; created_at: number | string; seen_at: number | string; expires_at: number | string }

export class PortalSessions implements SessionGate<SubscriberPrincipal> {
  private readonly o: PortalSessionOptions;
  private readonly seen = new WeakMap<FastifyRequest, SubscriberPrincipal | null>();
  private lastPrune = 0;

  constructor(o: PortalSessionOptions) {
    this.o = o;
  }

  csrfOf(sessionId: string): string {
    return createHmac('sha256', this.o.secret).update(`portal-csrf:${sessionId}`).digest('base64url');
  }

  async current(req: FastifyRequest): Promise<SubscriberPrincipal | null> {
    if (this.seen.has(req)) return this.seen.get(req)!;
    const p = await this.lookup(req);
    this.seen.set(req, p);
    return p;
  }

  private async lookup(req: FastifyRequest): Promise<SubscriberPrincipal | null> {
    const id = req.cookies?.[PORTAL_COOKIE];
    if (typeof id !== 'string' || !ID.test(id)) return null;
    const h = hashOf(id);
    const r = await this.o.db.get<Row>('SELECT login, subscriber, created_at, seen_at, expires_at FROM web_portal_sessions WHERE id_hash = ?', [h]);
    if (!r) return null;
    const now = this.o.clock.now();
    if (Number(r.expires_at) <= now || Number(r.seen_at) + this.o.idleMs <= now) {
      await this.o.db.run('DELETE FROM web_portal_sessions WHERE id_hash = ?', [h]);
      return null;
    }
    if (now - Number(r.seen_at) >= TOUCH_MS) await this.o.db.run('UPDATE web_portal_sessions SET seen_at = ? WHERE id_hash = ?', [now, h]);
    return { kind: 'subscriber', login: r.login, subscriber: r.subscriber, sessionId: id, csrf: this.csrfOf(id) };
  }

  csrfOk(_req: FastifyRequest, principal: SubscriberPrincipal, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const want = Buffer.from(this.csrfOf(principal.sessionId));
    const got = Buffer.from(token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** A token for the sign-in form, also set as a cookie; the POST must carry both, equal. */
  formToken(reply: FastifyReply): string {
    const t = randomBytes(32).toString('base64url');
    reply.setCookie(SIGNIN_COOKIE, t, { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: 3600 });
    return t;
  }

  formTokenOk(req: FastifyRequest, token: unknown): boolean {
    const c = req.cookies?.[SIGNIN_COOKIE];
    if (typeof token !== 'string' || typeof c !== 'string' || !ID.test(c)) return false;
    const a = Buffer.from(c), b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** A new session for a signed-in account; sets the cookie on `reply`. */
  async open(reply: FastifyReply, login: string, subscriber: string | null): Promise<SubscriberPrincipal> {
    const now = this.o.clock.now();
    if (now - this.lastPrune > 600_000) {
      this.lastPrune = now;
      await this.o.db.run('DELETE FROM web_portal_sessions WHERE expires_at <= ? OR seen_at <= ?', [now, now - this.o.idleMs]);
    }
    const id = randomBytes(32).toString('base64url');
    await this.o.db.run('INSERT INTO web_portal_sessions (id_hash, login, subscriber, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      [hashOf(id), login, subscriber, now, now, now + this.o.lifetimeMs]);
    reply.setCookie(PORTAL_COOKIE, id, { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: Math.floor(this.o.lifetimeMs / 1000) });
    return { kind: 'subscriber', login, subscriber, sessionId: id, csrf: this.csrfOf(id) };
  }

  /** Ends the request's session (the row goes) and clears the cookie. */
  async close(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const p = await this.current(req);
    if (p) await this.o.db.run('DELETE FROM web_portal_sessions WHERE id_hash = ?', [hashOf(p.sessionId)]);
    this.seen.set(req, null);
    reply.clearCookie(PORTAL_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
  }

  /** Ends every session of an account (a password change or a disabled account). */
  async closeAll(login: string): Promise<number> {
    return (await this.o.db.run('DELETE FROM web_portal_sessions WHERE login = ?', [login])).changes;
  }
}

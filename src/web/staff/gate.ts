// The console's sessions: the SessionGate every console page asks who is
// signed in. The cookie `__Host-pw_console` (HttpOnly, Secure, SameSite=Strict,
// Path=/, no Domain: the prefix makes the browser insist on all of it) holds a
// random 32-byte id; the row holds its SHA-256 (app's StaffAccess). A session
// ends `sessionHours` after its sign-in and after `idleMinutes` without a
// request; disabling the user or changing the role deletes its rows.
//
// CSRF: one token per session, HMAC-SHA256 of the session id under a key of
// the data directory, so every tab of the session carries the same token and
// several tabs work at once; it changes when the session does (the id is
// rotated at sign-in). Before the sign-in there is no session: the sign-in
// form's token is the HMAC of a random pre-session cookie instead.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/index.ts';
import type { SessionRow, StaffAccess } from '../../app/index.ts';
import type { SessionGate, StaffPrincipal } from '../types.ts';

export const SESSION_COOKIE = '__Host-pw_console';
export const PRE_COOKIE = '__Host-pw_console_pre';
/** The password step's session waits this long for its code. */
export const CODE_STAGE_MS = 5 * 60_000;
/** seen_at is written at most this often per session (a page of many requests is not many writes). */
const TOUCH_EVERY_MS = 30_000;
const ID = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSessionOptions {
  access: StaffAccess;
  /** The CSRF key (32 bytes from the data directory). */
  secret: Buffer;
  sessionMs: number;
  idleMs: number;
  clock: Clock;
}

/** The signed-in session behind a request, at whatever stage it is. */
export interface SessionAt { id: string; row: SessionRow }

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class ConsoleSessions implements SessionGate<StaffPrincipal> {
  readonly access: StaffAccess;
  private readonly o: ConsoleSessionOptions;
  private readonly seen = new WeakMap<FastifyRequest, StaffPrincipal | null>();
  constructor(o: ConsoleSessionOptions) {
    this.o = o;
    this.access = o.access;
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.o.secret).update(`${purpose}:${value}`).digest('base64url');
  }

  csrfOf(sessionId: string): string { return this.mac('csrf', sessionId); }

  /** The session of the request's cookie at any stage, within its lifetimes; an expired row is deleted. */
  async session(req: FastifyRequest): Promise<SessionAt | null> {
    const id = req.cookies?.[SESSION_COOKIE];
    if (!id || !ID.test(id)) return null;
    const row = await this.access.session(id);
    if (!row) return null;
    const now = this.o.clock.now();
    const maxAge = row.stage === 'code' ? CODE_STAGE_MS : this.o.sessionMs;
    if (row.disabled || now - row.createdAt >= maxAge || now - row.seenAt >= this.o.idleMs) {
      await this.access.endSession(row.idHash);
      return null;
    }
    if (now - row.seenAt >= TOUCH_EVERY_MS) await this.access.touch(row.idHash);
    return { id, row };
  }

  async current(req: FastifyRequest): Promise<StaffPrincipal | null> {
    if (this.seen.has(req)) return this.seen.get(req)!;
    const s = await this.session(req);
    const p: StaffPrincipal | null = s && s.row.stage === 'ok'
      ? { kind: 'staff', name: s.row.name, role: s.row.role, sessionId: s.id, csrf: this.csrfOf(s.id) }
      : null;
    this.seen.set(req, p);
    return p;
  }

  csrfOk(_req: FastifyRequest, principal: StaffPrincipal, token: unknown): boolean {
    return typeof token === 'string' && sameText(token, this.csrfOf(principal.sessionId));
  }

  /** The token of a session at an earlier stage (the code and password forms, sign-out). */
  csrfOkFor(sessionId: string, token: unknown): boolean {
    return typeof token === 'string' && sameText(token, this.csrfOf(sessionId));
  }

  setSession(reply: FastifyReply, id: string): void {
    reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: Math.floor(this.o.sessionMs / 1000) });
  }

  clearSession(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
  }

  /** The sign-in form's token: from the pre-session cookie, made (and set) when the request has none. */
  preToken(req: FastifyRequest, reply: FastifyReply): string {
    let v = req.cookies?.[PRE_COOKIE];
    if (!v || !ID.test(v)) {
      v = randomBytes(32).toString('base64url');
      reply.setCookie(PRE_COOKIE, v, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
    }
    return this.mac('pre', v);
  }

  preOk(req: FastifyRequest, token: unknown): boolean {
    const v = req.cookies?.[PRE_COOKIE];
    return !!v && ID.test(v) && typeof token === 'string' && sameText(token, this.mac('pre', v));
  }

  /** Deletes the rows past their lifetimes (at each sign-in: abandoned sessions do not pile up). */
  async prune(): Promise<number> {
    const now = this.o.clock.now();
    return this.access.prune(now - this.o.sessionMs, now - this.o.idleMs);
  }
}

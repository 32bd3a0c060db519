// Signed, expiring link tokens for notices, and the per-page CSRF values of the
// notice page. A link token names one case and its subscriber and grants only
// viewing that case and releasing it oneself; it is a bearer value (whoever has
// the mail has the link), so it carries nothing secret and expires.
//
// Format: base64url(JSON {c, s, e}) "." base64url(HMAC-SHA256). The HMAC key is
// derived per purpose from one secret kept in the data directory
// (`<dataDir>/notice-secret`, 32 random bytes, created once, 0600, exclusively;
// the same way as the SCRAM fake-salt secret), so a CSRF value can never be
// passed off as a link token or the reverse. Verification recomputes the MAC
// and compares in constant time before it trusts any byte of the payload.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { loadSecretFile, systemClock, type Clock } from '../../core/index.ts';

/** Longest token we look at: a bigger one is malformed whatever it holds. */
const MAX_TOKEN = 1024;

/** `<dataDir>/notice-secret`: read it, or create it (0600, exclusively) with 32 random bytes. */
export function loadNoticeSecret(dataDir: string): Buffer {
  return loadSecretFile(dataDir, 'notice-secret', 'links already sent stop working');
}

export type TokenRefusal = 'malformed' | 'bad-signature' | 'expired';

/** What a refusal means, in words for a log line or the page. */
export const TOKEN_REFUSALS: Record<TokenRefusal, string> = {
  'malformed': 'the link is incomplete or damaged',
  'bad-signature': 'the link was not issued by us or was altered',
  'expired': 'the link has expired',
};

export interface LinkGrant { case: string; subscriber: string; expires: number }
export type Verified<T> = { ok: true; value: T } | { ok: false; reason: TokenRefusal };

/** A CSRF value: which case (and, in the garden, which address) the page was made for, and when. */
export interface CsrfGrant { case: string; bound: string; issued: number }

const B64URL = /^[A-Za-z0-9_-]+$/;

export interface NoticeTokenOptions {
  secret: Buffer;
  /** Link lifetime (abuse.notices.tokenTtlHours). */
  ttlHours: number;
  /** How long a page's form stays good (default 2 h). */
  csrfTtlMs?: number;
  clock?: Clock;
}

export class NoticeTokens {
  readonly ttlMs: number;
  readonly csrfTtlMs: number;
  private readonly linkKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly clock: Clock;

  constructor(o: NoticeTokenOptions) {
    if (o.secret.length < 16) throw new Error('notice token secret is too short');
    this.ttlMs = o.ttlHours * 3_600_000;
    this.csrfTtlMs = o.csrfTtlMs ?? 2 * 3_600_000;
    this.clock = o.clock ?? systemClock;
    this.linkKey = createHmac('sha256', o.secret).update('portwarden notice link v1').digest();
    this.csrfKey = createHmac('sha256', o.secret).update('portwarden notice csrf v1').digest();
  }

  /** A link token for this case and subscriber, good for tokenTtlHours from now. */
  link(caseId: string, subscriber: string): string {
    return seal(this.linkKey, { c: caseId, s: subscriber, e: this.clock.now() + this.ttlMs });
  }

  verifyLink(token: unknown): Verified<LinkGrant> {
    const r = open(this.linkKey, token);
    if (!r.ok) return r;
    const p = r.value;
    if (typeof p.c !== 'string' || typeof p.s !== 'string' || typeof p.e !== 'number' || !p.c || !p.s || !Number.isFinite(p.e)) return { ok: false, reason: 'malformed' };
    if (this.clock.now() >= p.e) return { ok: false, reason: 'expired' };
    return { ok: true, value: { case: p.c, subscriber: p.s, expires: p.e } };
  }

  /** A fresh value for one page's form; `bound` is the link's subscriber or the garden client's address. */
  csrf(caseId: string, bound: string): string {
    return seal(this.csrfKey, { c: caseId, b: bound, i: this.clock.now(), n: randomBytes(9).toString('base64url') });
  }

  /** Good when signed by us, not older than csrfTtlMs, and made for this case and binding. */
  verifyCsrf(value: unknown, caseId: string, bound: string): Verified<CsrfGrant> {
    const r = open(this.csrfKey, value);
    if (!r.ok) return r;
    const p = r.value;
    if (typeof p.c !== 'string' || typeof p.b !== 'string' || typeof p.i !== 'number') return { ok: false, reason: 'malformed' };
    if (p.c !== caseId || p.b !== bound) return { ok: false, reason: 'bad-signature' };
    const age = this.clock.now() - p.i;
    if (age < -60_000 || age >= this.csrfTtlMs) return { ok: false, reason: 'expired' };
    return { ok: true, value: { case: p.c, bound: p.b, issued: p.i } };
  }
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

function seal(key: Buffer, payload: Record<string, unknown>): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

function open(key: Buffer, token: unknown): Verified<Record<string, unknown>> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!B64URL.test(body) || !B64URL.test(sig)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const want = mac(key, body);
  // Constant time over the MAC's length; a wrong length is no secret.
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'bad-signature' };
  let p: unknown;
  try { p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')); } catch { return { ok: false, reason: 'malformed' }; }
  if (!p || typeof p !== 'object' || Array.isArray(p)) return { ok: false, reason: 'malformed' };
  return { ok: true, value: p as Record<string, unknown> };
}

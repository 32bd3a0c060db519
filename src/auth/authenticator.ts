// Decides authentication outcomes for the SASL mechanisms: the brute-force gate
// first, then credentials, then authorization (authzid), then account status.
// The order matters: a locked login is refused before any lookup or hash, a
// disabled account is only revealed (525 5.7.13) to someone who proved the
// password, and an unknown user costs one argon2id verification like a known one.
// Every failure is then padded to one floor (the configured one, or the slowest
// verification seen in the last hour or two if that is more), so neither
// existence nor an imported hash's type shows in the time a failure takes.
import { createHmac, randomBytes } from 'node:crypto';
import type { Logger, Reply } from '../core/index.ts';
import type { AuthRecord, CredentialSource } from './accounts.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkPassword, deriveScram, hashPassword, needsRehash, type HashScheme } from './hashes.ts';
import { normalizeLogin } from './names.ts';
import { AUTH_FAILED, TEMPORARY, accountDisabled } from './replies.ts';
import { fakeScramCredentials, SCRAM_ITERATIONS, type ScramCredentials } from './scram-keys.ts';

// RFC 4616 asks for at least 255 octets. Far longer ones only make crypt-style
// hashes slow (SHA-crypt's work grows with the length), so they fail early.
const MAX_PASSWORD = 1024;

export type AuthFailure = 'credentials' | 'disabled' | 'temporary' | 'locked';

/**
 * The brute-force lock for a login, as the client typed it (the caller keys it with
 * normalizeLogin, the same function the lookup uses). A reply means locked: the exchange
 * ends with it before the account is looked up or any hash computed, so the answer cannot
 * depend on the password.
 */
export type LoginGate = (login: string) => Promise<Reply | null>;

export type AuthResult =
  | { ok: true; identity: string }
  | { ok: false; fail: AuthFailure; reply: Reply };

/** May `authcid` act as `authzid` (RFC 4616 §2)? Default: nobody may. */
export type AuthorizeHook = (authcid: string, authzid: string) => boolean | Promise<boolean>;

export interface AuthenticatorOptions {
  logger: Logger;
  /** Remediation page named in the 525 5.7.13 text; a function may build one per account. */
  disabledUrl: string | ((account: { login: string; reason: string | null }) => string);
  authorize?: AuthorizeHook;
  /** After a successful PLAIN/LOGIN, replace a weaker or imported hash with argon2id. Default true. */
  rehashOnLogin?: boolean;
  /** Every failure takes at least this long (ms) from the start of the check; default 250. */
  failureFloorMs?: number;
  /** How the padding waits; injectable so tests can see it. */
  wait?: (ms: number) => Promise<unknown>;
  /**
   * Dovecot-style cache of successful PLAIN/LOGIN verifications, so a client that logs in
   * every few seconds does not pay an argon2id hash each time. Seconds; 0 turns it off.
   * Default 300. Failures are never cached; account status is checked on every login.
   */
  cacheTtl?: number;
  cacheSize?: number;
  now?: () => number;
  /** Key for the stable fake SCRAM salts of unknown users (loadScramSecret); random per process when absent. */
  scramSecret?: Buffer;
  /** PBKDF2 count for SCRAM keys derived at login, and shown in fake ones. Default SCRAM_ITERATIONS. */
  scramIterations?: number;
}

/** What a SCRAM exchange gets at client-first: keys to check the proof against, real or fake. */
export interface ScramLookup {
  creds: ScramCredentials;
  /** Opaque to the mechanism; handed back to scramFinish. */
  record: AuthRecord | null;
}

export class Authenticator {
  private readonly accounts: CredentialSource;
  private readonly opts: AuthenticatorOptions;
  private readonly log: Logger;
  private readonly scramSecret: Buffer;
  private readonly scramIterations: number;
  private dummy: Promise<string> | null = null;
  private readonly verified: VerifiedCache;
  private readonly slowest: SlowestVerification;
  private readonly floorMs: number;
  private readonly wait: (ms: number) => Promise<unknown>;

  constructor(accounts: CredentialSource, opts: AuthenticatorOptions) {
    this.accounts = accounts;
    this.opts = opts;
    this.log = opts.logger.child({ part: 'auth' });
    this.scramSecret = opts.scramSecret ?? randomBytes(32);
    this.scramIterations = opts.scramIterations ?? SCRAM_ITERATIONS;
    this.verified = new VerifiedCache((opts.cacheTtl ?? 300) * 1000, opts.cacheSize ?? 10_000, opts.now ?? Date.now);
    this.slowest = new SlowestVerification(opts.now ?? Date.now);
    this.floorMs = opts.failureFloorMs ?? 250;
    this.wait = opts.wait ?? sleep;
  }

  /** PLAIN and LOGIN: check a cleartext password. */
  async verifyPlain(authcid: string, password: string, authzid?: string, gate?: LoginGate): Promise<AuthResult> {
    const locked = gate ? await gate(authcid) : null;
    if (locked) return this.locked(authcid, locked);
    const login = normalizeLogin(authcid);
    let rec: AuthRecord | null;
    try {
      rec = login === null ? null : await this.accounts.authRecord(login);
    } catch (err) {
      return this.temporary(authcid, err);
    }
    try {
      if (!rec || password.length > MAX_PASSWORD) {
        // Same work as a real check of the default type, so an unknown user is not faster to refuse.
        const v = await checkPassword(await this.dummyHash(), password.slice(0, MAX_PASSWORD));
        return await this.failed(authcid, rec ? 'password too long' : 'unknown user', v.ms);
      }
      // The key covers the stored hash: a password change (or rehash) retires old entries by itself.
      const key = this.verified.key(rec.login, password, rec.hash);
      if (!this.verified.has(key)) {
        const v = await checkPassword(rec.hash, password);
        this.slowest.add(v.ms);
        if (!v.ok) return await this.failed(rec.login, v.reason, v.ms);
        await this.upgrade(rec, password, v.scheme);
        this.verified.add(key);
      }
    } catch (err) {
      return this.temporary(rec?.login ?? authcid, err); // the hash queue is full (HashBusyError)
    }
    return this.decide(rec, authzid, 'plain');
  }

  /**
   * SCRAM: keys for client-first. Unknown users and accounts without SCRAM keys get fake ones,
   * made from the normalised login and the configured count, so the two look the same.
   */
  async scramLookup(username: string, gate?: LoginGate): Promise<ScramLookup | { ok: false; fail: 'temporary' | 'locked'; reply: Reply }> {
    const locked = gate ? await gate(username) : null;
    if (locked) return await this.locked(username, locked);
    const login = normalizeLogin(username);
    let rec: AuthRecord | null;
    try {
      rec = login === null ? null : await this.accounts.authRecord(login);
    } catch (err) {
      return this.temporary(username, err);
    }
    return { creds: rec?.scram ?? fakeScramCredentials(this.scramSecret, login ?? username, this.scramIterations), record: rec };
  }

  /** SCRAM: after the client proof was checked against `lookup.creds`. */
  async scramFinish(lookup: ScramLookup, username: string, proofOk: boolean, authzid?: string): Promise<AuthResult> {
    const rec = lookup.record;
    if (!rec) return this.failed(username, 'unknown user', 0);
    if (!rec.scram) {
      // Nothing to check the proof against yet. RFC 4954 §6 would answer 432 4.7.12, but that
      // tells a prober the name is real; it reads like an unknown user, the reason goes to the log.
      this.log.info({ event: 'auth-transition', login: rec.login }, 'SCRAM without stored keys; PLAIN/LOGIN once derives them');
      return this.failed(rec.login, 'no SCRAM keys yet', 0);
    }
    if (!proofOk) return this.failed(rec.login, 'proof mismatch', 0);
    return this.decide(rec, authzid, 'scram');
  }

  private async decide(rec: AuthRecord, authzid: string | undefined, how: string): Promise<AuthResult> {
    let identity = rec.login;
    if (authzid !== undefined && authzid !== '') {
      const target = normalizeLogin(authzid);
      if (target !== rec.login) {
        let allowed = false;
        try {
          allowed = target !== null && this.opts.authorize !== undefined && (await this.opts.authorize(rec.login, target));
        } catch (err) {
          return this.temporary(rec.login, err);
        }
        if (!allowed) return this.failed(rec.login, `not authorized to act as ${authzid}`, 0);
        identity = target!;
      }
    }
    if (rec.status !== 'active') {
      this.log.info({ event: 'auth-disabled', login: rec.login, reason: rec.disabledReason }, 'correct credentials for a disabled account');
      const u = this.opts.disabledUrl;
      const url = typeof u === 'string' ? u : u({ login: rec.login, reason: rec.disabledReason });
      return { ok: false, fail: 'disabled', reply: accountDisabled(url) };
    }
    this.log.debug({ event: 'auth-ok', login: rec.login, identity, how }, 'authenticated'); // the auth line comes from the auth.succeeded event
    return { ok: true, identity };
  }

  // A proved cleartext password is the one chance to derive SCRAM keys (and,
  // if asked, a stronger hash) for accounts imported without them.
  private async upgrade(rec: AuthRecord, password: string, scheme: HashScheme): Promise<void> {
    try {
      const update: { hash?: string; scram?: ScramCredentials } = {};
      if (!rec.scram || rec.scram.iterations < this.scramIterations) {
        const scram = await deriveScram(password, this.scramIterations);
        if (scram) update.scram = scram;
      }
      if ((this.opts.rehashOnLogin ?? true) && needsRehash(rec.hash)) update.hash = await hashPassword(password);
      if (update.scram || update.hash) {
        await this.accounts.updateCredentials(rec.login, update);
        this.log.info({ event: 'auth-upgrade', login: rec.login, scram: !!update.scram, rehash: !!update.hash }, 'credentials upgraded on login');
        // The audit record of a stored hash being replaced.
        if (update.hash) this.log.info({ event: 'auth-rehash', login: rec.login, from: scheme, to: 'argon2id' }, 'password rehashed to argon2id');
      }
    } catch (err) {
      this.log.warn({ event: 'auth-upgrade-failed', login: rec.login, err: String(err) }, 'could not upgrade credentials');
    }
  }

  private dummyHash(): Promise<string> {
    if (!this.dummy) {
      this.dummy = hashPassword(randomBytes(16).toString('base64'));
      this.dummy.catch(() => { this.dummy = null; }); // a full queue must not poison it
    }
    return this.dummy;
  }

  // Waits out the rest of the floor after `computedMs` of real hash work.
  private async pad(computedMs: number): Promise<void> {
    const rest = Math.max(this.floorMs, this.slowest.get()) - computedMs;
    if (rest > 0) await this.wait(rest);
  }

  private async failed(who: string, reason: string, computedMs: number): Promise<AuthResult> {
    this.log.debug({ event: 'auth-failed', login: who, reason }, 'authentication failed'); // the detail behind the auth.failed line
    await this.pad(computedMs);
    return { ok: false, fail: 'credentials', reply: AUTH_FAILED };
  }

  private async locked(who: string, reply: Reply): Promise<{ ok: false; fail: 'locked'; reply: Reply }> {
    this.log.info({ event: 'auth-locked', login: who }, 'login locked out; password not checked');
    await this.pad(0);
    return { ok: false, fail: 'locked', reply };
  }

  private temporary(who: string, err: unknown): { ok: false; fail: 'temporary'; reply: Reply } {
    this.log.error({ event: 'auth-temporary', login: who, err: String(err) }, 'account lookup failed');
    return { ok: false, fail: 'temporary', reply: TEMPORARY };
  }
}

/** The slowest verification in this hour and the last (capped), so one slow hash raises every failure's floor for a while. */
class SlowestVerification {
  private readonly now: () => number;
  private hour = 0;
  private current = 0;
  private previous = 0;
  constructor(now: () => number) { this.now = now; }
  add(ms: number): void {
    this.roll();
    this.current = Math.max(this.current, Math.min(ms, 5000));
  }
  get(): number {
    this.roll();
    return Math.max(this.current, this.previous);
  }
  private roll(): void {
    const h = Math.floor(this.now() / 3_600_000);
    if (h === this.hour) return;
    this.previous = h === this.hour + 1 ? this.current : 0;
    this.current = 0;
    this.hour = h;
  }
}

/** Successful verifications, by an HMAC of login, password and stored hash (never the password itself). */
class VerifiedCache {
  private readonly ttl: number;
  private readonly max: number;
  private readonly now: () => number;
  private readonly secret = randomBytes(32);
  private readonly entries = new Map<string, number>(); // key → expiry; insertion order = age

  constructor(ttlMs: number, max: number, now: () => number) {
    this.ttl = ttlMs;
    this.max = max;
    this.now = now;
  }

  key(login: string, password: string, hash: string): string {
    return createHmac('sha256', this.secret).update(login).update('\0').update(password).update('\0').update(hash).digest('base64');
  }

  has(key: string): boolean {
    if (this.ttl <= 0) return false;
    const exp = this.entries.get(key);
    if (exp === undefined) return false;
    if (exp > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string): void {
    if (this.ttl <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, this.now() + this.ttl);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}

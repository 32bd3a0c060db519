// Failed-AUTH defence (REQUIREMENTS B7): failures counted per IP, per prefix (IPv4
// /24, IPv6 /64, and IPv6 /56 and /48 aggregates) and per account in GCRA buckets
// on the same stores as the limits (so a fleet shares them through Redis); growing
// delays on the failure reply, then a temporary lockout that expires by itself.
// The account is the login as auth normalises it (the caller passes that function
// as `accountKey`), so spelling variants are one account; it is counted whether or
// not the account exists, so an unknown account and a wrong password get the same
// replies and the same delays (no enumeration). Trusted networks are not counted.
//
// A plain lockout per login would let anyone lock a victim out. So the account
// bucket is split by where the attempt comes from: each source prefix the account
// logged in from within knownPrefixDays has its own bucket, and every other prefix
// shares one. An attacker elsewhere locks only (account, unknown prefixes); the
// owner at home still gets in. Known prefixes live in the limit store (Redis for a
// fleet) unless the caller gives another KnownPrefixes (the embedded server keeps
// them in SQLite, so they survive a restart).
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import { CidrList, parseIp, formatIp, prefixKey } from './ip.ts';
import type { Per } from './rules.ts';
import type { LimitKey, LimitStore, MaybePromise } from './types.ts';

export type BruteForceScope = 'ip' | 'prefix' | 'prefix56' | 'prefix48' | 'account';

export interface BruteForceScopeSpec {
  /** Lock when this many failures fall within `per` (GCRA: the count drains continuously). */
  failures: number;
  per: Per;
  lockoutMs?: number;
}

export interface BruteForceSpec {
  ip?: BruteForceScopeSpec | false;
  /** IPv4 /ipv4Prefix and IPv6 /ipv6Prefix. */
  prefix?: BruteForceScopeSpec | false;
  /** IPv6 only: aggregates over the /64s of one customer delegation (/56) or site (/48). */
  prefix56?: BruteForceScopeSpec | false;
  prefix48?: BruteForceScopeSpec | false;
  account?: BruteForceScopeSpec | false;
  /** Delay before the nth failure reply (index n−1); the last entry repeats. */
  delaysMs?: number[];
  lockoutMs?: number;
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  /** A prefix stays known for the account this long after its last successful login. */
  knownPrefixDays?: number;
  trusted?: string[];
}

export type AuthGate =
  | { readonly action: 'proceed'; readonly delayMs: number }
  | { readonly action: 'locked'; readonly scope: BruteForceScope; readonly retryAfterMs: number };

export interface LockoutEvent {
  scope: BruteForceScope;
  /** The IP, prefix or account that is locked; "account prefix" for a known prefix's own bucket. */
  subject: string;
  ip: string;
  login: string;
  lockoutMs: number;
  at: number;
}

/** Where the prefixes an account logged in from are remembered (for `maxAgeMs` after the last login). */
export interface KnownPrefixes {
  has(account: string, prefix: string, maxAgeMs: number): MaybePromise<boolean>;
  add(account: string, prefix: string, maxAgeMs: number): MaybePromise<void>;
}

export interface BruteForceOptions {
  store: LimitStore;
  spec?: BruteForceSpec;
  /** The login as the authenticator looks it up (auth's normalizeLogin); null: not a usable login. */
  accountKey: (login: string) => string | null;
  /** Default: kept in `store` (shared by a fleet on Redis). */
  known?: KnownPrefixes;
  clock?: Clock;
  logger?: Logger;
  onLockout?: (ev: LockoutEvent) => void;
}

/** The defaults README "Brute force" documents. */
export const BRUTE_FORCE_DEFAULTS = {
  ip: { failures: 10, per: 600 },
  prefix: { failures: 30, per: 600 },
  prefix56: { failures: 60, per: 600 },
  prefix48: { failures: 100, per: 600 },
  account: { failures: 10, per: 900 },
  delaysMs: [0, 0, 1000, 2000, 4000, 8000],
  lockoutMs: 15 * 60_000,
  knownPrefixDays: 30,
  ipv4Prefix: 24,
  ipv6Prefix: 64,
} as const satisfies Record<BruteForceScope, BruteForceScopeSpec> & Omit<BruteForceSpec, BruteForceScope | 'trusted'>;

const PERIODS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const SCOPES: readonly BruteForceScope[] = ['ip', 'prefix', 'prefix56', 'prefix48', 'account'];
const SPEC_KEYS = new Set<string>([...SCOPES, 'delaysMs', 'lockoutMs', 'ipv4Prefix', 'ipv6Prefix', 'knownPrefixDays', 'trusted']);
const LETTER: Record<BruteForceScope, string> = { ip: 'i', prefix: 'p', prefix56: 'q', prefix48: 'r', account: 'a' };
const PROCEED: AuthGate = Object.freeze({ action: 'proceed', delayMs: 0 });
const DAY = 86_400_000;

interface ScopeRule { scope: BruteForceScope; failures: number; intervalMs: number; lockoutMs: number }
type Subjects = Partial<Record<BruteForceScope, string>> & { ip: string };

export function createBruteForce(opts: BruteForceOptions): { ok: true; tracker: BruteForceTracker } | { ok: false, errors: string[] } {
  const spec = opts.spec ?? {};
  const errors: string[] = [];
  for (const k of Object.keys(spec)) if (!SPEC_KEYS.has(k)) errors.push(`${k}: unknown setting (one of ${[...SPEC_KEYS].join(', ')})`);
  const rules: ScopeRule[] = [];
  const lockoutMs = spec.lockoutMs ?? BRUTE_FORCE_DEFAULTS.lockoutMs;
  for (const scope of SCOPES) {
    const s: BruteForceScopeSpec | false = spec[scope] ?? BRUTE_FORCE_DEFAULTS[scope];
    if (s === false) continue;
    const periodMs = typeof s.per === 'number' ? s.per * 1000 : PERIODS[s.per];
    if (!Number.isInteger(s.failures) || s.failures < 1) errors.push(`${scope}.failures: must be a positive integer`);
    if (!(periodMs > 0)) errors.push(`${scope}.per: must be a window name or seconds`);
    rules.push({ scope, failures: s.failures, intervalMs: periodMs / s.failures, lockoutMs: s.lockoutMs ?? lockoutMs });
  }
  const delays = spec.delaysMs ?? BRUTE_FORCE_DEFAULTS.delaysMs;
  if (!delays.length || delays.some((d) => !(d >= 0))) errors.push('delaysMs: must be a non-empty list of non-negative numbers');
  const days = spec.knownPrefixDays ?? BRUTE_FORCE_DEFAULTS.knownPrefixDays;
  if (!(days >= 0)) errors.push('knownPrefixDays: must be a non-negative number (0: no known prefixes)');
  const v4 = spec.ipv4Prefix ?? BRUTE_FORCE_DEFAULTS.ipv4Prefix;
  const v6 = spec.ipv6Prefix ?? BRUTE_FORCE_DEFAULTS.ipv6Prefix;
  if (!(Number.isInteger(v4) && v4 >= 8 && v4 <= 32)) errors.push('ipv4Prefix: must be 8 to 32');
  if (!(Number.isInteger(v6) && v6 >= 16 && v6 <= 128)) errors.push('ipv6Prefix: must be 16 to 128');
  const listed: unknown = spec.trusted ?? [];
  const trusted = Array.isArray(listed) ? CidrList.parse(listed) : { invalid: [] };
  if (!Array.isArray(listed)) errors.push('trusted: must be a list of addresses or CIDRs');
  else if (!(trusted instanceof CidrList)) errors.push(`trusted: not an address or CIDR: ${trusted.invalid.join(', ')}`);
  if (errors.length || !(trusted instanceof CidrList)) return { ok: false, errors };
  const known = days === 0 ? null : opts.known ?? new StoreKnownPrefixes(opts.store);
  return { ok: true, tracker: new BruteForceTracker(opts, { rules, delays, trusted, v4, v6, known, days }) };
}

/** Known prefixes as one-unit GCRA keys: a login drains the key, which refills knownPrefixDays later. */
export class StoreKnownPrefixes implements KnownPrefixes {
  private readonly store: LimitStore;
  constructor(store: LimitStore) { this.store = store; }
  private key(account: string, prefix: string, maxAgeMs: number): LimitKey {
    const id = `bk:${account} ${prefix}`;
    return { id, intervalMs: maxAgeMs, burst: 1, subject: `bf:a:${account}` };
  }
  async has(account: string, prefix: string, maxAgeMs: number): Promise<boolean> {
    const [st] = await this.store.state([this.key(account, prefix, maxAgeMs)]);
    return st.remaining < 1;
  }
  async add(account: string, prefix: string, maxAgeMs: number): Promise<void> {
    const k = this.key(account, prefix, maxAgeMs);
    await this.store.refund([k], 1); // restart the period from this login
    await this.store.check([k], 1);
  }
}

interface TrackerSetup {
  rules: ScopeRule[]; delays: readonly number[]; trusted: CidrList; v4: number; v6: number; known: KnownPrefixes | null; days: number;
}

export class BruteForceTracker {
  private readonly store: LimitStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onLockout?: (ev: LockoutEvent) => void;
  private readonly accountKey: (login: string) => string | null;
  private readonly s: TrackerSetup;

  constructor(opts: BruteForceOptions, setup: TrackerSetup) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger).child({ part: 'limits', what: 'bruteforce' });
    this.onLockout = opts.onLockout;
    this.accountKey = opts.accountKey;
    this.s = setup;
  }

  /** The rules in effect, logged at start (event "bruteforce") so an operator sees what runs. */
  describe(): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    for (const r of this.s.rules) out[r.scope] = `${r.failures} per ${Math.round((r.intervalMs * r.failures) / 1000)} s`;
    const lock = this.s.rules.find((r) => r.scope === 'account') ?? this.s.rules[0];
    return { ...out, lockoutMs: lock?.lockoutMs ?? 0, knownPrefixDays: this.s.days, ipv4Prefix: this.s.v4, ipv6Prefix: this.s.v6 };
  }

  /** How long a locked reply waits: as long as a failure at the top of the delay ladder. */
  lockedDelayMs(): number {
    return this.s.delays[this.s.delays.length - 1];
  }

  /**
   * Before checking credentials: locked or not. `login` null checks only the address
   * scopes (before the client has named anyone).
   */
  async before(ip: string, login: string | null): Promise<AuthGate> {
    const subjects = await this.subjects(ip, login);
    if (!subjects) return PROCEED;
    const rules = this.s.rules.filter((r) => subjects[r.scope] !== undefined);
    const states = await this.store.state(rules.map((r) => this.lockKey(r, subjects[r.scope]!)));
    let gate: AuthGate = PROCEED;
    states.forEach((st, i) => {
      if (st.remaining > 0) return;
      if (gate.action === 'proceed' || st.resetMs > gate.retryAfterMs) gate = { action: 'locked', scope: rules[i].scope, retryAfterMs: st.resetMs };
    });
    return gate;
  }

  /**
   * Records a failed AUTH (wrong password or unknown login alike). Returns the delay
   * to wait before the failure reply, or 'locked' when this failure locked a scope.
   */
  async failed(ip: string, login: string | null): Promise<AuthGate> {
    const subjects = await this.subjects(ip, login);
    if (!subjects) return PROCEED;
    const rules = this.s.rules.filter((r) => subjects[r.scope] !== undefined);
    const results = await Promise.all(rules.map((r) => this.store.check([this.failKey(r, subjects[r.scope]!)], 1)));
    let count = 0;
    const toLock: ScopeRule[] = [];
    results.forEach((d, i) => {
      const r = rules[i];
      if (!d.allowed || d.remaining === 0) toLock.push(r);
      // The delay ladder follows the address and the account; aggregates only lock.
      if (r.scope === 'ip' || r.scope === 'account') count = Math.max(count, d.allowed ? r.failures - d.remaining : r.failures);
    });
    if (!toLock.length) return { action: 'proceed', delayMs: this.s.delays[Math.min(count, this.s.delays.length) - 1] ?? 0 };
    const locked = await Promise.all(toLock.map((r) => this.store.check([this.lockKey(r, subjects[r.scope]!)], 1)));
    const at = this.clock.now();
    let longest = toLock[0];
    toLock.forEach((r, i) => {
      if (r.lockoutMs > longest.lockoutMs) longest = r;
      if (!locked[i].allowed) return; // already locked (by another node or an earlier failure)
      const ev: LockoutEvent = { scope: r.scope, subject: subjects[r.scope]!, ip: subjects.ip, login: subjects.login ?? '', lockoutMs: r.lockoutMs, at };
      this.log.warn({ ...ev }, 'auth lockout');
      this.onLockout?.(ev);
    });
    return { action: 'locked', scope: longest.scope, retryAfterMs: longest.lockoutMs };
  }

  /**
   * A success clears the failures of the account bucket it was counted in (not the IP's:
   * one good password must not whitewash a scanner) and makes its prefix known.
   */
  async succeeded(ip: string, login: string): Promise<void> {
    const subjects = await this.subjects(ip, login);
    const r = this.s.rules.find((x) => x.scope === 'account');
    if (!subjects?.account) return;
    if (r) await this.store.refund([this.failKey(r, subjects.account)], r.failures);
    if (this.s.known && subjects.prefix && subjects.login) await this.s.known.add(subjects.login, subjects.prefix, this.s.days * DAY);
  }

  /** Failure counts and lock times per scope, for the admin view and the policy service. */
  async state(ip: string, login: string): Promise<Array<{ scope: BruteForceScope; subject: string; failures: number; lockedMs: number }>> {
    const subjects = await this.subjects(ip, login);
    if (!subjects) return [];
    const rules = this.s.rules.filter((r) => subjects[r.scope] !== undefined);
    const keys = rules.flatMap((r) => [this.failKey(r, subjects[r.scope]!), this.lockKey(r, subjects[r.scope]!)]);
    const st = await this.store.state(keys);
    return rules.map((r, i) => ({
      scope: r.scope,
      subject: subjects[r.scope]!,
      failures: r.failures - st[2 * i].remaining,
      lockedMs: st[2 * i + 1].remaining === 0 ? st[2 * i + 1].resetMs : 0,
    }));
  }

  private async subjects(ip: string, login: string | null): Promise<(Subjects & { login?: string }) | null> {
    const addr = parseIp(ip);
    if (addr && this.s.trusted.has(addr)) return null;
    const out: Subjects & { login?: string } = { ip: addr ? formatIp(addr) : ip };
    if (addr) {
      out.prefix = prefixKey(addr, this.s.v4, this.s.v6);
      if (addr.v === 6) {
        if (this.s.v6 > 56) out.prefix56 = prefixKey(addr, 32, 56);
        if (this.s.v6 > 48) out.prefix48 = prefixKey(addr, 32, 48);
      }
    } else {
      out.prefix = ip;
    }
    // Bounded so a hostile login string cannot make huge keys (normalizeLogin refuses > 255).
    const account = login === null ? null : this.accountKey(login.slice(0, 1024));
    if (account !== null) {
      out.login = account;
      const known = addr && this.s.known ? await this.s.known.has(account, out.prefix, this.s.days * DAY) : false;
      out.account = known ? `${account} ${out.prefix}` : account;
    }
    return out;
  }

  private failKey(r: ScopeRule, subject: string): LimitKey {
    const tag = `bf:${LETTER[r.scope]}:${subject}`;
    return { id: tag, intervalMs: r.intervalMs, burst: r.failures, subject: tag };
  }

  private lockKey(r: ScopeRule, subject: string): LimitKey {
    return { id: `bl:${LETTER[r.scope]}:${subject}`, intervalMs: r.lockoutMs, burst: 1, subject: `bf:${LETTER[r.scope]}:${subject}` };
  }
}

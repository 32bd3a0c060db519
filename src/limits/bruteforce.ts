// Failed-AUTH defence (REQUIREMENTS B7): failures counted per IP, per prefix and
// per login in GCRA buckets on the same stores as the limits (so a fleet shares
// them through Redis); growing delays on the failure reply, then a temporary
// lockout that expires by itself. The login string is counted whether or not the
// account exists, so an unknown account and a wrong password get the same
// replies and the same delays (no enumeration). Trusted networks are not counted.
//
// A lockout per login lets anyone lock a victim out for lockoutMs; that is the
// price of stopping slow distributed guessing. Set `account: false` to avoid it.
import { type Clock, type Logger, silentLogger, systemClock } from '../core/index.ts';
import { CidrList, parseIp, formatIp, prefixKey } from './ip.ts';
import type { Per } from './rules.ts';
import type { LimitKey, LimitStore } from './types.ts';

export type BruteForceScope = 'ip' | 'prefix' | 'account';

export interface BruteForceScopeSpec {
  /** Lock when this many failures fall within `per` (GCRA: the count drains continuously). */
  failures: number;
  per: Per;
  lockoutMs?: number;
}

export interface BruteForceSpec {
  ip?: BruteForceScopeSpec | false;
  prefix?: BruteForceScopeSpec | false;
  account?: BruteForceScopeSpec | false;
  /** Delay before the nth failure reply (index n−1); the last entry repeats. */
  delaysMs?: number[];
  lockoutMs?: number;
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  trusted?: string[];
}

export type AuthGate =
  | { readonly action: 'proceed'; readonly delayMs: number }
  | { readonly action: 'locked'; readonly scope: BruteForceScope; readonly retryAfterMs: number };

export interface LockoutEvent {
  scope: BruteForceScope;
  /** The IP, prefix or (lower-cased) login that is locked. */
  subject: string;
  ip: string;
  login: string;
  lockoutMs: number;
  at: number;
}

export interface BruteForceOptions {
  store: LimitStore;
  spec?: BruteForceSpec;
  clock?: Clock;
  logger?: Logger;
  onLockout?: (ev: LockoutEvent) => void;
}

const DEFAULTS: Record<BruteForceScope, BruteForceScopeSpec> & { delaysMs: number[]; lockoutMs: number } = {
  ip: { failures: 10, per: 600 },
  prefix: { failures: 30, per: 600 },
  account: { failures: 10, per: 900 },
  delaysMs: [0, 0, 1000, 2000, 4000, 8000],
  lockoutMs: 15 * 60_000,
};
const PERIODS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const SCOPES: readonly BruteForceScope[] = ['ip', 'prefix', 'account'];
const PROCEED: AuthGate = Object.freeze({ action: 'proceed', delayMs: 0 });

interface ScopeRule { scope: BruteForceScope; failures: number; intervalMs: number; lockoutMs: number }

export function createBruteForce(opts: BruteForceOptions): { ok: true; tracker: BruteForceTracker } | { ok: false, errors: string[] } {
  const spec = opts.spec ?? {};
  const errors: string[] = [];
  const rules: ScopeRule[] = [];
  for (const scope of SCOPES) {
    const s = spec[scope] ?? DEFAULTS[scope];
    if (s === false) continue;
    const periodMs = typeof s.per === 'number' ? s.per * 1000 : PERIODS[s.per];
    if (!Number.isInteger(s.failures) || s.failures < 1) errors.push(`${scope}.failures: must be a positive integer`);
    if (!(periodMs > 0)) errors.push(`${scope}.per: must be a window name or seconds`);
    rules.push({ scope, failures: s.failures, intervalMs: periodMs / s.failures, lockoutMs: s.lockoutMs ?? spec.lockoutMs ?? DEFAULTS.lockoutMs });
  }
  const delays = spec.delaysMs ?? DEFAULTS.delaysMs;
  if (!delays.length || delays.some((d) => !(d >= 0))) errors.push('delaysMs: must be a non-empty list of non-negative numbers');
  const trusted = CidrList.parse(spec.trusted ?? []);
  if (!(trusted instanceof CidrList)) errors.push(`trusted: not an address or CIDR: ${trusted.invalid.join(', ')}`);
  if (errors.length || !(trusted instanceof CidrList)) return { ok: false, errors };
  return { ok: true, tracker: new BruteForceTracker(opts, rules, delays, trusted, spec.ipv4Prefix ?? 24, spec.ipv6Prefix ?? 64) };
}

export class BruteForceTracker {
  private readonly store: LimitStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onLockout?: (ev: LockoutEvent) => void;
  private readonly rules: readonly ScopeRule[];
  private readonly delays: readonly number[];
  private readonly trusted: CidrList;
  private readonly v4: number;
  private readonly v6: number;

  constructor(opts: BruteForceOptions, rules: ScopeRule[], delays: number[], trusted: CidrList, v4: number, v6: number) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger).child({ part: 'limits', what: 'bruteforce' });
    this.onLockout = opts.onLockout;
    this.rules = rules;
    this.delays = delays;
    this.trusted = trusted;
    this.v4 = v4;
    this.v6 = v6;
  }

  /** Before checking credentials: refuse (454 4.7.0 / 421 4.7.0 and close) while locked. */
  async before(ip: string, login: string): Promise<AuthGate> {
    const subjects = this.subjects(ip, login);
    if (!subjects) return PROCEED;
    const locks = this.rules.map((r) => this.lockKey(r, subjects[r.scope]));
    const states = await this.store.state(locks);
    let gate: AuthGate = PROCEED;
    states.forEach((s, i) => {
      if (s.remaining > 0) return;
      if (gate.action === 'proceed' || s.resetMs > gate.retryAfterMs) gate = { action: 'locked', scope: this.rules[i].scope, retryAfterMs: s.resetMs };
    });
    return gate;
  }

  /**
   * Records a failed AUTH (wrong password or unknown login alike). Returns the delay
   * to wait before the failure reply, or 'locked' when this failure locked a scope.
   */
  async failed(ip: string, login: string): Promise<AuthGate> {
    const subjects = this.subjects(ip, login);
    if (!subjects) return PROCEED;
    const buckets = this.rules.map((r) => this.failKey(r, subjects[r.scope]));
    const results = await Promise.all(buckets.map((k) => this.store.check([k], 1)));
    let count = 0;
    const toLock: ScopeRule[] = [];
    results.forEach((d, i) => {
      const r = this.rules[i];
      if (!d.allowed || d.remaining === 0) toLock.push(r);
      if (r.scope !== 'prefix') count = Math.max(count, d.allowed ? r.failures - d.remaining : r.failures);
    });
    if (!toLock.length) return { action: 'proceed', delayMs: this.delays[Math.min(count, this.delays.length) - 1] ?? 0 };
    const locked = await Promise.all(toLock.map((r) => this.store.check([this.lockKey(r, subjects[r.scope])], 1)));
    const at = this.clock.now();
    let longest = toLock[0];
    toLock.forEach((r, i) => {
      if (r.lockoutMs > longest.lockoutMs) longest = r;
      if (!locked[i].allowed) return; // already locked (by another node or an earlier failure)
      const ev: LockoutEvent = { scope: r.scope, subject: subjects[r.scope], ip: subjects.ip, login: subjects.account, lockoutMs: r.lockoutMs, at };
      this.log.warn({ ...ev }, 'auth lockout');
      this.onLockout?.(ev);
    });
    return { action: 'locked', scope: longest.scope, retryAfterMs: longest.lockoutMs };
  }

  /** A success clears the login's failures (not the IP's: one good password must not whitewash a scanner). */
  async succeeded(ip: string, login: string): Promise<void> {
    const subjects = this.subjects(ip, login);
    const r = this.rules.find((x) => x.scope === 'account');
    if (subjects && r) await this.store.refund([this.failKey(r, subjects.account)], r.failures);
  }

  /** Failure counts and lock times per scope, for the admin view and the policy service. */
  async state(ip: string, login: string): Promise<Array<{ scope: BruteForceScope; subject: string; failures: number; lockedMs: number }>> {
    const subjects = this.subjects(ip, login);
    if (!subjects) return [];
    const keys = this.rules.flatMap((r) => [this.failKey(r, subjects[r.scope]), this.lockKey(r, subjects[r.scope])]);
    const st = await this.store.state(keys);
    return this.rules.map((r, i) => ({
      scope: r.scope,
      subject: subjects[r.scope],
      failures: r.failures - st[2 * i].remaining,
      lockedMs: st[2 * i + 1].remaining === 0 ? st[2 * i + 1].resetMs : 0,
    }));
  }

  private subjects(ip: string, login: string): Record<BruteForceScope, string> | null {
    const addr = parseIp(ip);
    if (addr && this.trusted.has(addr)) return null;
    // Bounded so a hostile login string cannot make huge keys.
    const account = login.trim().toLowerCase().slice(0, 320);
    return {
      ip: addr ? formatIp(addr) : ip,
      prefix: addr ? prefixKey(addr, this.v4, this.v6) : ip,
      account,
    };
  }

  private failKey(r: ScopeRule, subject: string): LimitKey {
    return { id: `bf:${r.scope[0]}:${subject}`, intervalMs: r.intervalMs, burst: r.failures, subject: `bf:${r.scope[0]}:${subject}` };
  }

  private lockKey(r: ScopeRule, subject: string): LimitKey {
    return { id: `bl:${r.scope[0]}:${subject}`, intervalMs: r.lockoutMs, burst: 1, subject: `bf:${r.scope[0]}:${subject}` };
  }
}

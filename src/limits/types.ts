// The contract between the rules (what to count), the GCRA math (how) and the
// stores (where the state lives). Stores know only ids, intervals and bursts.

export type Scope = 'account' | 'subscriber' | 'ip' | 'prefix' | 'aggregate';
export type Counts = 'messages' | 'recipients';
/**
 * 'defer' (the default: refuse) → the lead answers 450 4.7.1; 'flood' → 550 5.7.28 (and maybe
 * suspends); 'hold' → the message over this rule is accepted into hold/ instead (Postfix's HOLD).
 */
export type LimitAction = 'defer' | 'flood' | 'hold';

/** A rule after validation: numbers in milliseconds, defaults filled in. */
export interface CompiledRule {
  /** Stable id used in store keys: "tier/name", "*\/name" for global rules, "@account/name" for overrides. */
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly counts: Counts;
  readonly periodMs: number;
  readonly limit: number;
  readonly burst: number;
  readonly action: LimitAction;
  /** Only for action 'flood': the lead suspends the account (525 5.7.13 at next AUTH). */
  readonly suspend: boolean;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
}

/** One bucket to charge: what a store needs, plus the rule and subject for reporting. */
export interface LimitKey {
  /** Store key without the store's own prefix, e.g. "a:alice:residential/msgs-hour". */
  readonly id: string;
  /** GCRA emission interval T = period / limit, in ms (may be fractional). */
  readonly intervalMs: number;
  /** Bucket capacity in units; a full bucket admits `burst` at once. */
  readonly burst: number;
  readonly flood?: boolean;
  readonly rule?: CompiledRule;
  /** Scope letter and the thing limited: "a:alice", "p:2001:db8::/56", "g:residential".
   *  Also the Redis Cluster hash tag in per-subject mode. */
  readonly subject?: string;
}

export type Outcome = 'ok' | 'limited' | 'flood' | 'unavailable';

export interface Decision {
  readonly allowed: boolean;
  readonly outcome: Outcome;
  /** The key that refused (a flood key wins over an ordinary one). */
  readonly hit?: LimitKey;
  /** When the whole request would pass, from now; 0 when allowed. */
  readonly retryAfterMs: number;
  /** Least units left across the keys after this decision (Infinity for no keys). */
  readonly remaining: number;
  /** Answered by the node-local fallback bucket because the shared store was unreachable. */
  readonly degraded?: boolean;
}

/** What `state()` reports per key; "limits in effect are visible per account". */
export interface KeyState {
  readonly key: LimitKey;
  readonly remaining: number;
  /** Time until the bucket is full again (0 = untouched). */
  readonly resetMs: number;
}

export type MaybePromise<T> = T | Promise<T>;

export interface LimitStore {
  /** All-or-nothing: charges `cost` to every key, or to none and reports the refusing key. */
  check(keys: readonly LimitKey[], cost: number): MaybePromise<Decision>;
  /** Gives `cost` units back (e.g. recipients of a transaction that failed); never below empty. */
  refund(keys: readonly LimitKey[], cost: number): MaybePromise<void>;
  /** Reads without charging. */
  state(keys: readonly LimitKey[]): MaybePromise<KeyState[]>;
  close(): MaybePromise<void>;
}

// limits: sending limits and failed-AUTH defence.
//
// Purpose: GCRA (leaky-bucket) limits on messages and recipients per account,
// subscriber, client IP, IP prefix (IPv4 /24, IPv6 /64 and /56, configurable) and
// in aggregate, grouped in service tiers with per-account overrides; one
// all-or-nothing decision over all keys of a submission; refunds for failed
// transactions; a brute-force tracker for AUTH (per IP, /24 and /64, IPv6 /56 and
// /48 aggregates, and per account split by the source prefixes it logged in
// from). Two stores behind one interface: in-process (embedded default) and
// Redis (one atomic Lua call per decision, Cluster-aware, stated
// fail-open/fail-closed with a local fallback bucket).
//
// Trusts: its callers for identities (account, subscriber, tier, client address
// as seen after PROXY protocol); Redis for the shared counters it holds. It
// trusts nothing in a login string (counted, bounded, never echoed).
//
// Standards: MAAWG "Managing Port 25…" (limit per customer and in aggregate);
// RFC 6409 §7 and RFC 4954 §6 (454 4.7.0), RFC 5248 / IANA X.7.28 (flood) for
// the outcomes the caller maps to replies; RFC 5952 for the printed prefixes.
// It returns decisions; the submission part chooses the SMTP replies:
// limited → 450 4.7.1 + URL, flood → 550 5.7.28 (+ suspend when the rule says so),
// unavailable (failMode closed) → 451 4.3.0; brute force locked → 454 4.7.0 / 421 4.7.0.
export type {
  Scope, Counts, LimitAction, CompiledRule, LimitKey, Outcome, Decision, KeyState, LimitStore, MaybePromise,
} from './types.ts';
export { MemoryLimitStore, type MemoryLimitStoreOptions } from './memory.ts';
export { RedisLimitStore, limitsRedisOptions, type RedisLimitStoreOptions, type FailMode } from './redis.ts';
export {
  compileLimits, Limits, type Per, type RuleSpec, type AccountOverride, type LimitsSpec, type SubmissionContext,
  type LimitPlan, type LimitsConfigError,
} from './rules.ts';
export {
  createBruteForce, BruteForceTracker, type BruteForceSpec, type BruteForceScopeSpec,
  type BruteForceScope, type AuthGate, type LockoutEvent, type BruteForceOptions, type KnownPrefixes,
} from './bruteforce.ts';
export { parseIp, formatIp, maskIp, prefixKey, parseCidr, cidrContains, CidrList, type IpAddr, type Cidr } from './ip.ts';

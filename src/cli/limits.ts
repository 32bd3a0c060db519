// Wires the limits part into the MSA: compiles the configured tiers (or the
// defaults below), picks the store, and maps decisions to the SMTP replies
// REQUIREMENTS E3/E4 name. Also wraps SASL exchanges with the brute-force tracker.
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLIES, periodText, type Logger, type Reply } from '../core/index.ts';
import type { Config } from '../config/index.ts';
import {
  compileLimits, createBruteForce, MemoryLimitStore, RedisLimitStore, parseIp, prefixKey,
  type BruteForceSpec, type BruteForceTracker, type KnownPrefixes, type Decision, type Limits, type LimitPlan, type LimitsSpec, type LimitStore, type RuleSpec,
} from '../limits/index.ts';
import type { DecisionPort, LimitContext, LimitsPort, PostmasterPort, SaslPort } from '../submission/index.ts';
import type { EventBus } from '../events/index.ts';
import type { SaslExchange, SessionInfo } from '../smtp/index.ts';
import type { LoginGate, SaslOutcome } from '../auth/index.ts';

const tier = (n: number): RuleSpec[] => [
  { name: 'messages-hour', scope: 'account', counts: 'messages', per: 'hour', limit: 100 * n },
  { name: 'recipients-hour', scope: 'account', counts: 'recipients', per: 'hour', limit: 300 * n },
  { name: 'recipients-day', scope: 'subscriber', counts: 'recipients', per: 'day', limit: 1000 * n },
  { name: 'ip-messages-hour', scope: 'ip', counts: 'messages', per: 'hour', limit: 500 * n },
  // A burst far above any person's sending: a hijacked account or an infected host (E4).
  { name: 'flood', scope: 'account', counts: 'recipients', per: 'minute', limit: 200 * n, action: 'flood', suspend: true },
];

/** What a provider gets without a `limits.tiers` section; documented in README. */
export const DEFAULT_LIMITS: LimitsSpec = {
  defaultTier: 'residential',
  tiers: { residential: tier(1), business: tier(10), premium: tier(100) },
  global: [{ name: 'aggregate-messages', scope: 'aggregate', counts: 'messages', per: 'second', limit: 5000, burst: 10000 }],
};

export function buildLimits(cfg: Config, where: (path: Array<string | number>) => string): { limits: Limits; spec: LimitsSpec } {
  const r = limitsFromConfig(cfg, where);
  if (!r.ok) throw new Error(`invalid limits:\n  ${r.errors.join('\n  ')}`);
  return r;
}

/** The compiled limits, or one "file:line:col: limits.path: message" per problem (what `config check` prints). */
export function limitsFromConfig(cfg: Config, where: (path: Array<string | number>) => string):
  { ok: true; limits: Limits; spec: LimitsSpec } | { ok: false; errors: string[] } {
  const l = cfg.limits;
  const spec: LimitsSpec = l.tiers
    ? { tiers: l.tiers as LimitsSpec['tiers'], global: l.global as RuleSpec[] | undefined, defaultTier: l.defaultTier,
        overrides: l.overrides as LimitsSpec['overrides'], ipv4Prefix: l.ipv4Prefix, ipv6Prefix: l.ipv6Prefix }
    : { ...DEFAULT_LIMITS, overrides: l.overrides as LimitsSpec['overrides'], ipv4Prefix: l.ipv4Prefix, ipv6Prefix: l.ipv6Prefix };
  const r = compileLimits(spec);
  if (!r.ok) return { ok: false, errors: r.errors.map((e) => `${where(['limits', ...e.path])}: limits.${e.path.join('.')}: ${e.message}`) };
  return { ok: true, limits: r.limits, spec };
}

export function buildLimitStore(cfg: Config, logger: Logger): LimitStore {
  if (cfg.limits.store === 'redis') return new RedisLimitStore({ url: cfg.limits.redisUrl, failMode: cfg.limits.failMode, logger });
  return new MemoryLimitStore();
}

/** Whose decision it was, for the events. */
interface Who { account: string; subscriber: string | null; ip: string }

/** limit.hit for a refusal (or a hold), limit.degraded for an allowed decision made by the local fallback. */
function publishDecision(bus: EventBus, d: Decision, who: Who, outcome?: 'held'): void {
  if (d.allowed) {
    if (d.degraded) bus.publish('limit.degraded', { account: who.account, clientIp: who.ip });
    return;
  }
  const rule = d.hit?.rule;
  bus.publish('limit.hit', {
    rule: rule?.id ?? null, scope: rule?.scope ?? null, outcome: outcome ?? (d.outcome === 'ok' ? 'limited' : d.outcome),
    account: who.account, subscriber: who.subscriber, clientIp: who.ip, retryAfterMs: d.retryAfterMs, degraded: d.degraded === true,
  });
}

/** The sending limits at MAIL and RCPT, and the hold decision they leave for the end of data. */
export type LimitsGate = LimitsPort & DecisionPort;

/**
 * A rule with action hold that is exceeded does not refuse: the rest of the rules are checked
 * (and charged) without it, and the message, if they pass, is accepted into hold/ with the
 * reason "held: over limit <rule>" (the decision at the end of data).
 */
export function limitsPort(limits: Limits, store: LimitStore, helpUrl: string, bus: EventBus): LimitsGate {
  const plans = new WeakMap<LimitContext, LimitPlan>();
  const holds = new WeakMap<LimitContext, string>();
  const planOf = (ctx: LimitContext): LimitPlan => {
    let p = plans.get(ctx);
    if (!p) { p = limits.plan({ account: ctx.account, subscriber: ctx.subscriber ?? undefined, tier: ctx.tier, ip: ctx.ip }); plans.set(ctx, p); }
    return p;
  };
  const decide = async (ctx: LimitContext, counts: 'messages' | 'recipients'): Promise<Reply | null> => {
    const plan = planOf(ctx);
    let keys = counts === 'messages' ? plan.messages : plan.recipients;
    const who = { account: ctx.account, subscriber: ctx.subscriber, ip: ctx.ip };
    let d = await store.check(keys, 1);
    // Bounded: each round drops one hold rule's keys.
    while (!d.allowed && d.hit?.rule?.action === 'hold') {
      const held = d.hit.rule;
      publishDecision(bus, d, who, 'held');
      if (!holds.has(ctx)) holds.set(ctx, `held: over limit ${held.id}`);
      keys = keys.filter((k) => k.rule?.id !== held.id);
      d = await store.check(keys, 1);
    }
    publishDecision(bus, d, who);
    if (d.allowed) return null;
    const rule = d.hit?.rule;
    if (d.outcome === 'flood') {
      if (rule) bus.publish('limit.flood', { rule: rule.id, account: ctx.account, subscriber: ctx.subscriber, clientIp: ctx.ip, suspend: rule.suspend, source: 'submission' });
      return REPLIES.flood(helpUrl, rule?.suspend === true);
    }
    if (d.outcome === 'unavailable') return REPLIES.limitsUnavailable;
    return REPLIES.limited(rule, d.retryAfterMs, helpUrl);
  };
  return {
    onMail: (ctx) => decide(ctx, 'messages'),
    onRcpt: (ctx) => decide(ctx, 'recipients'),
    async refund(ctx, recipients, messages) {
      const plan = planOf(ctx);
      if (messages) await store.refund(plan.messages, messages);
      if (recipients) await store.refund(plan.recipients, recipients);
    },
    decide(input) {
      const reason = input.limits ? holds.get(input.limits) : undefined;
      return reason ? { action: 'hold', reason } : { action: 'accept' };
    },
  };
}

/**
 * The flood suspension, as a subscriber, only with abuse.enabled false (abuse-wiring.ts
 * floodSubscriberRuns; with the engine its credential-abuse rule suspends, with a case, a
 * notice and an undo): a flood rule with suspend disables the account (525 5.7.13 at its next
 * AUTH), from submission or the policy service.
 */
export function suspendOnFlood(bus: EventBus, accounts: { disable(login: string, reason: string): unknown }, logger: Logger): () => void {
  return bus.subscribe('limit.flood', (e) => {
    if (!e.suspend) return;
    const why = e.source === 'policy-service' ? 'mail flood detected (policy service)' : 'mail flood detected';
    let done: unknown;
    try { done = accounts.disable(e.account, why); } catch (err) { done = Promise.reject(err); }
    Promise.resolve(done).then(
      () => logger.warn({ event: 'suspended', account: e.account, subscriber: e.subscriber, ip: e.clientIp, reason: 'flood', source: e.source }),
      (err: unknown) => logger.error({ event: 'suspended', account: e.account, err: String(err) }, 'could not suspend the account'));
  });
}

/**
 * The postmaster exception's own bucket per client address (IPv4 /32, IPv6 /64:
 * one host may hold a whole /64), in the same store as the sending limits, so
 * that it holds across nodes with Redis. Applies whether or not limits are on.
 */
export function postmasterGate(store: LimitStore, rate: { limit: number; per: number }, bus: EventBus): PostmasterPort {
  const intervalMs = (rate.per * 1000) / rate.limit;
  return {
    async admit(ip) {
      const a = parseIp(ip);
      const subject = a ? prefixKey(a, 32, 64) : ip;
      const d = await store.check([{ id: `pm:${subject}/postmaster`, intervalMs, burst: rate.limit, subject: `pm:${subject}` }], 1);
      if (d.allowed) return null;
      if (d.outcome === 'unavailable') return REPLIES.limitsUnavailable;
      bus.publish('limit.hit', { rule: 'postmaster', scope: 'ip', outcome: 'limited', account: null, subscriber: null, clientIp: ip, retryAfterMs: d.retryAfterMs, degraded: d.degraded === true });
      return REPLIES.postmasterLimited(d.retryAfterMs);
    },
  };
}

/**
 * The failed-AUTH tracker from `limits.bruteForce`, keyed on `accountKey` (auth's normalizeLogin,
 * the function the account lookup uses). `known` keeps known prefixes somewhere that outlives the
 * process (SQLite) when the limit store does not; undefined with Redis, whose store keeps them shared.
 * Every lock, as it is set, is published as auth.lockout (the log line and the lockout metric).
 */
export function bruteForce(cfg: Config, store: LimitStore, logger: Logger, accountKey: (login: string) => string | null,
  known: KnownPrefixes | undefined, where: (path: Array<string | number>) => string = () => 'config',
  bus?: EventBus): BruteForceTracker {
  const spec = { ...(cfg.limits.bruteForce ?? {}) } as BruteForceSpec;
  if (cfg.limits.authFailureDelaysMs) spec.delaysMs = cfg.limits.authFailureDelaysMs;
  // A trusted that is not a list is left as given, for createBruteForce to report.
  const own: unknown = spec.trusted;
  if (own === undefined || Array.isArray(own)) spec.trusted = [...cfg.limits.trustedNetworks, ...(own ?? [])];
  const r = createBruteForce({ store, spec, logger, accountKey, known,
    onLockout: (ev) => bus?.publish('auth.lockout', { scope: ev.scope, key: ev.subject, clientIp: ev.ip, login: ev.login || null, lockoutMs: ev.lockoutMs }) });
  if (r.ok) logger.info({ event: 'bruteforce', ...r.tracker.describe() }, 'failed-AUTH rules');
  if (!r.ok) throw new Error(`invalid limits.bruteForce:\n  ${r.errors.map((e) => `${where(['limits', 'bruteForce', e.split(/[.:]/)[0]])}: ${e}`).join('\n  ')}`);
  return r.tracker;
}

const LOCKED = REPLIES.authLocked;
const LOCKED_CLOSE = REPLIES.authLockedClose;

/** What a SASL exchange is started with: the lock to consult, and where its outcome goes. */
export interface SaslHooks {
  gate: LoginGate;
  onOutcome(o: SaslOutcome): void;
}

/**
 * Wraps each SASL exchange with the brute-force tracker. A locked-out IP or prefix gets 421 and
 * close before anything is read. The login's lock is consulted by auth through `gate`, before the
 * account is looked up or a hash computed, so a locked login gets 454 4.7.0 whatever the password
 * (and whether or not it exists), after the same delay a failure at the top of the ladder gets. A
 * failure is counted and answered after the tracker's growing delay, or with 421 and close once it locks.
 * Every outcome is published: auth.succeeded, or auth.failed (why: failure, locked, disabled, error),
 * also for an exchange refused here for an IP or prefix lock.
 */
export function throttledSasl(inner: { mechanisms: readonly string[]; start(mech: string, hooks: SaslHooks): SaslExchange | null }, bf: BruteForceTracker,
  bus: EventBus): SaslPort {
  return {
    mechanisms: inner.mechanisms,
    start(mech: string, session: SessionInfo): SaslExchange | null {
      const ip = session.remoteAddress;
      let login: string | null = null;
      let outcome: SaslOutcome | null = null;
      const ex = inner.start(mech, {
        gate: async (l) => {
          login = l;
          return (await bf.before(ip, l)).action === 'locked' ? LOCKED : null;
        },
        onOutcome: (o) => { outcome = o; publishOutcome(bus, session, o); },
      });
      if (!ex) return null;
      let first = true;
      return {
        async step(input) {
          if (first) {
            first = false;
            const gate = await bf.before(ip, null);
            if (gate.action === 'locked') {
              bus.publish('auth.failed', { session: session.id, listener: session.listener, clientIp: ip, mechanism: mech, login: null, why: 'locked' });
              return { type: 'failure', reply: LOCKED_CLOSE, close: true };
            }
          }
          const s = await ex.step(input);
          const o = outcome as SaslOutcome | null;
          if (s.type === 'success') {
            await bf.succeeded(ip, login ?? s.identity);
            return s;
          }
          if (s.type === 'failure' && o?.fail === 'locked') {
            await sleep(bf.lockedDelayMs());
            return s;
          }
          if (s.type === 'failure' && o?.fail === 'credentials') {
            const g = await bf.failed(ip, login);
            if (g.action === 'locked') return { type: 'failure', reply: LOCKED_CLOSE, close: true };
            if (g.delayMs > 0) await sleep(g.delayMs);
          }
          return s;
        },
      };
    },
  };
}

/** auth.succeeded, or auth.failed with why (a malformed exchange counts as a failure). */
function publishOutcome(bus: EventBus, session: SessionInfo, o: SaslOutcome): void {
  const base = { session: session.id, listener: session.listener, clientIp: session.remoteAddress, mechanism: o.mechanism };
  if (o.ok) { bus.publish('auth.succeeded', { ...base, login: o.identity ?? o.authcid ?? '' }); return; }
  const why = o.fail === 'locked' || o.fail === 'disabled' ? o.fail : o.fail === 'temporary' ? 'error' : 'failure';
  bus.publish('auth.failed', { ...base, login: o.authcid, why });
}

export interface RuleInEffect {
  id: string;
  name: string;
  scope: string;
  counts: string;
  per: string;
  limit: number;
  burst: number;
  action: string;
  /** Units left now and ms until the bucket is full again; absent for per-IP rules (no IP given). */
  remaining?: number;
  resetMs?: number;
}

/** "Limits in effect are visible per account": the rules for its tier and overrides, with their state. */
export async function limitsInEffect(limits: Limits, store: LimitStore | null, accounts: { get(login: string): Promise<{ subscriber: string; tier: string; status: string } | null> }, account: string): Promise<{ account: string; subscriber: string | null; tier: string; status: string; rules: RuleInEffect[] }> {
  const a = await accounts.get(account);
  const plan = limits.plan({ account, subscriber: a?.subscriber, tier: a?.tier, ip: '0.0.0.0' });
  const keys = [...plan.messages, ...plan.recipients].filter((k) => k.rule && k.rule.scope !== 'ip' && k.rule.scope !== 'prefix');
  const states = store ? await store.state(keys) : [];
  const byRule = new Map(states.map((st) => [st.key.rule!.id, st]));
  return {
    account, subscriber: a?.subscriber ?? null, tier: plan.tier, status: a?.status ?? 'unknown',
    rules: plan.rules.map((r) => {
      const st = byRule.get(r.id);
      return { id: r.id, name: r.name, scope: r.scope, counts: r.counts, per: periodText(r.periodMs), limit: r.limit, burst: r.burst, action: r.action,
        ...(st ? { remaining: Math.floor(st.remaining), resetMs: Math.round(st.resetMs) } : {}) };
    }),
  };
}

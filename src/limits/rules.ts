// Config-shaped limit rules → compiled rules → the keys one submission charges.
// Validation returns errors with a path (["tiers","residential",2,"limit"]) so that
// config/ can point at the file and line; nothing here throws on bad input.
import { parseIp, formatIp, prefixKey } from './ip.ts';
import type { CompiledRule, Counts, LimitAction, LimitKey, Scope } from './types.ts';

export type Per = 'second' | 'minute' | 'hour' | 'day' | number;

export interface RuleSpec {
  /** Unique within its tier; an override with the same name replaces the tier's rule. */
  name?: string;
  scope: Scope;
  counts: Counts;
  /** A named window or a number of seconds. */
  per: Per;
  limit: number;
  /** Units admitted at once from a full bucket; default `limit`. */
  burst?: number;
  action?: LimitAction;
  suspend?: boolean;
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  /** In an override: removes the tier's rule of this name. */
  off?: boolean;
}

export interface AccountOverride {
  tier?: string;
  rules?: RuleSpec[];
}

export interface LimitsSpec {
  tiers: Record<string, RuleSpec[]>;
  /** Rules for every submission whatever the tier, e.g. the service-wide aggregate. */
  global?: RuleSpec[];
  defaultTier?: string;
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  overrides?: Record<string, AccountOverride>;
}

export interface SubmissionContext {
  account: string;
  /** The customer owning the account; an account without one is its own subscriber. */
  subscriber?: string;
  tier?: string;
  ip: string;
}

export interface LimitPlan {
  readonly tier: string;
  readonly rules: readonly CompiledRule[];
  /** Charge 1 per message (at MAIL), refund on a failed transaction. */
  readonly messages: readonly LimitKey[];
  /** Charge 1 per accepted RCPT, refund the accepted count on a failed transaction. */
  readonly recipients: readonly LimitKey[];
}

export interface LimitsConfigError {
  path: Array<string | number>;
  message: string;
}

const PERIODS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const SCOPES: readonly Scope[] = ['account', 'subscriber', 'ip', 'prefix', 'aggregate'];
const LETTER: Record<Scope, string> = { account: 'a', subscriber: 's', ip: 'i', prefix: 'p', aggregate: 'g' };

const posInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;

function compileRule(r: RuleSpec, owner: string, defaults: { v4: number; v6: number }, path: Array<string | number>, errors: LimitsConfigError[]): CompiledRule | null {
  const err = (field: string, message: string): null => { errors.push({ path: [...path, field], message }); return null; };
  if (!SCOPES.includes(r.scope)) return err('scope', `must be one of ${SCOPES.join(', ')}`);
  if (r.counts !== 'messages' && r.counts !== 'recipients') return err('counts', 'must be messages or recipients');
  const periodMs = typeof r.per === 'number' ? r.per * 1000 : PERIODS[r.per];
  if (!(periodMs > 0) || !Number.isFinite(periodMs)) return err('per', 'must be second, minute, hour, day or a positive number of seconds');
  if (!posInt(r.limit)) return err('limit', 'must be a positive integer');
  const burst = r.burst ?? r.limit;
  if (!posInt(burst)) return err('burst', 'must be a positive integer');
  // 'refuse' is another spelling of the default 'defer' (450 4.7.1).
  const action = r.action === undefined || (r.action as string) === 'refuse' ? 'defer' : r.action;
  if (action !== 'defer' && action !== 'flood' && action !== 'hold') return err('action', 'must be defer (refuse), flood or hold');
  if (r.suspend && action !== 'flood') return err('suspend', 'only a flood rule can suspend');
  const v4 = r.ipv4Prefix ?? defaults.v4, v6 = r.ipv6Prefix ?? defaults.v6;
  if (!Number.isInteger(v4) || v4 < 0 || v4 > 32) return err('ipv4Prefix', 'must be 0..32');
  if (!Number.isInteger(v6) || v6 < 0 || v6 > 128) return err('ipv6Prefix', 'must be 0..128');
  const per = typeof r.per === 'number' ? `${r.per}s` : r.per;
  const name = r.name ?? (r.scope === 'prefix' ? `${r.scope}-${r.counts}-${per}-v4_${v4}-v6_${v6}` : `${r.scope}-${r.counts}-${per}`);
  return { id: `${owner}/${name}`, name, scope: r.scope, counts: r.counts, periodMs, limit: r.limit, burst, action, suspend: r.suspend === true, ipv4Prefix: v4, ipv6Prefix: v6 };
}

function compileList(list: readonly RuleSpec[] | undefined, owner: string, defaults: { v4: number; v6: number }, path: Array<string | number>, errors: LimitsConfigError[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  const seen = new Set<string>();
  (list ?? []).forEach((r, i) => {
    if (r.off) return;
    const c = compileRule(r, owner, defaults, [...path, i], errors);
    if (!c) return;
    if (seen.has(c.name)) { errors.push({ path: [...path, i, 'name'], message: `duplicate rule name ${c.name}` }); return; }
    seen.add(c.name);
    out.push(c);
  });
  return out;
}

export function compileLimits(spec: LimitsSpec): { ok: true; limits: Limits } | { ok: false; errors: LimitsConfigError[] } {
  const errors: LimitsConfigError[] = [];
  const defaults = { v4: spec.ipv4Prefix ?? 24, v6: spec.ipv6Prefix ?? 64 };
  const tiers = new Map<string, CompiledRule[]>();
  for (const [tier, list] of Object.entries(spec.tiers ?? {})) tiers.set(tier, compileList(list, tier, defaults, ['tiers', tier], errors));
  const global = compileList(spec.global, '*', defaults, ['global'], errors);
  const defaultTier = spec.defaultTier ?? tiers.keys().next().value;
  if (defaultTier === undefined || !tiers.has(defaultTier)) errors.push({ path: ['defaultTier'], message: 'must name a tier' });
  const overrides = new Map<string, { tier?: string; rules: CompiledRule[]; off: Set<string> }>();
  for (const [account, o] of Object.entries(spec.overrides ?? {})) {
    if (o.tier !== undefined && !tiers.has(o.tier)) errors.push({ path: ['overrides', account, 'tier'], message: `unknown tier ${o.tier}` });
    const off = new Set((o.rules ?? []).filter((r) => r.off).map((r) => r.name ?? ''));
    overrides.set(account, { tier: o.tier, rules: compileList(o.rules, `@${account}`, defaults, ['overrides', account, 'rules'], errors), off });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, limits: new Limits(tiers, global, defaultTier!, overrides) };
}

export class Limits {
  private readonly tiers: Map<string, CompiledRule[]>;
  private readonly global: CompiledRule[];
  readonly defaultTier: string;
  private readonly overrides: Map<string, { tier?: string; rules: CompiledRule[]; off: Set<string> }>;
  private readonly merged = new Map<string, CompiledRule[]>();

  constructor(tiers: Map<string, CompiledRule[]>, global: CompiledRule[], defaultTier: string, overrides: Limits['overrides']) {
    this.tiers = tiers;
    this.global = global;
    this.defaultTier = defaultTier;
    this.overrides = overrides;
  }

  get tierNames(): string[] { return [...this.tiers.keys()]; }

  /** The tier in effect: an override's tier, else the given one if known, else the default. */
  tierOf(account: string, tier?: string): string {
    const o = this.overrides.get(account)?.tier;
    if (o) return o;
    return tier !== undefined && this.tiers.has(tier) ? tier : this.defaultTier;
  }

  /** The rules in effect for an account (overrides applied); what `portwarden limits show` prints. */
  rulesFor(account: string, tier?: string): readonly CompiledRule[] {
    const t = this.tierOf(account, tier);
    const o = this.overrides.get(account);
    if (!o) return this.tierRules(t);
    const cacheKey = `${t}\0${account}`;
    let rules = this.merged.get(cacheKey);
    if (!rules) {
      const replaced = new Set([...o.off, ...o.rules.map((r) => r.name)]);
      // A replaced rule keeps its tier id, so the bucket (and what it has counted) carries over.
      const base = this.tierRules(t);
      const byName = new Map(base.map((r) => [r.name, r]));
      rules = [
        ...base.filter((r) => !replaced.has(r.name)),
        ...o.rules.map((r) => (byName.has(r.name) ? { ...r, id: byName.get(r.name)!.id } : r)),
      ];
      this.merged.set(cacheKey, rules);
    }
    return rules;
  }

  /** The keys a submission charges, split by what they count. */
  plan(ctx: SubmissionContext): LimitPlan {
    const tier = this.tierOf(ctx.account, ctx.tier);
    const rules = this.rulesFor(ctx.account, tier);
    const addr = parseIp(ctx.ip);
    const messages: LimitKey[] = [];
    const recipients: LimitKey[] = [];
    for (const rule of rules) {
      let subject: string;
      switch (rule.scope) {
        case 'account': subject = ctx.account; break;
        case 'subscriber': subject = ctx.subscriber ?? ctx.account; break;
        case 'ip': subject = addr ? formatIp(addr) : ctx.ip; break;
        case 'prefix': subject = addr ? prefixKey(addr, rule.ipv4Prefix, rule.ipv6Prefix) : ctx.ip; break;
        case 'aggregate': subject = rule.id.slice(0, rule.id.indexOf('/')); break;
      }
      const key: LimitKey = {
        id: `${LETTER[rule.scope]}:${subject}:${rule.id}`,
        intervalMs: rule.periodMs / rule.limit,
        burst: rule.burst,
        flood: rule.action === 'flood',
        rule,
        subject: `${LETTER[rule.scope]}:${subject}`,
      };
      (rule.counts === 'messages' ? messages : recipients).push(key);
    }
    return { tier, rules, messages, recipients };
  }

  private tierRules(tier: string): CompiledRule[] {
    const cacheKey = `${tier}\0`;
    let rules = this.merged.get(cacheKey);
    if (!rules) {
      rules = [...(this.tiers.get(tier) ?? []), ...this.global];
      this.merged.set(cacheKey, rules);
    }
    return rules;
  }
}

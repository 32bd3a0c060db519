// Rules: parse and validate abuse.classes (weights per signal class) and abuse.rules; the defaults are in docs/abuse.md.
import { ACTION_KINDS, SIGNAL_CLASSES, type ActionKind, type SignalClass } from './types.ts';

export interface Rule {
  name: string; classes: SignalClass[]; threshold: number; window: number; action: ActionKind;
  duration: number | null; escalation: number; maxDuration: number | null; grace: number;
  selfReleases: number; immuneTiers: string[]; renotify: number | null;
}
export type Weights = Record<SignalClass, number>;

/** A bot at ~5 blocked connections/s to many destinations: 300 blocked + ≥100 destinations in 60 s = 600+ points. */
export const DEFAULT_WEIGHTS: Weights = {
  'edge-blocked': 1, 'edge-destinations': 3, 'auth-failure': 1, 'auth-lockout': 20,
  'limit-hit': 5, 'flood': 50, 'report': 100, 'dnsbl': 200,
};
const DAY = 86_400, HOUR = 3_600;
export const DEFAULT_RULES: Rule[] = [
  { name: 'bot', classes: ['edge-blocked', 'edge-destinations', 'report', 'dnsbl'], threshold: 300, window: 60,
    action: 'quarantine', duration: DAY, escalation: 2, maxDuration: 30 * DAY, grace: 2 * HOUR, selfReleases: 3,
    immuneTiers: ['business', 'premium'], renotify: null },
  { name: 'credential-abuse', classes: ['flood', 'auth-lockout', 'limit-hit'], threshold: 100, window: 600,
    action: 'suspend', duration: DAY, escalation: 2, maxDuration: 30 * DAY, grace: 2 * HOUR, selfReleases: 1,
    immuneTiers: ['business', 'premium'], renotify: null },
  { name: 'notify', classes: [...SIGNAL_CLASSES], threshold: 20, window: HOUR, action: 'notify', duration: null,
    escalation: 1, maxDuration: null, grace: 0, selfReleases: 0, immuneTiers: [], renotify: DAY },
];

export class RuleError extends Error {}
const fail = (path: string, msg: string): never => { throw new RuleError(`${path}: ${msg}`); };
function num(v: unknown, path: string, min: number, nullable = false): number | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) return fail(path, `must be a number ≥ ${min}${nullable ? ' or null' : ''}`);
  return v;
}

export function parseWeights(raw: Record<string, unknown> | undefined, path = 'abuse.classes'): Weights {
  const w: Weights = { ...DEFAULT_WEIGHTS };
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (!(SIGNAL_CLASSES as readonly string[]).includes(k)) fail(`${path}.${k}`, `unknown signal class (known: ${SIGNAL_CLASSES.join(', ')})`);
    w[k as SignalClass] = num(v, `${path}.${k}`, 0) as number;
  }
  return w;
}

function parseRule(r: unknown, path: string): Rule {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return fail(path, 'must be an object');
  const o = r as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name.trim() : '';
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(name)) fail(`${path}.name`, 'must be a name of letters, digits, - or _');
  if (!Array.isArray(o.classes) || o.classes.length === 0) fail(`${path}.classes`, 'must be a non-empty list of signal classes');
  const classes = (o.classes as unknown[]).map((c, i) => (SIGNAL_CLASSES as readonly unknown[]).includes(c) ? c as SignalClass
    : fail(`${path}.classes[${i}]`, `unknown signal class (known: ${SIGNAL_CLASSES.join(', ')})`));
  if (!(ACTION_KINDS as readonly unknown[]).includes(o.action)) fail(`${path}.action`, `must be one of ${ACTION_KINDS.join(', ')}`);
  const action = o.action as ActionKind;
  const tiers = o.immuneTiers ?? [];
  if (!Array.isArray(tiers) || tiers.some((t) => typeof t !== 'string')) fail(`${path}.immuneTiers`, 'must be a list of tier names');
  if (o.renotify !== undefined && o.renotify !== null && action !== 'notify') fail(`${path}.renotify`, 'only for action notify');
  return {
    name, classes, action,
    threshold: num(o.threshold, `${path}.threshold`, Number.MIN_VALUE) as number,
    window: num(o.window, `${path}.window`, 1) as number,
    duration: num(o.duration ?? null, `${path}.duration`, 1, true),
    escalation: num(o.escalation ?? 1, `${path}.escalation`, 1) as number,
    maxDuration: num(o.maxDuration ?? null, `${path}.maxDuration`, 1, true),
    grace: num(o.grace ?? 0, `${path}.grace`, 0) as number,
    selfReleases: num(o.selfReleases ?? 0, `${path}.selfReleases`, 0) as number,
    immuneTiers: (tiers as string[]).map((t) => t.trim().toLowerCase()),
    renotify: num(o.renotify ?? null, `${path}.renotify`, 1, true),
  };
}

export function parseRules(raw: unknown[] | undefined, path = 'abuse.rules'): Rule[] {
  if (raw === undefined) return DEFAULT_RULES.map((r) => ({ ...r, classes: [...r.classes], immuneTiers: [...r.immuneTiers] }));
  if (!Array.isArray(raw)) return fail(path, 'must be a list');
  const rules = raw.map((r, i) => parseRule(r, `${path}[${i}]`));
  const seen = new Set<string>();
  rules.forEach((r, i) => { if (seen.has(r.name)) fail(`${path}[${i}].name`, `duplicate rule ${r.name}`); seen.add(r.name); });
  return rules;
}

/** Points a rule sees from windowed per-class sums. */
export function ruleScore(rule: Rule, w: Weights, sums: Partial<Record<SignalClass, number>>): number {
  let s = 0;
  for (const c of rule.classes) s += w[c] * (sums[c] ?? 0);
  return s;
}

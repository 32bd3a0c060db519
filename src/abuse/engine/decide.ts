// From a rule that fired to a decision: the action's duration with escalation
// (duration × escalation^recurrences, capped by maxDuration), immunity by the
// subscriber's tier, and the decision recorded (with its timeline entries)
// before anything acts on it.
import type { Rule } from '../rules.ts';
import type { ActionKind } from '../types.ts';
import type { Ctx } from './context.ts';
import type { SubState } from './state.ts';
import { caseKey, decisionKey, emptyUndo, type CaseStore, type DecisionRow } from './store.ts';

export interface NewDecision { st: SubState; d: DecisionRow; text: string }

/** Seconds an action of `rule` lasts after `recurrences` earlier firings; null: until released. */
export function durationOf(rule: Rule, recurrences: number): number | null {
  if (rule.duration === null) return null;
  const d = rule.duration * Math.pow(rule.escalation, recurrences);
  return rule.maxDuration === null ? d : Math.min(d, rule.maxDuration);
}

const span = (s: number): string => s % 86_400 === 0 ? `${s / 86_400} d` : s % 3_600 === 0 ? `${s / 3_600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;

/** The decisions for the rules that fired on `st` in this batch (at most one restrictive action per kind). */
export async function decide(ctx: Ctx, st: SubState, now: number): Promise<NewDecision[]> {
  const fired = st.fired;
  let tier: string | null = null;
  try {
    tier = (await ctx.o.directory.subscriber(st.subscriber))?.tier.trim().toLowerCase() ?? null;
  } catch (err) {
    ctx.o.logger.warn({ event: 'abuse', err: String(err) }, 'abuse engine: the subscriber\'s tier could not be read; no immunity applies');
  }
  const isImmune = (r: Rule): boolean => tier !== null && r.immuneTiers.includes(tier);
  const restrictive = fired.some((f) => { const r = ctx.book.rule(f.rule); return r !== undefined && r.action !== 'notify' && !isImmune(r); });
  const out: NewDecision[] = [];
  for (const f of fired) {
    const rule = ctx.book.rule(f.rule);
    if (!rule || (rule.action === 'notify' && restrictive)) continue;
    const rec = st.recurrences.get(rule.name) ?? 0;
    const immune = isImmune(rule);
    const seconds = rule.action === 'notify' ? rule.renotify : durationOf(rule, rec);
    const until = seconds === null ? null : now + seconds * 1000;
    const points = Math.round(f.points * 10) / 10;
    const reason = `rule ${rule.name}: ${points} points in ${span(rule.window)} (threshold ${rule.threshold})`;
    const d: DecisionRow = {
      id: 0, caseId: 0, subscriber: st.subscriber, rule: rule.name, action: rule.action, at: now, until, immune,
      state: immune ? 'immune' : rule.action === 'notify' ? 'active' : 'pending', reason, revision: null, undo: emptyUndo(),
      attempts: 0, asked: [], nextTry: 0, notice: immune ? 'none' : 'pending', endedAt: null, endedBy: null, endKind: null,
    };
    const what = rule.action === 'notify' ? 'notify' : `${rule.action} ${seconds === null ? 'until released' : `for ${span(seconds)}`}${rec ? ` (recurrence ${rec})` : ''}`;
    out.push({ st, d, text: `${reason} → ${what}${immune ? `; tier ${tier} is immune: nothing enforced` : ''}` });
  }
  return out;
}

/** Records the decision in the open transaction (its id is set here). */
export async function recordDecision(tx: CaseStore, nd: NewDecision, actor = 'engine'): Promise<void> {
  const { d, st } = nd;
  d.caseId = st.caseId as number;
  d.id = await tx.insertDecision(d);
  const data = { decision: decisionKey(d.id), rule: d.rule, action: d.action, until: d.until, immune: d.immune };
  await tx.timeline(d.caseId, d.at, 'decision', actor, nd.text, data);
  if (d.immune) await tx.timeline(d.caseId, d.at, 'immune', actor, `the subscriber's tier is immune to ${d.action} by rule ${d.rule}`, data);
}

/** After the commit: the decision counts (blocking, recurrences, stats) and is published. */
export function published(ctx: Ctx, nd: NewDecision): void {
  const { d, st } = nd;
  st.blocking.push(d);
  if (!d.immune) st.recurrences.set(d.rule, (st.recurrences.get(d.rule) ?? 0) + 1);
  ctx.stats.decisions[d.action as ActionKind]++;
  if (d.immune) ctx.stats.immune++;
  ctx.o.bus.publish('case.decision', {
    case: caseKey(d.caseId), subscriber: d.subscriber, decision: decisionKey(d.id), action: d.action, rule: d.rule, until: d.until, immune: d.immune,
  });
}

// Lifting actions: the self-release gate (the deciding rule's classes quiet for
// its window, and self-releases left), the release itself (undo exactly what
// enforcement recorded), and expiry. A release starts the rule's grace.
import type { SelfReleaseCheck } from '../types.ts';
import { CaseError, type Ctx } from './context.ts';
import { sendNotice } from './enforce.ts';
import { caseKey, decisionKey, type CaseRow, type DecisionRow } from './store.ts';

const restrictive = (d: DecisionRow): boolean => d.action !== 'notify' && (d.state === 'pending' || d.state === 'active');

function minutes(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  return m >= 120 ? `${Math.round(m / 60)} hours` : `${m} minute${m === 1 ? '' : 's'}`;
}

export async function selfReleaseCheck(ctx: Ctx, caseId: number): Promise<SelfReleaseCheck> {
  const { store, book } = ctx;
  const c = await store.caseById(caseId);
  if (!c || c.state !== 'open') return { allowed: false, why: 'the case is closed', quietSince: null, left: 0 };
  const ds = (await store.decisionsOfCase(caseId)).filter(restrictive);
  if (!ds.length) return { allowed: false, why: 'nothing is restricted', quietSince: null, left: 0 };
  const last = await store.lastAtByClass(caseId);
  const now = ctx.o.clock.now();
  let left = Infinity, quietSince: number | null = null, waitMs = 0;
  for (const d of ds) {
    const rule = book.rule(d.rule);
    if (!rule) return { allowed: false, why: d.rule === 'desk' ? 'the desk set this restriction and lifts it' : `rule ${d.rule} is no longer configured`, quietSince: null, left: 0 };
    left = Math.min(left, rule.selfReleases - c.selfReleases);
    let q = d.at;
    for (const k of rule.classes) { const t = last.get(k); if (t !== undefined && t > q) q = t; }
    // quiet since the last signal of the rule's classes (at the earliest, since the decision)
    quietSince = quietSince === null ? q : Math.max(quietSince, q);
    waitMs = Math.max(waitMs, q + rule.window * 1000 - now);
  }
  left = Math.max(0, left);
  if (left <= 0) return { allowed: false, why: 'the self-releases of this case are used up', quietSince, left: 0 };
  if (waitMs > 0) return { allowed: false, why: `the signals that caused this have to stop first (quiet for ${minutes(waitMs)} more)`, quietSince, left };
  return { allowed: true, why: 'no such signal since the restriction', quietSince, left };
}

/** Undoes what a decision changed (a pending one: what it asked for, in case it got that far). */
async function undo(ctx: Ctx, d: DecisionRow, reason: string): Promise<void> {
  const e = ctx.o.enforcer;
  const prefixes = d.state === 'pending' ? (d.action === 'quarantine' ? d.asked : []) : d.undo.prefixes;
  if (prefixes.length) await e.unquarantine(prefixes, reason);
  if (d.undo.accounts.length) await e.unsuspend(d.undo.accounts, reason);
  if (d.undo.exemptions.length) await e.restoreExemptions(d.undo.exemptions, reason);
}

/** Ends decisions (undo first; a failing port throws and the decision stays in force). */
async function lift(ctx: Ctx, c: CaseRow, ds: DecisionRow[], actor: string, kind: 'desk' | 'self' | 'expired', reason: string): Promise<void> {
  const { o, store } = ctx;
  const why = `case ${caseKey(c.id)}: ${kind} release by ${actor}${reason ? `: ${reason}` : ''}`;
  for (const d of ds) {
    await undo(ctx, d, why);
    // An expired action ended at its `until` (the sweep may lift it a little later).
    const now = kind === 'expired' && d.until !== null ? Math.min(d.until, o.clock.now()) : o.clock.now();
    await store.transaction(async (tx) => {
      await tx.endDecision(d.id, kind === 'expired' ? 'expired' : 'released', now, actor, kind);
      await tx.timeline(c.id, now, kind === 'expired' ? 'expired' : 'release', actor,
        kind === 'expired' ? `${d.action} by rule ${d.rule} expired` : `${kind} release of ${d.action} by rule ${d.rule}${reason ? `: ${reason}` : ''}`,
        { decision: decisionKey(d.id), kind });
    });
    ctx.edges.untrack(d.id);
    const st = ctx.subs.get(c.subscriber);
    if (st) {
      st.blocking = st.blocking.filter((b) => b.id !== d.id);
      st.lastEnd.set(d.rule, now);
    }
  }
  if (kind !== 'expired') await store.countRelease(c.id, kind);
  o.bus.publish('case.released', { case: caseKey(c.id), subscriber: c.subscriber, actor, kind });
  await sendNotice(ctx, c.id, c.subscriber, 'released', null, null);
}

export async function releaseCase(ctx: Ctx, caseId: number, actor: string, reason: string, kind: 'desk' | 'self'): Promise<void> {
  const c = await ctx.store.caseById(caseId);
  if (!c) throw new CaseError('not-found', `no case ${caseKey(caseId)}`);
  if (kind === 'self') {
    const check = await selfReleaseCheck(ctx, caseId);
    if (!check.allowed) throw new CaseError('conflict', `self-release refused: ${check.why}`);
  }
  const ds = (await ctx.store.decisionsOfCase(caseId)).filter(restrictive);
  if (!ds.length) throw new CaseError('conflict', `case ${caseKey(caseId)} has nothing to release`);
  await lift(ctx, c, ds, actor, kind, reason);
}

/** The sweep's part: actions past their `until` are lifted. */
export async function expire(ctx: Ctx, now: number): Promise<number> {
  const due = await ctx.store.dueDecisions(now);
  const byCase = new Map<number, DecisionRow[]>();
  for (const d of due) byCase.set(d.caseId, [...(byCase.get(d.caseId) ?? []), d]);
  let n = 0;
  for (const [caseId, ds] of byCase) {
    const c = await ctx.store.caseById(caseId);
    if (!c) continue;
    try {
      await lift(ctx, c, ds, 'engine', 'expired', '');
      n += ds.length;
    } catch (err) {
      ctx.o.logger.error({ event: 'abuse', case: caseKey(caseId), err: String(err) }, 'abuse engine: lifting an expired action failed; retried at the next sweep');
    }
  }
  return n;
}

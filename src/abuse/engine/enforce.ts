// Acting on a recorded decision through the wiring's ports: quarantine the
// subscriber's current prefixes, suspend its accounts, revoke its exemptions;
// store what each port says it changed (the undo data) and the policy revision
// in force after it. A failure leaves the decision pending: the sweep (and the
// next start) tries again. Then the notice, and later the edges' acknowledgements.
import { evidenceLines } from '../notice/evidence.ts';
import type { Detail, NoticeRequest } from '../types.ts';
import type { Ctx } from './context.ts';
import { selfReleaseCheck } from './release.ts';
import { caseKey, decisionKey, emptyUndo, type DecisionRow, type Undo } from './store.ts';

const RETRY_MS = 30_000;
const uniq = (xs: string[]): string[] => [...new Set(xs)];

/** The subscriber's prefixes a quarantine can take: a CGNAT port block shares its address with others and is left out. */
async function prefixesOf(ctx: Ctx, subscriber: string): Promise<{ prefixes: string[]; shared: string[] }> {
  const cur = await ctx.o.directory.currentOf(subscriber);
  return {
    prefixes: uniq(cur.filter((a) => a.portLo === null && a.portHi === null).map((a) => a.prefix)),
    shared: uniq(cur.filter((a) => a.portLo !== null || a.portHi !== null).map((a) => a.prefix)),
  };
}

/** Enforces a pending decision; true when it is now active. */
export async function enforce(ctx: Ctx, d: DecisionRow): Promise<boolean> {
  if (d.state !== 'pending') return d.state === 'active';
  const { o, store } = ctx;
  const id = caseKey(d.caseId);
  const reason = `case ${id} ${decisionKey(d.id)}: ${d.reason}`;
  const retry = d.attempts > 0;
  const undo: Undo = emptyUndo();
  let revision: number | null = null;
  let text: string;
  try {
    if (d.action === 'quarantine') {
      const { prefixes, shared } = await prefixesOf(ctx, d.subscriber);
      // Asked for is written before the port runs: after a crash in between, the release lifts all of it.
      await store.markAttempt(d.id, uniq([...d.asked, ...prefixes]), o.clock.now() + RETRY_MS);
      const got = await o.enforcer.quarantine(d.subscriber, id, prefixes, reason);
      undo.prefixes = retry ? uniq([...got, ...d.asked, ...prefixes]) : uniq(got);
      revision = await o.enforcer.policyRevision();
      text = `quarantined ${undo.prefixes.length ? undo.prefixes.join(', ') : 'no new prefix'}${shared.length ? `; not ${shared.join(', ')} (a shared CGNAT address)` : ''} (policy revision ${revision})`;
    } else if (d.action === 'suspend') {
      await store.markAttempt(d.id, [], o.clock.now() + RETRY_MS);
      const r = await o.enforcer.suspend(d.subscriber, null, reason);
      undo.accounts = uniq(r.accounts);
      undo.held = uniq(r.held);
      text = `suspended ${undo.accounts.length ? undo.accounts.join(', ') : 'no account'}; held ${undo.held.length} queued message(s)`;
    } else if (d.action === 'revoke-exemption') {
      const { prefixes, shared } = await prefixesOf(ctx, d.subscriber);
      await store.markAttempt(d.id, uniq([...prefixes, ...shared]), o.clock.now() + RETRY_MS);
      undo.exemptions = await o.enforcer.revokeExemptions(d.subscriber, uniq([...prefixes, ...shared]), reason);
      revision = await o.enforcer.policyRevision();
      text = `revoked ${undo.exemptions.length} exemption(s) (policy revision ${revision})`;
    } else {
      return true;
    }
  } catch (err) {
    ctx.stats.enforceFailures++;
    o.logger.error({ event: 'abuse', case: id, decision: decisionKey(d.id), err: String(err) }, 'abuse engine: enforcing a decision failed; it stays pending and is retried');
    d.attempts++;
    return false;
  }
  await store.transaction(async (tx) => {
    await tx.markEnforced(d.id, undo, revision);
    await tx.timeline(d.caseId, o.clock.now(), 'enforced', 'engine', text, { decision: decisionKey(d.id), revision });
  });
  d.state = 'active';
  d.undo = undo;
  d.revision = revision;
  const st = ctx.subs.get(d.subscriber);
  const mine = st?.blocking.find((b) => b.id === d.id);
  if (mine) Object.assign(mine, { state: 'active', undo, revision });
  ctx.edges.track(d);
  return true;
}

/** Sends the decision's notice once (the decision's notice state says whether it went). */
export async function noticeFor(ctx: Ctx, d: DecisionRow): Promise<void> {
  if (d.notice !== 'pending') return;
  const state = await sendNotice(ctx, d.caseId, d.subscriber, d.action, d.until, decisionKey(d.id));
  d.notice = state;
  await ctx.store.setNotice(d.id, state);
}

/** A notice of `kind` for the case; the timeline says what happened to it. */
export async function sendNotice(ctx: Ctx, caseId: number, subscriber: string, kind: NoticeRequest['kind'], until: number | null,
  decision: string | null): Promise<'sent' | 'none' | 'failed'> {
  const { o, store } = ctx;
  const at = (): number => o.clock.now();
  const data: Detail = decision ? { decision, kind } : { kind };
  if (!o.notices) {
    await store.timeline(caseId, at(), 'notice', 'engine', `no ${kind} notice was sent: no notice sender is configured`, data);
    return 'none';
  }
  try {
    const contacts = (await o.directory.subscriber(subscriber))?.contacts ?? [];
    if (!contacts.length) {
      await store.timeline(caseId, at(), 'notice', 'engine', `no ${kind} notice was sent: the subscriber has no contact address`, data);
      return 'none';
    }
    const evidence = evidenceLines(await store.evidenceOf(caseId));
    // a notice about nothing restricted, or about a release, has nothing to self-release
    const selfRelease = kind === 'notify' || kind === 'released' ? { allowed: false, why: 'nothing is restricted', quietSince: null, left: 0 } : await selfReleaseCheck(ctx, caseId);
    const r = await o.notices.send({ kind, caseId: caseKey(caseId), subscriber, contacts, evidence, until, selfRelease });
    await store.timeline(caseId, at(), 'notice', 'engine', `${kind} notice queued for ${contacts.length} contact(s)`, { ...data, queueIds: r.queueIds.join(' ') });
    return 'sent';
  } catch (err) {
    o.logger.error({ event: 'abuse', case: caseKey(caseId), err: String(err) }, 'abuse engine: a notice could not be queued');
    await store.timeline(caseId, at(), 'notice', 'engine', `the ${kind} notice could not be queued`, { ...data, error: String(err).slice(0, 300) });
    return 'failed';
  }
}

/** directory.assigned: an active quarantine of the subscriber takes the new prefix too (recorded for the release). */
export async function follow(ctx: Ctx, subscriber: string, prefix: string, portLo: number | null): Promise<void> {
  const { o, store } = ctx;
  const ds = await store.activeQuarantinesOf(subscriber);
  for (const d of ds) {
    if (portLo !== null) {
      await store.timeline(d.caseId, o.clock.now(), 'note', 'engine', `the subscriber now holds a port block of ${prefix} (a shared CGNAT address): not quarantined`, { decision: decisionKey(d.id), prefix });
      continue;
    }
    if (d.undo.prefixes.includes(prefix)) continue;
    const got = await o.enforcer.quarantine(subscriber, caseKey(d.caseId), [prefix], `case ${caseKey(d.caseId)} ${decisionKey(d.id)}: the quarantine follows the subscriber to ${prefix}`);
    const undo = { ...d.undo, prefixes: uniq([...d.undo.prefixes, ...got]) };
    await store.transaction(async (tx) => {
      await tx.setUndo(d.id, undo);
      await tx.timeline(d.caseId, o.clock.now(), 'enforced', 'engine', `the quarantine follows the subscriber to ${prefix}${got.length ? '' : ' (already quarantined)'}`, { decision: decisionKey(d.id), prefix });
    });
    const mine = ctx.subs.get(subscriber)?.blocking.find((b) => b.id === d.id);
    if (mine) mine.undo = undo;
  }
}

/**
 * directory.ended: a prefix the subscriber no longer holds leaves its quarantine (the next holder of a
 * dynamic address must not find itself in the garden), unless the subscriber still holds it otherwise.
 */
export async function leave(ctx: Ctx, subscriber: string, prefix: string): Promise<void> {
  const { o, store } = ctx;
  const ds = (await store.activeQuarantinesOf(subscriber)).filter((d) => d.undo.prefixes.includes(prefix));
  if (!ds.length) return;
  if ((await o.directory.currentOf(subscriber)).some((a) => a.prefix === prefix)) return;
  for (const d of ds) {
    await o.enforcer.unquarantine([prefix], `case ${caseKey(d.caseId)} ${decisionKey(d.id)}: the subscriber no longer holds ${prefix}`);
    const undo = { ...d.undo, prefixes: d.undo.prefixes.filter((p) => p !== prefix) };
    await store.transaction(async (tx) => {
      await tx.setUndo(d.id, undo);
      await tx.timeline(d.caseId, o.clock.now(), 'enforced', 'engine', `the subscriber no longer holds ${prefix}: it left the quarantine`, { decision: decisionKey(d.id), prefix });
    });
    const mine = ctx.subs.get(subscriber)?.blocking.find((b) => b.id === d.id);
    if (mine) mine.undo = undo;
  }
}

/** edge.applied: the decisions its revision covers are enforced at that edge (the first edge also on the timeline). */
export async function applied(ctx: Ctx, edge: string, revision: number): Promise<void> {
  const { o, store } = ctx;
  for (const id of ctx.edges.due(edge, revision)) {
    const t = ctx.edges.live.get(id);
    if (!t) continue;
    const now = o.clock.now();
    const first = t.edges.size === 0;
    t.edges.add(edge);
    if (!(await store.markEdge(id, edge, now))) continue;
    const ms = Math.max(0, now - t.at);
    if (first) await store.timeline(t.caseId, now, 'enforced', 'engine', `enforced at edge ${edge} ${ms} ms after the decision`, { decision: decisionKey(id), edge, ms });
    o.bus.publish('case.enforced', { case: caseKey(t.caseId), decision: decisionKey(id), edge, ms });
  }
}

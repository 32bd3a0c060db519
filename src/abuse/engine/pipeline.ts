// One batch of signals, end to end: join each to the subscriber who held the
// address at the signal's time, coalesce it into evidence, raise the score,
// update the windows and evaluate the rules; then write the batch in one
// transaction (cases opened, evidence, scores, decisions recorded) and only
// after that commit act on the decisions: durable before acted on.
import type { Holder } from '../../directory/index.ts';
import type { Rule } from '../rules.ts';
import type { Signal } from '../types.ts';
import { normSubscriber, type Ctx, type UnattributedReason } from './context.ts';
import { decide, recordDecision, type NewDecision } from './decide.ts';
import { addPoints } from './scoring.ts';
import { coalesceInto, copyDetail, evidenceKey, loadSub, pruneRows, SubState, type PendingRow } from './state.ts';
import { caseKey, type CaseStore } from './store.ts';

type Joined = { sub: string } | { reason: UnattributedReason };

interface Batch {
  now: number;
  opened: SubState[];
  fresh: PendingRow[];
  dirty: Set<PendingRow>;
  scored: Set<SubState>;
}

export class Pipeline {
  private readonly ctx: Ctx;
  /** Unattributed rows of the current minute, by reason and key. */
  private readonly orphans = new Map<string, PendingRow>();
  private lookupErrorLogged = 0;
  /** The last evidence and unattributed ids used (the engine is the only writer of those tables). */
  private readonly ids: { evidence: number; unattributed: number };

  constructor(ctx: Ctx, ids: { evidence: number; unattributed: number }) {
    this.ctx = ctx;
    this.ids = { ...ids };
  }

  /** Processes the batch; returns the decisions recorded (the caller enforces them). A batch that fails is lost as a whole, counted and logged. */
  async run(signals: Signal[]): Promise<NewDecision[]> {
    const { ctx } = this;
    const now = ctx.o.clock.now();
    const b: Batch = { now, opened: [], fresh: [], dirty: new Set(), scored: new Set() };
    const decisions: NewDecision[] = [];
    try {
      const joined = await Promise.all(signals.map((s) => this.join(s)));
      await this.ensureStates(joined, now);
      for (let i = 0; i < signals.length; i++) {
        const j = joined[i];
        if ('sub' in j) this.apply(b, ctx.subs.get(j.sub) as SubState, signals[i]);
        else this.orphan(b, j.reason, signals[i]);
      }
      for (const st of b.scored) if (st.fired.length) decisions.push(...await decide(ctx, st, now));
      await ctx.store.transaction((tx) => this.write(tx, b, decisions));
    } catch (err) {
      // What the batch changed in memory is dropped: those subscribers are read back from the store at their next signal.
      for (const st of b.scored) { ctx.subs.delete(st.subscriber); st.fired = []; }
      this.orphans.clear();
      ctx.stats.failed += signals.length;
      ctx.o.logger.error({ event: 'abuse', err: String(err), signals: signals.length }, 'abuse engine: a batch of signals could not be stored; its signals are lost');
      return [];
    }
    ctx.stats.processed += signals.length;
    if (this.orphans.size > 1024) pruneRows(this.orphans, now);
    for (const st of b.opened) {
      ctx.stats.casesOpened++;
      ctx.o.bus.publish('case.opened', { case: caseKey(st.caseId as number), subscriber: st.subscriber });
    }
    for (const st of b.scored) st.fired = [];
    return decisions;
  }

  private async join(s: Signal): Promise<Joined> {
    if (s.subscriber) return { sub: normSubscriber(s.subscriber) };
    if (!s.address) return { reason: 'no-address' };
    let holders: Holder[];
    try {
      holders = await this.ctx.o.directory.holdersAt(s.address, s.at, s.port);
    } catch (err) {
      const t = this.ctx.o.clock.now();
      if (t - this.lookupErrorLogged > 60_000) {
        this.lookupErrorLogged = t;
        this.ctx.o.logger.error({ event: 'abuse', err: String(err) }, 'abuse engine: the directory lookup failed; signals are kept unattributed');
      }
      return { reason: 'lookup-error' };
    }
    if (holders.length === 0) return { reason: 'no-holder' };
    // Several holders: an address shared behind CGNAT and a signal without its port. Blaming all would punish the innocent.
    const subs = new Set(holders.map((h) => h.subscriber));
    if (subs.size > 1) return { reason: 'ambiguous' };
    return { sub: normSubscriber(holders[0].subscriber) };
  }

  private async ensureStates(joined: Joined[], now: number): Promise<void> {
    const { ctx } = this;
    const missing = new Set<string>();
    for (const j of joined) if ('sub' in j && !ctx.subs.has(j.sub)) missing.add(j.sub);
    for (const sub of missing) ctx.subs.set(sub, await loadSub(ctx.store, ctx.book, sub, now));
  }

  private apply(b: Batch, st: SubState, s: Signal): void {
    const { ctx } = this;
    const at = Math.min(s.at, b.now); // a source's clock ahead of ours must not push windows into the future
    if (st.caseId === null && st.openedAt !== b.now) { b.opened.push(st); st.openedAt = b.now; st.score = 0; st.scoreAt = at; }
    const key = evidenceKey(s.class, s.origin, s.address);
    const { row, fresh } = coalesceInto(st.coalesce, key, () => ({
      id: null, caseId: st.caseId ?? 0, sub: st, class: s.class, address: s.address, port: s.port, account: s.account, origin: s.origin,
      amount: s.amount, count: 1, firstAt: at, lastAt: at, detail: copyDetail(s.detail),
    }), at, s.amount, s.port, s.account);
    if (fresh) b.fresh.push(row); else if (row.id !== null) b.dirty.add(row);
    const points = ctx.book.weights[s.class] * s.amount;
    const sc = addPoints(st.score, st.scoreAt, points, at, ctx.o.halfLifeMinutes * 60_000);
    st.score = sc.score;
    st.scoreAt = sc.scoreAt;
    if (st.lastSignalAt === null || at > st.lastSignalAt) st.lastSignalAt = at;
    const last = st.lastAt.get(s.class);
    if (last === undefined || at > last) st.lastAt.set(s.class, at);
    st.windows.add(ctx.book, s.class, at, s.amount, Math.floor(b.now / 1000));
    b.scored.add(st);
    const rules = ctx.book.byClass.get(s.class);
    if (rules) for (const r of rules) this.evaluate(st, r, at, b.now);
  }

  private evaluate(st: SubState, r: Rule, at: number, now: number): void {
    if (!st.mayFire(r.name, r.grace, now)) return;
    if (r.action === 'notify' && st.restricted()) return; // the restriction's own notice says it all
    const points = st.windows.points(this.ctx.book, r, at);
    if (points >= r.threshold) st.fired.push({ rule: r.name, at, points });
  }

  private orphan(b: Batch, reason: UnattributedReason, s: Signal): void {
    this.ctx.stats.unattributed[reason]++;
    const at = Math.min(s.at, b.now);
    const { row, fresh } = coalesceInto(this.orphans, `${reason}\u0000${evidenceKey(s.class, s.origin, s.address)}`, () => ({
      id: null, caseId: 0, sub: null, reason, class: s.class, address: s.address, port: s.port, account: null, origin: s.origin,
      amount: s.amount, count: 1, firstAt: at, lastAt: at, detail: copyDetail(s.detail),
    }), at, s.amount, s.port, null, false);
    if (fresh) b.fresh.push(row); else if (row.id !== null) b.dirty.add(row);
  }

  private async write(tx: CaseStore, b: Batch, decisions: NewDecision[]): Promise<void> {
    for (const st of b.opened) {
      st.caseId = await tx.insertCase(st.subscriber, b.now, st.previous);
      const again = st.previous !== null;
      await tx.timeline(st.caseId, b.now, again ? 'reopened' : 'opened', 'engine',
        again ? `a new case after ${caseKey(st.previous as number)} closed` : 'the first signal opened the case', again ? { previous: caseKey(st.previous as number) } : {});
    }
    const ev: PendingRow[] = [], orphans: PendingRow[] = [];
    for (const r of b.fresh) {
      if (r.sub) { r.caseId = r.sub.caseId as number; r.id = ++this.ids.evidence; ev.push(r); } else { r.id = ++this.ids.unattributed; orphans.push(r); }
    }
    for (const r of b.dirty) (r.sub ? ev : orphans).push(r);
    await tx.upsertEvidence(ev);
    await tx.upsertUnattributed(orphans);
    await tx.updateScores([...b.scored].map((st) => ({
      id: st.caseId as number, subscriber: st.subscriber, openedAt: st.openedAt, score: st.score, scoreAt: st.scoreAt, lastSignalAt: st.lastSignalAt,
    })));
    for (const d of decisions) await recordDecision(tx, d);
  }
}

// The CaseService: reads straight from the store; every change runs in the
// engine's lane (after the signals before it) and names its actor on the
// timeline (the app layer audits the call itself).
import type { CaseDetail, CaseService, CaseState, CaseSummary, SelfReleaseCheck } from '../types.ts';
import { CaseError, normSubscriber, type Ctx } from './context.ts';
import { published, recordDecision, type NewDecision } from './decide.ts';
import { enforce, noticeFor } from './enforce.ts';
import { releaseCase, selfReleaseCheck } from './release.ts';
import { loadSub } from './state.ts';
import { caseKey, emptyUndo, parseKey, type CaseRow } from './store.ts';

export type Lane = <T>(fn: () => Promise<T>) => Promise<T>;

const NOTE_MAX = 4000;

export class Cases implements CaseService {
  private readonly ctx: Ctx;
  private readonly lane: Lane;
  constructor(ctx: Ctx, lane: Lane) {
    this.ctx = ctx;
    this.lane = lane;
  }

  private async row(id: string): Promise<CaseRow> {
    const n = parseKey(id, 'c');
    const c = n === null ? null : await this.ctx.store.caseById(n);
    if (!c) throw new CaseError('not-found', `no case ${id.slice(0, 40)}`);
    return c;
  }

  async list(filter: { state?: CaseState; subscriber?: string; after?: string; limit?: number } = {}): Promise<CaseSummary[]> {
    const after = filter.after === undefined ? undefined : parseKey(filter.after, 'c') ?? 0;
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 100)), 1000);
    const rows = await this.ctx.store.listCases({ state: filter.state, subscriber: filter.subscriber === undefined ? undefined : normSubscriber(filter.subscriber), after, limit });
    return Promise.all(rows.map((r) => this.ctx.store.summary(r)));
  }

  async show(id: string): Promise<CaseDetail | null> {
    const n = parseKey(id, 'c');
    const c = n === null ? null : await this.ctx.store.caseById(n);
    if (!c) return null;
    const s = this.ctx.store;
    return { ...await s.summary(c), evidence: await s.evidenceOut(c.id), timeline: await s.timelineOf(c.id) };
  }

  async openOf(subscriber: string): Promise<CaseSummary | null> {
    const c = await this.ctx.store.openCaseOf(normSubscriber(subscriber));
    return c ? this.ctx.store.summary(c) : null;
  }

  note(id: string, text: string, actor: string): Promise<CaseSummary> {
    return this.lane(async () => {
      const c = await this.row(id);
      const t = text.trim();
      if (!t) throw new CaseError('invalid-value', 'a note needs text');
      await this.ctx.store.timeline(c.id, this.ctx.o.clock.now(), 'note', actor, t.slice(0, NOTE_MAX));
      return this.ctx.store.summary(c);
    });
  }

  release(id: string, actor: string, reason: string, kind: 'desk' | 'self'): Promise<CaseSummary> {
    return this.lane(async () => {
      const c = await this.row(id);
      await releaseCase(this.ctx, c.id, actor, reason, kind);
      return this.ctx.store.summary((await this.ctx.store.caseById(c.id)) as CaseRow);
    });
  }

  selfReleaseCheck(id: string): Promise<SelfReleaseCheck> {
    const n = parseKey(id, 'c');
    if (n === null) return Promise.resolve({ allowed: false, why: 'no such case', quietSince: null, left: 0 });
    return selfReleaseCheck(this.ctx, n);
  }

  quarantine(subscriber: string, actor: string, reason: string, durationS?: number | null): Promise<CaseSummary> {
    return this.lane(async () => {
      const { ctx } = this;
      const { o, store } = ctx;
      const sub = normSubscriber(subscriber);
      if (durationS !== undefined && durationS !== null && !(Number.isFinite(durationS) && durationS > 0)) throw new CaseError('invalid-value', 'the duration must be a positive number of seconds');
      if (!(await o.directory.subscriber(sub))) throw new CaseError('not-found', `no subscriber ${sub.slice(0, 80)}`);
      const now = o.clock.now();
      const st = ctx.subs.get(sub) ?? await loadSub(store, ctx.book, sub, now);
      ctx.subs.set(sub, st);
      if (st.blocking.some((d) => d.action === 'quarantine' && (d.state === 'pending' || d.state === 'active'))) {
        throw new CaseError('conflict', `subscriber ${sub.slice(0, 80)} is already quarantined`);
      }
      const opened = st.caseId === null;
      const until = durationS ? now + Math.round(durationS * 1000) : null;
      const nd: NewDecision = {
        st,
        d: {
          id: 0, caseId: 0, subscriber: sub, rule: 'desk', action: 'quarantine', at: now, until, immune: false, state: 'pending',
          reason: `desk quarantine by ${actor}${reason ? `: ${reason}` : ''}`, revision: null, undo: emptyUndo(), attempts: 0, asked: [],
          nextTry: 0, notice: 'pending', endedAt: null, endedBy: null, endKind: null,
        },
        text: `desk quarantine${until === null ? ' until released' : ` for ${Math.round(durationS as number)} s`}${reason ? `: ${reason}` : ''}`,
      };
      try {
        await store.transaction(async (tx) => {
          if (opened) {
            st.caseId = await tx.insertCase(sub, now, st.previous);
            st.openedAt = now;
            st.scoreAt = now;
            await tx.timeline(st.caseId, now, st.previous === null ? 'opened' : 'reopened', actor, 'opened by a desk quarantine',
              st.previous === null ? {} : { previous: caseKey(st.previous) });
          }
          await recordDecision(tx, nd, actor);
        });
      } catch (err) {
        ctx.subs.delete(sub);
        throw err;
      }
      if (opened) {
        ctx.stats.casesOpened++;
        o.bus.publish('case.opened', { case: caseKey(st.caseId as number), subscriber: sub });
      }
      published(ctx, nd);
      if (await enforce(ctx, nd.d)) await noticeFor(ctx, nd.d);
      return store.summary((await store.caseById(st.caseId as number)) as CaseRow);
    });
  }
}

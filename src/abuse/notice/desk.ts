// What the notice page shows and does, without any HTML: find the case (by the
// link's token, or in the walled garden by who holds the client's address now),
// and release it on the subscriber's request when the engine allows it. The
// HTTP layer (src/http/notice.ts) renders; this decides.
import { formatIp, parseIp, systemClock, type Clock } from '../../core/index.ts';
import type { EventBus } from '../../events/index.ts';
import type { HolderLookup } from '../../directory/index.ts';
import type { ActionKind, CaseService, CaseSummary, SelfReleaseCheck } from '../types.ts';
import { evidenceLines } from './evidence.ts';
import { TOKEN_REFUSALS, type NoticeTokens, type TokenRefusal } from './tokens.ts';

export interface NoticeCaseView {
  via: 'token' | 'address';
  caseId: string;
  subscriber: string;
  state: CaseSummary['state'];
  /** The actions in force now (none once released). */
  actions: ActionKind[];
  /** The latest lapse of the actions in force; null: until released (or none in force). */
  until: number | null;
  evidence: string[];
  selfRelease: SelfReleaseCheck;
  /** A fresh CSRF value for this page's form. */
  csrf: string;
}

export type NoticeLookup =
  | { ok: true; view: NoticeCaseView }
  | { ok: false; why: 'no-case' | 'ambiguous' | TokenRefusal | 'unknown-case'; text: string };

export type ReleaseOutcome =
  | { outcome: 'released'; view: NoticeCaseView }
  | { outcome: 'refused'; why: string; view: NoticeCaseView }
  | { outcome: 'csrf'; why: string }
  | { outcome: 'not-found'; lookup: NoticeLookup };

/** Where a request comes from and what it carries. */
export interface NoticeAsk { token?: string | null; address: string; port?: number | null }

export interface NoticeDeskOptions {
  tokens: NoticeTokens;
  cases: CaseService;
  holders: Pick<HolderLookup, 'holdersAt'>;
  bus?: EventBus;
  clock?: Clock;
}

export class NoticeDesk {
  private readonly o: NoticeDeskOptions;
  private readonly clock: Clock;

  constructor(o: NoticeDeskOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
  }

  /** The case this request may see; publishes notice.viewed when `count`. */
  async find(ask: NoticeAsk, count = true): Promise<NoticeLookup> {
    const r = await this.lookup(ask);
    if (count) this.o.bus?.publish('notice.viewed', { case: r.ok ? r.view.caseId : null, via: r.ok ? r.view.via : 'none' });
    return r;
  }

  /** The garden client's address in canonical form (an IPv4-mapped IPv6 peer is its IPv4 address). */
  static canonical(address: string): string {
    const a = parseIp(address);
    return a ? formatIp(a) : address;
  }

  /** A self-release asked for with this page's CSRF value. */
  async release(ask: NoticeAsk, csrf: unknown): Promise<ReleaseOutcome> {
    const found = await this.lookup(ask);
    if (!found.ok) return { outcome: 'not-found', lookup: found };
    const v = found.view;
    const publish = (outcome: 'released' | 'refused' | 'csrf'): void => this.o.bus?.publish('notice.self-release', { case: v.caseId, subscriber: v.subscriber, outcome });
    const c = this.o.tokens.verifyCsrf(csrf, v.caseId, this.binding(v.via, v.subscriber, ask.address));
    if (!c.ok) { publish('csrf'); return { outcome: 'csrf', why: c.reason }; }
    const check = await this.o.cases.selfReleaseCheck(v.caseId);
    if (!check.allowed || !v.actions.length) {
      publish('refused');
      return { outcome: 'refused', why: check.allowed ? 'nothing is restricted on this case now' : check.why, view: { ...v, selfRelease: check } };
    }
    try {
      await this.o.cases.release(v.caseId, `subscriber:${v.subscriber}`, 'self release on the notice page', 'self');
    } catch (err) {
      // A second tab, or the engine changed its mind between the check and the release.
      publish('refused');
      return { outcome: 'refused', why: err instanceof Error ? err.message : String(err), view: v };
    }
    publish('released');
    const after = await this.lookup(ask);
    return { outcome: 'released', view: after.ok ? after.view : { ...v, actions: [], until: null } };
  }

  private binding(via: 'token' | 'address', subscriber: string, address: string): string {
    return via === 'token' ? `subscriber:${subscriber}` : `address:${NoticeDesk.canonical(address)}`;
  }

  private async lookup(ask: NoticeAsk): Promise<NoticeLookup> {
    if (ask.token) {
      const g = this.o.tokens.verifyLink(ask.token);
      if (!g.ok) return { ok: false, why: g.reason, text: TOKEN_REFUSALS[g.reason] };
      return this.view(g.value.case, g.value.subscriber, 'token', ask.address);
    }
    const address = NoticeDesk.canonical(ask.address);
    const holders = await this.o.holders.holdersAt(address, this.clock.now(), ask.port ?? null);
    const subs = [...new Set(holders.map((h) => h.subscriber))];
    if (subs.length > 1) return { ok: false, why: 'ambiguous', text: 'several customers share this address; please use the link in the notice we sent' };
    if (!subs.length) return { ok: false, why: 'no-case', text: 'there is no notice for this connection' };
    const open = await this.o.cases.openOf(subs[0]);
    if (!open) return { ok: false, why: 'no-case', text: 'there is no notice for this connection' };
    return this.view(open.id, subs[0], 'address', address);
  }

  private async view(caseId: string, subscriber: string, via: 'token' | 'address', address: string): Promise<NoticeLookup> {
    const d = await this.o.cases.show(caseId);
    // A token names the case and its subscriber; both must still agree.
    if (!d || d.subscriber !== subscriber) return { ok: false, why: 'unknown-case', text: 'we cannot find this case' };
    const now = this.clock.now();
    const active = d.active.filter((a) => a.until === null || a.until > now);
    const until = active.some((a) => a.until === null) ? null : active.reduce<number | null>((m, a) => Math.max(m ?? 0, a.until ?? 0), null);
    const selfRelease = d.state === 'open' && active.length
      ? await this.o.cases.selfReleaseCheck(d.id)
      : { allowed: false, why: active.length ? 'the case is closed' : 'nothing is restricted', quietSince: null, left: 0 };
    return {
      ok: true,
      view: {
        via, caseId: d.id, subscriber: d.subscriber, state: d.state, actions: [...new Set(active.map((a) => a.action))], until,
        evidence: evidenceLines(d.evidence), selfRelease, csrf: this.o.tokens.csrf(d.id, this.binding(via, d.subscriber, address)),
      },
    };
  }
}

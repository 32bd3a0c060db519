// Small fakes of the abuse engine's CaseService and the directory's lookup for
// the notice page's and the notices' tests, and the engine's own test peers: a
// directory with address history in maps, a recording Enforcer and NoticeSender
// (these follow the contracts of src/abuse/types.ts and src/directory/types.ts).
import type { CaseDetail, CaseService, CaseSummary, Enforcer, NoticeRequest, NoticeSender, SelfReleaseCheck } from '../../src/abuse/index.ts';
import type { Assignment, Holder, HolderLookup, Subscriber } from '../../src/directory/index.ts';

export class FakeCases implements CaseService {
  readonly cases = new Map<string, CaseDetail>();
  readonly releases: Array<{ id: string; actor: string; reason: string; kind: string }> = [];
  check: SelfReleaseCheck = { allowed: true, why: 'quiet for 2 hours', quietSince: 0, left: 2 };

  add(c: Partial<CaseDetail> & { id: string; subscriber: string }): CaseDetail {
    const d: CaseDetail = {
      state: 'open', openedAt: 0, closedAt: null, score: 10, scoreAt: 0, lastSignalAt: 0, active: [], selfReleases: 0, deskReleases: 0,
      recurrences: {}, evidence: [], timeline: [], ...c,
    };
    this.cases.set(d.id, d);
    return d;
  }

  async list(): Promise<CaseSummary[]> { return [...this.cases.values()]; }
  async show(id: string): Promise<CaseDetail | null> { return this.cases.get(id) ?? null; }
  async openOf(subscriber: string): Promise<CaseSummary | null> {
    return [...this.cases.values()].find((c) => c.subscriber === subscriber && c.state === 'open') ?? null;
  }
  async note(): Promise<CaseSummary> { throw new Error('not used'); }
  async quarantine(): Promise<CaseSummary> { throw new Error('not used'); }
  async selfReleaseCheck(): Promise<SelfReleaseCheck> { return this.check; }
  async release(id: string, actor: string, reason: string, kind: 'desk' | 'self'): Promise<CaseSummary> {
    const c = this.cases.get(id);
    if (!c || !c.active.length) throw new Error('nothing to release');
    this.releases.push({ id, actor, reason, kind });
    c.active = [];
    c.selfReleases++;
    return c;
  }
}

/** A HolderLookup.holdersAt over a fixed address → subscriber map (whole addresses, no ports); records each question. */
export function fakeHolders(map: Record<string, string>): Pick<HolderLookup, 'holdersAt'> & { asked: Array<{ address: string; at: number; port: number | null }> } {
  const asked: Array<{ address: string; at: number; port: number | null }> = [];
  return {
    asked,
    async holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]> {
      asked.push({ address, at, port: port ?? null });
      const s = map[address];
      return s ? [{ subscriber: s, assignment: { id: 1, subscriber: s, prefix: address, portLo: null, portHi: null, start: 0, end: null, source: 'static', session: null } }] : [];
    },
  };
}

/** A directory for the engine's tests: address history (with times), current assignments and subscribers, all in maps. */
export class FakeDirectory implements HolderLookup {
  readonly history: Assignment[] = [];
  readonly subscribers = new Map<string, Subscriber>();
  asked = 0;
  private next = 1;

  addSubscriber(id: string, tier = 'residential', contacts: string[] = [`${id}@example.net`]): this {
    this.subscribers.set(id, { id, tier, contacts, access: [], createdAt: 0, updatedAt: 0 });
    return this;
  }
  /** The subscriber holds prefix from start until end (null: still). */
  assign(subscriber: string, prefix: string, start: number, end: number | null = null, ports: [number, number] | null = null): Assignment {
    const a: Assignment = { id: this.next++, subscriber, prefix, portLo: ports?.[0] ?? null, portHi: ports?.[1] ?? null, start, end, source: 'static', session: null };
    this.history.push(a);
    return a;
  }
  end(subscriber: string, prefix: string, at: number): void {
    for (const a of this.history) if (a.subscriber === subscriber && a.prefix === prefix && a.end === null) a.end = at;
  }
  async holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]> {
    this.asked++;
    return this.history
      .filter((a) => a.prefix === address && a.start <= at && (a.end === null || at < a.end)
        && (port === null || port === undefined || a.portLo === null || (port >= a.portLo && port <= (a.portHi ?? a.portLo))))
      .map((a) => ({ subscriber: a.subscriber, assignment: a }));
  }
  async currentOf(subscriber: string): Promise<Assignment[]> {
    return this.history.filter((a) => a.subscriber === subscriber && a.end === null);
  }
  async subscriber(id: string): Promise<Subscriber | null> { return this.subscribers.get(id) ?? null; }
}

/** An Enforcer that records every call and keeps the state a real one would (what is quarantined, suspended, exempt). */
export class RecordingEnforcer implements Enforcer {
  readonly calls: Array<{ op: string; args: unknown[] }> = [];
  readonly quarantined = new Set<string>();
  readonly suspended = new Set<string>();
  /** subscriber → its accounts. */
  readonly accounts = new Map<string, string[]>();
  /** prefix → exemption. */
  readonly exemptions = new Map<string, { prefix: string; customer: string; expiresAt: number | null }>();
  revision = 1;
  /** Set to make the next call of that op throw once. */
  failNext: string | null = null;

  private call(op: string, args: unknown[]): void {
    this.calls.push({ op, args });
    if (this.failNext === op) { this.failNext = null; throw new Error(`${op}: the port is down`); }
  }
  ops(): string[] { return this.calls.map((c) => c.op); }

  async quarantine(subscriber: string, caseId: string, prefixes: string[], reason: string): Promise<string[]> {
    this.call('quarantine', [subscriber, caseId, prefixes, reason]);
    const added = prefixes.filter((p) => !this.quarantined.has(p));
    for (const p of added) this.quarantined.add(p);
    if (added.length) this.revision++;
    return added;
  }
  async unquarantine(prefixes: string[], reason: string): Promise<void> {
    this.call('unquarantine', [prefixes, reason]);
    for (const p of prefixes) this.quarantined.delete(p);
    this.revision++;
  }
  async suspend(subscriber: string, accounts: string[] | null, reason: string): Promise<{ accounts: string[]; held: string[] }> {
    this.call('suspend', [subscriber, accounts, reason]);
    const list = (accounts ?? this.accounts.get(subscriber) ?? []).filter((a) => !this.suspended.has(a));
    for (const a of list) this.suspended.add(a);
    return { accounts: list, held: list.map((a) => `q-${a}`) };
  }
  async unsuspend(accounts: string[], reason: string): Promise<void> {
    this.call('unsuspend', [accounts, reason]);
    for (const a of accounts) this.suspended.delete(a);
  }
  async revokeExemptions(subscriber: string, prefixes: string[], reason: string): Promise<Array<{ prefix: string; customer: string; expiresAt: number | null }>> {
    this.call('revokeExemptions', [subscriber, prefixes, reason]);
    const out = prefixes.map((p) => this.exemptions.get(p)).filter((e) => e !== undefined);
    for (const e of out) this.exemptions.delete(e.prefix);
    if (out.length) this.revision++;
    return out;
  }
  async restoreExemptions(list: Array<{ prefix: string; customer: string; expiresAt: number | null }>, reason: string): Promise<void> {
    this.call('restoreExemptions', [list, reason]);
    for (const e of list) this.exemptions.set(e.prefix, e);
    this.revision++;
  }
  async policyRevision(): Promise<number> { return this.revision; }
}

/** A NoticeSender that records each request and answers queue ids. */
export class RecordingNotices implements NoticeSender {
  readonly sent: NoticeRequest[] = [];
  async send(n: NoticeRequest): Promise<{ queueIds: string[] }> {
    this.sent.push(n);
    return { queueIds: n.contacts.map((_, i) => `nq${this.sent.length}-${i}`) };
  }
}

// Small fakes of the abuse engine's CaseService and the directory's lookup for
// the notice page's and the notices' tests (the real engine is built by another part; these
// follow the contracts of src/abuse/types.ts and src/directory/types.ts).
import type { CaseDetail, CaseService, CaseSummary, SelfReleaseCheck } from '../../src/abuse/index.ts';
import type { Holder, HolderLookup } from '../../src/directory/index.ts';

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

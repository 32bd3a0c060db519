// A DirectoryRepository in memory, for the address sources' tests until (and
// where) the real one is not needed: the contract of src/directory/types.ts,
// kept simple (linear scans).
import { canonicalPrefix } from '../../src/directory/prefix.ts';
import { parseIp, maskIp, formatIp } from '../../src/core/index.ts';
import type { AssignInput, Assignment, AssignmentSource, DirectoryRepository, Holder, Subscriber } from '../../src/directory/index.ts';

export class MemoryDirectory implements DirectoryRepository {
  readonly subs = new Map<string, Subscriber>();
  readonly assignments: Assignment[] = [];
  private nextId = 1;

  async holdersAt(address: string, at: number, port?: number | null): Promise<Holder[]> {
    const a = parseIp(address);
    if (!a) return [];
    return this.assignments.filter((x) => {
      const [net, len] = x.prefix.split('/');
      const n = parseIp(net)!;
      if (n.v !== a.v) return false;
      const l = len === undefined ? (a.v === 4 ? 32 : 128) : Number(len);
      if (formatIp(maskIp(a, l)) !== formatIp(n)) return false;
      if (x.start > at || (x.end !== null && x.end <= at)) return false;
      if (port != null && x.portLo !== null && (port < x.portLo || port > x.portHi!)) return false;
      return true;
    }).map((x) => ({ subscriber: x.subscriber, assignment: { ...x } }));
  }

  async currentOf(subscriber: string): Promise<Assignment[]> {
    return this.assignments.filter((a) => a.subscriber === subscriber && a.end === null).map((a) => ({ ...a }));
  }

  async subscriber(id: string): Promise<Subscriber | null> {
    const s = this.subs.get(id.trim().toLowerCase());
    return s ? { ...s } : null;
  }

  async putSubscriber(s: { id: string; tier?: string; contacts?: string[]; access?: string[] }): Promise<Subscriber> {
    const id = s.id.trim().toLowerCase();
    const old = this.subs.get(id);
    const now = Date.now();
    const n: Subscriber = {
      id, tier: s.tier ?? old?.tier ?? 'default', contacts: s.contacts ?? old?.contacts ?? [], access: s.access ?? old?.access ?? [],
      createdAt: old?.createdAt ?? now, updatedAt: now,
    };
    this.subs.set(id, n);
    return { ...n };
  }

  async listSubscribers(opts: { after?: string; limit?: number } = {}): Promise<Subscriber[]> {
    return [...this.subs.values()].sort((a, b) => a.id.localeCompare(b.id)).filter((s) => opts.after === undefined || s.id > opts.after).slice(0, opts.limit ?? 100);
  }

  async resolveAccess(access: string): Promise<string | null> {
    for (const s of this.subs.values()) if (s.access.includes(access)) return s.id;
    return null;
  }

  async assign(i: AssignInput): Promise<Assignment> {
    const prefix = canonicalPrefix(i.prefix)!.text;
    const open = this.assignments.find((a) => a.end === null && a.source === i.source && (i.session ? a.session === i.session : a.prefix === prefix));
    if (open) {
      Object.assign(open, { subscriber: i.subscriber, prefix, portLo: i.portLo ?? null, portHi: i.portHi ?? null, end: i.end ?? null });
      return { ...open };
    }
    const a: Assignment = { id: this.nextId++, subscriber: i.subscriber, prefix, portLo: i.portLo ?? null, portHi: i.portHi ?? null, start: i.start, end: i.end ?? null, source: i.source, session: i.session ?? null };
    this.assignments.push(a);
    return { ...a };
  }

  async end(q: { source: AssignmentSource; session?: string | null; prefix?: string; subscriber?: string }, at: number): Promise<Assignment | null> {
    const a = this.assignments.find((x) => x.end === null && x.source === q.source
      && (q.session == null || x.session === q.session) && (q.prefix === undefined || x.prefix === canonicalPrefix(q.prefix)?.text)
      && (q.subscriber === undefined || x.subscriber === q.subscriber));
    if (!a) return null;
    a.end = at;
    return { ...a };
  }

  async history(q: { subscriber?: string; address?: string; from?: number; to?: number; limit?: number }): Promise<Assignment[]> {
    return this.assignments.filter((a) => q.subscriber === undefined || a.subscriber === q.subscriber).reverse().slice(0, q.limit ?? 100).map((a) => ({ ...a }));
  }

  async prune(before: number): Promise<number> {
    const n = this.assignments.length;
    for (let i = this.assignments.length - 1; i >= 0; i--) { const e = this.assignments[i].end; if (e !== null && e < before) this.assignments.splice(i, 1); }
    return n - this.assignments.length;
  }
}

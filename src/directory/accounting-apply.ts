// What an accounting record does to the directory. Start and Interim-Update:
// one assignment per address, prefix and port block in the record (an
// Interim-Update for a session we already hold writes nothing; one for a
// session we missed the Start of begins at time − Acct-Session-Time). Stop:
// every open assignment of that NAS and session ends (a Stop for a session we
// never saw records the closed interval when Acct-Session-Time says when it
// began). Accounting-On/Off: the NAS restarted, so every open RADIUS
// assignment of that NAS ends. Records of one session are applied in order.
import type { Assignment, DirectoryRepository } from './types.ts';
import { sessionKey, type AccountingRecord, type Held } from './accounting.ts';
import { KeyedQueue } from './keyed-queue.ts';

export type Applied = 'assigned' | 'ended' | 'unchanged' | 'swept';

/** Resolves an access identity to its subscriber, creating the subscriber (id = the name) when none has it. */
export class SubscriberResolver {
  private readonly repo: DirectoryRepository;
  private readonly queue = new KeyedQueue();
  constructor(repo: DirectoryRepository) { this.repo = repo; }

  /** Existing subscriber for `access`, or null (no creation). */
  find(access: string): Promise<string | null> { return this.repo.resolveAccess(access); }

  resolveOrCreate(access: string, id: string): Promise<string> {
    return this.queue.run(access, async () => {
      const found = await this.repo.resolveAccess(access);
      if (found) return found;
      // The tier is left to the repository's default; an existing subscriber of that id keeps its other identities.
      const existing = await this.repo.subscriber(id);
      const s = await this.repo.putSubscriber({ id, access: existing ? [...existing.access, access] : [access] });
      return s.id;
    });
  }
}

export class AccountingApplier {
  private readonly repo: DirectoryRepository;
  private readonly subscribers: SubscriberResolver;
  private readonly sessions = new KeyedQueue();
  constructor(repo: DirectoryRepository, subscribers = new SubscriberResolver(repo)) {
    this.repo = repo;
    this.subscribers = subscribers;
  }

  /** Resolves once every write of the record has resolved (the RADIUS server answers only then). */
  apply(r: AccountingRecord): Promise<Applied> {
    if (r.status === 'on' || r.status === 'off') return this.sessions.run(`nas:${r.nas}`, () => this.sweepNas(r.nas, r.at));
    return this.sessions.run(sessionKey(r.nas, r.sessionId!), () => this.applySession(r));
  }

  private async applySession(r: AccountingRecord): Promise<Applied> {
    const user = r.user!;
    const base = sessionKey(r.nas, r.sessionId!);
    if (r.status === 'stop') {
      const subscriber = await this.subscribers.find(`radius:${user}`);
      const open = subscriber ? (await this.repo.currentOf(subscriber)).filter((a) => mine(a, base)) : [];
      for (const a of open) await this.repo.end({ source: 'radius', session: a.session }, Math.max(r.at, a.start)); // a NAS clock behind ours: bounded by the start
      if (open.length || !r.held.length || r.sessionTime === undefined) return open.length ? 'ended' : 'unchanged';
      // A Stop whose Start we never saw: the session's interval is known, record it closed (once: a detail file may be read again).
      if (subscriber && (await this.repo.history({ subscriber, limit: 100 })).some((a) => a.source === 'radius' && a.session?.startsWith(base))) return 'unchanged';
      const id = subscriber ?? await this.subscribers.resolveOrCreate(`radius:${user}`, user);
      for (const h of r.held) await this.repo.assign(this.input(id, r, h, r.at - r.sessionTime * 1000, r.at));
      return 'assigned';
    }
    const id = await this.subscribers.resolveOrCreate(`radius:${user}`, user);
    const open = new Map((await this.repo.currentOf(id)).filter((a) => mine(a, base)).map((a) => [a.session, a]));
    let changed = false;
    for (const h of r.held) {
      const key = sessionKey(r.nas, r.sessionId!, h);
      if (h.release) {
        if (open.has(key)) { await this.repo.end({ source: 'radius', session: key }, Math.max(r.at, open.get(key)!.start)); changed = true; }
        continue;
      }
      if (open.has(key)) continue; // already held since its Start: an Interim changes nothing
      const start = r.status === 'interim' && r.sessionTime !== undefined ? r.at - r.sessionTime * 1000 : r.at;
      await this.repo.assign(this.input(id, r, h, start, null));
      changed = true;
    }
    return changed ? 'assigned' : 'unchanged';
  }

  private input(subscriber: string, r: AccountingRecord, h: Held, start: number, end: number | null) {
    return { subscriber, prefix: h.prefix, portLo: h.portLo, portHi: h.portHi, start, end, source: 'radius' as const, session: sessionKey(r.nas, r.sessionId!, h) };
  }

  /** Accounting-On/Off: ends every open RADIUS assignment of the NAS (a walk over all subscribers: rare, a NAS restart). */
  private async sweepNas(nas: string, at: number): Promise<Applied> {
    const prefix = `${nas}|`;
    let after: string | undefined;
    for (;;) {
      const page = await this.repo.listSubscribers({ after, limit: 500 });
      if (!page.length) break;
      for (const s of page) {
        for (const a of await this.repo.currentOf(s.id)) {
          if (a.source === 'radius' && a.session?.startsWith(prefix)) await this.repo.end({ source: 'radius', session: a.session }, Math.max(at, a.start));
        }
      }
      after = page[page.length - 1].id;
    }
    return 'swept';
  }
}

function mine(a: Assignment, base: string): boolean {
  return a.source === 'radius' && a.end === null && a.session !== null && a.session.startsWith(base);
}

// The directory's in-memory index: every assignment still open, and those that
// ended after `floor` (the last `recentMs`, an hour by default). A lookup at a
// time at or after the floor needs only rows whose end is after that time, and
// every such row is here: rows are admitted when written or loaded unless they
// ended at or before the floor, and a sweep drops only rows that ended at or
// before the (raised) floor. So current-time lookups and currentOf never touch
// the database, and neither do lookups of the last hour (trace, fresh signals).
import type { Assignment } from './types.ts';

const portMatch = (a: Assignment, port: number | null | undefined): boolean =>
  port === undefined || port === null || a.portLo === null || (a.portLo <= port && port <= a.portHi!);

export const covers = (a: Assignment, at: number, port?: number | null): boolean =>
  a.start <= at && (a.end === null || at < a.end) && portMatch(a, port);

export class OpenIndex {
  /** Lookups at or after this time are answered here. Only rises. */
  floor: number;
  private readonly byId = new Map<number, Assignment>();
  private readonly byKey = new Map<string, Assignment[]>();
  private readonly bySubscriber = new Map<string, Map<number, Assignment>>();
  /** Ids of the entries with an end (the only ones a sweep may drop). */
  private readonly ended = new Set<number>();

  constructor(floor: number) {
    this.floor = floor;
  }

  get size(): number { return this.byId.size; }

  /** Inserts or replaces (by id) an assignment as it now is in the store. */
  put(a: Assignment): void {
    this.remove(a.id);
    if (a.end !== null && a.end <= this.floor) return;
    Object.freeze(a);
    this.byId.set(a.id, a);
    const list = this.byKey.get(a.prefix);
    if (list) list.push(a); else this.byKey.set(a.prefix, [a]);
    let subs = this.bySubscriber.get(a.subscriber);
    if (!subs) this.bySubscriber.set(a.subscriber, (subs = new Map()));
    subs.set(a.id, a);
    if (a.end !== null) this.ended.add(a.id);
  }

  remove(id: number): void {
    const a = this.byId.get(id);
    if (!a) return;
    this.byId.delete(id);
    this.ended.delete(id);
    const list = this.byKey.get(a.prefix)!;
    const i = list.indexOf(a);
    if (list.length === 1) this.byKey.delete(a.prefix); else { list[i] = list[list.length - 1]; list.pop(); }
    const subs = this.bySubscriber.get(a.subscriber)!;
    subs.delete(id);
    if (!subs.size) this.bySubscriber.delete(a.subscriber);
  }

  /** Raises the floor and drops what ended at or before it. */
  sweep(floor: number): number {
    if (floor <= this.floor) return 0;
    this.floor = floor;
    let n = 0;
    for (const id of this.ended) {
      const a = this.byId.get(id)!;
      if (a.end! <= floor) { this.remove(id); n++; }
    }
    return n;
  }

  /** Drops what prune deleted from the store. */
  pruned(before: number): void {
    for (const id of this.ended) if (this.byId.get(id)!.end! < before) this.remove(id);
  }

  holders(keys: readonly string[], at: number, port?: number | null): Assignment[] {
    const out: Assignment[] = [];
    for (const k of keys) {
      const list = this.byKey.get(k);
      if (list) for (const a of list) if (covers(a, at, port)) out.push(a);
    }
    return out;
  }

  get(id: number): Assignment | undefined { return this.byId.get(id); }

  currentOf(subscriber: string, now: number): Assignment[] {
    const subs = this.bySubscriber.get(subscriber);
    if (!subs) return [];
    return [...subs.values()].filter((a) => a.start <= now && (a.end === null || now < a.end));
  }
}

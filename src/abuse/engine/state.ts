// What the engine holds in memory per subscriber: the open case's score,
// the windows the rules read, the evidence rows of the current minute (to
// coalesce into), and what stops a rule from firing again (decisions in force,
// immune decisions, the last release per rule for grace; recurrences for
// escalation). Loaded from the store on a subscriber's first signal after a
// start, so a restart continues every case and window.
import type { Detail, SignalClass } from '../types.ts';
import { RuleBook, Windows } from './scoring.ts';
import type { CaseStore, DecisionRow, EvidenceRow } from './store.ts';

/** Signals of one class, origin and address within this long of a row's first one are that row. */
export const COALESCE_MS = 60_000;

export interface PendingRow extends EvidenceRow { sub: SubState | null; reason?: string }

export class SubState {
  readonly subscriber: string;
  caseId: number | null = null;
  /** The subscriber's previous case (a new case after it is 'reopened'). */
  previous: number | null = null;
  openedAt = 0;
  score = 0;
  scoreAt = 0;
  lastSignalAt: number | null = null;
  windows = new Windows();
  lastAt = new Map<SignalClass, number>();
  coalesce = new Map<string, PendingRow>();
  blocking: DecisionRow[] = [];
  recurrences = new Map<string, number>();
  lastEnd = new Map<string, number>();
  /** Rules fired in the batch being processed (decided after the pass). */
  fired: Array<{ rule: string; at: number; points: number }> = [];

  constructor(subscriber: string) { this.subscriber = subscriber; }

  /** Whether `rule` may fire at `now`: nothing of it in force or immune, and past its grace after the last release. */
  mayFire(rule: string, grace: number, now: number): boolean {
    for (const d of this.blocking) if (d.rule === rule) return false;
    for (const f of this.fired) if (f.rule === rule) return false;
    const end = this.lastEnd.get(rule);
    return end === undefined || now - end >= grace * 1000;
  }

  /** A restrictive action (not a notice) in force. */
  restricted(): boolean {
    return this.blocking.some((d) => d.action !== 'notify' && (d.state === 'pending' || d.state === 'active'));
  }
}

export const evidenceKey = (c: string, origin: string, address: string | null): string => `${c}\u0000${origin}\u0000${address ?? ''}`;

/** Reads a subscriber's state; windows are rebuilt from the evidence rows (each row's amount spread over its minute). */
export async function loadSub(store: CaseStore, book: RuleBook, subscriber: string, now: number): Promise<SubState> {
  const s = new SubState(subscriber);
  const open = await store.openCaseOf(subscriber);
  s.blocking = await store.blockingOf(subscriber, now);
  for (const h of await store.historyOf(subscriber)) {
    s.recurrences.set(h.rule, h.fired);
    if (h.lastEnd !== null) s.lastEnd.set(h.rule, h.lastEnd);
  }
  if (!open) {
    s.previous = await store.lastCaseOf(subscriber);
    return s;
  }
  s.caseId = open.id;
  s.previous = open.previous;
  s.openedAt = open.openedAt;
  s.score = open.score;
  s.scoreAt = open.scoreAt;
  s.lastSignalAt = open.lastSignalAt;
  s.lastAt = await store.lastAtByClass(open.id);
  const nowSec = Math.floor(now / 1000);
  for (const e of await store.evidenceOf(open.id, now - book.maxWindow * 1000 - COALESCE_MS, 100_000)) {
    rebuild(s.windows, book, e, nowSec);
    if (e.firstAt > now - COALESCE_MS) s.coalesce.set(evidenceKey(e.class, e.origin, e.address), { ...e, sub: s });
  }
  return s;
}

function rebuild(w: Windows, book: RuleBook, e: EvidenceRow, nowSec: number): void {
  const points = Math.max(1, Math.min(e.count, 60));
  const span = e.lastAt - e.firstAt;
  for (let i = 0; i < points; i++) {
    const at = points === 1 ? e.lastAt : e.firstAt + (span * i) / (points - 1);
    w.add(book, e.class, at, e.amount / points, nowSec);
  }
}

/** One signal into the coalesced row of its minute, or a new row. Returns the row and whether it is new. A big map is pruned by its owner (`prune` false). */
export function coalesceInto(map: Map<string, PendingRow>, key: string, make: () => PendingRow, at: number, amount: number,
  port: number | null, account: string | null, prune = true): { row: PendingRow; fresh: boolean } {
  const row = map.get(key);
  if (row && at >= row.firstAt && at < row.firstAt + COALESCE_MS) {
    row.amount += amount;
    row.count++;
    if (at > row.lastAt) row.lastAt = at;
    if (row.port !== port) row.port = null;
    if (row.account !== account) row.account = null;
    return { row, fresh: false };
  }
  const fresh = make();
  // A late signal (before the current row's minute) gets a row of its own; the current row stays the one to coalesce into.
  if (!row || at >= row.firstAt) {
    map.set(key, fresh);
    if (prune && map.size > 64) for (const [k, r] of map) if (r.firstAt + COALESCE_MS <= at) map.delete(k);
  }
  return { row: fresh, fresh: true };
}

export function copyDetail(d: Detail | undefined): Detail {
  const out: Detail = {};
  if (!d || typeof d !== 'object') return out;
  let n = 0;
  for (const [k, v] of Object.entries(d)) {
    if (++n > 32) break;
    if (v === null || typeof v === 'number' || typeof v === 'boolean') out[k.slice(0, 64)] = v;
    else if (typeof v === 'string') out[k.slice(0, 64)] = v.slice(0, 1024);
  }
  return out;
}

/** Drops rows no signal can coalesce into any more. */
export function pruneRows(map: Map<string, PendingRow>, now: number): void {
  for (const [k, r] of map) if (r.firstAt + COALESCE_MS <= now) map.delete(k);
}

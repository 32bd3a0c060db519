// Rows of the directory's tables as the contract's objects, and the SQL text
// both dialects share.
import type { Assignment, AssignmentSource, Subscriber } from './types.ts';

export interface AssignmentRow {
  id: number | bigint;
  subscriber: string;
  prefix: string;
  port_lo: number | null;
  port_hi: number | null;
  start_at: number | bigint;
  end_at: number | bigint | null;
  source: string;
  session: string | null;
}

export interface SubscriberRow { id: string; tier: string; contacts: string; created_at: number | bigint; updated_at: number | bigint }

export const ASSIGNMENT_COLUMNS = 'id, subscriber, prefix, port_lo, port_hi, start_at, end_at, source, session';

export function toAssignment(r: AssignmentRow): Assignment {
  return {
    id: Number(r.id), subscriber: r.subscriber, prefix: r.prefix,
    portLo: r.port_lo === null ? null : Number(r.port_lo), portHi: r.port_hi === null ? null : Number(r.port_hi),
    start: Number(r.start_at), end: r.end_at === null ? null : Number(r.end_at),
    source: r.source as AssignmentSource, session: r.session,
  };
}

export function toSubscriber(r: SubscriberRow, access: string[]): Subscriber {
  let contacts: string[] = [];
  try { const c = JSON.parse(r.contacts) as unknown; if (Array.isArray(c)) contacts = c.filter((x): x is string => typeof x === 'string'); } catch { /* a damaged row shows no contacts */ }
  return { id: r.id, tier: r.tier, contacts, access, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
}

/** `?, ?, ?` for n parameters. */
export const marks = (n: number): string => new Array<string>(n).fill('?').join(', ');

/** Newest first, then by id (two rows of one start keep a stable order). */
export const newestFirst = (a: Assignment, b: Assignment): number => b.start - a.start || b.id - a.id;

/** Port blocks overlap (a null block is the whole address). */
export const blocksOverlap = (a: { portLo: number | null; portHi: number | null }, b: { portLo: number | null; portHi: number | null }): boolean =>
  a.portLo === null || b.portLo === null || (a.portLo <= b.portHi! && b.portLo <= a.portHi!);

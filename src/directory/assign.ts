// A write of an assignment inside its transaction: an Interim folds into its
// open session; otherwise spans of one address and port block are kept
// disjoint (a moved lease ends the previous holder; a late replay is bounded by
// the later holder). Returns the rows as they now are, for the open index and
// the bus.
import type { Db } from '../store/index.ts';
import type { Assignment } from './types.ts';
import type { CheckedAssign } from './input.ts';
import { ASSIGNMENT_COLUMNS as COLS, blocksOverlap, toAssignment, type AssignmentRow } from './rows.ts';

export interface Changes { ended: Assignment[]; assigned: Assignment[]; rows: Assignment[] }

/** An Interim of the open session folds in; anything else open on the same address and port block is ended where the new one starts (a moved lease). */
export async function assignIn(tx: Db, c: CheckedAssign, lengths: { v4: Set<number>; v6: Set<number> }): Promise<{ out: Assignment; changes: Changes }> {
  const changes: Changes = { ended: [], assigned: [], rows: [] };
  const same = await openSame(tx, c);
  const rev = await nextRevision(tx);
  if (same && same.subscriber === c.subscriber && same.prefix === c.prefix.text && same.portLo === c.portLo && same.portHi === c.portHi) {
    const start = Math.min(same.start, c.start);
    const end = c.end ?? same.end;
    await tx.run('UPDATE directory_assignments SET start_at = ?, end_at = ?, rev = ? WHERE id = ?', [start, end, rev, same.id]);
    const out = { ...same, start, end };
    changes.rows.push(out);
    if (end !== null) changes.ended.push(out);
    return { out, changes };
  }
  // Spans of one address and port block never overlap: each holder holds until the next one's start.
  // Those that began earlier end where the new one starts (a moved lease; a closed one is corrected);
  // one that began later bounds the new one (a late replay of an older session).
  const overlapping = (await tx.all<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE prefix = ? AND start_at < ? AND (end_at IS NULL OR end_at > ?)`,
    [c.prefix.text, c.end ?? Number.MAX_SAFE_INTEGER, c.start])).map(toAssignment).filter((k) => blocksOverlap(k, c));
  if (same && !overlapping.some((k) => k.id === same.id)) overlapping.push(same);
  let end = c.end;
  for (const k of overlapping) if (k.start > c.start && (end === null || k.start < end)) end = k.start;
  for (const k of overlapping) {
    if (k.start > c.start) continue;
    await tx.run('UPDATE directory_assignments SET end_at = ?, rev = ? WHERE id = ?', [c.start, rev, k.id]);
    const ended = { ...k, end: c.start };
    changes.rows.push(ended);
    if (k.end === null) changes.ended.push(ended);
  }
  const r = await tx.get<{ id: number | bigint }>(
    'INSERT INTO directory_assignments (subscriber, prefix, family, plen, port_lo, port_hi, start_at, end_at, source, session, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
    [c.subscriber, c.prefix.text, c.prefix.v, c.prefix.len, c.portLo, c.portHi, c.start, end, c.source, c.session, rev]);
  if (!(c.prefix.v === 4 ? lengths.v4 : lengths.v6).has(c.prefix.len)) {
    await tx.run('INSERT INTO directory_prefix_lengths (family, plen) VALUES (?, ?) ON CONFLICT DO NOTHING', [c.prefix.v, c.prefix.len]);
  }
  const out: Assignment = { id: Number(r!.id), subscriber: c.subscriber, prefix: c.prefix.text, portLo: c.portLo, portHi: c.portHi, start: c.start, end, source: c.source, session: c.session };
  changes.rows.push(out);
  changes.assigned.push(out);
  if (end !== null) changes.ended.push(out);
  return { out, changes };
}

/** The open assignment this one continues: the same source and session, or (without a session) the same source, subscriber, prefix and block. */
async function openSame(tx: Db, c: CheckedAssign): Promise<Assignment | undefined> {
  const r = c.session !== null
    ? await tx.get<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE source = ? AND session = ? AND end_at IS NULL ORDER BY start_at DESC LIMIT 1`, [c.source, c.session])
    : await tx.get<AssignmentRow>(`SELECT ${COLS} FROM directory_assignments WHERE prefix = ? AND end_at IS NULL AND source = ? AND session IS NULL AND subscriber = ?
        AND COALESCE(port_lo, -1) = ? AND COALESCE(port_hi, -1) = ? LIMIT 1`, [c.prefix.text, c.source, c.subscriber, c.portLo ?? -1, c.portHi ?? -1]);
  return r ? toAssignment(r) : undefined;
}


/** The counter row stays locked until the commit, so revisions follow commit order on both stores. */
export async function nextRevision(tx: Db): Promise<number> {
  return Number((await tx.get<{ rev: number }>('UPDATE directory_revision SET rev = rev + 1 WHERE id = 1 RETURNING rev'))!.rev);
}


// Operator actions on the queue (postqueue/postsuper's jobs): select messages
// by id, account or sender; list, show, hold, release, delete, requeue. Used by
// the control socket of the running server and, later, the admin API.
// Reading has no side effects (a damaged file is reported, not moved), so a
// tool may list a spool it does not own; the changing actions belong to the
// process that owns the spool, which also runs the relay beside them: a file
// may move under an action, so each one looks up the state again and retries.
import { join } from 'node:path';
import { bodyStream, scanQueueFile } from './format.ts';
import { QUEUE_ID_RE } from './id.ts';
import type { Spool } from './spool.ts';
import type { Envelope, QueueState, RecipientState } from './types.ts';
import { QUEUE_STATES } from './types.ts';

/** Which messages an action applies to: explicit ids, or ALL, narrowed by account and/or sender. */
export interface QueueSelector {
  ids?: string[];
  all?: boolean;
  account?: string;
  /** Envelope sender; '' or '<>' is the null sender. */
  sender?: string;
}

export interface QueueEntry {
  id: string;
  state: QueueState;
  /** Body bytes as they will be relayed. */
  size: number;
  /** Acceptance time, ms since the epoch. */
  arrival: number;
  sender: string;
  account?: string;
  recipients: Array<{ address: string; state: RecipientState; reply?: string }>;
  attempts: number;
  nextAttemptAt?: number;
  lastReply?: string;
  holdReason?: string;
  /** Set when the file fails its checks; the other fields are then partly unknown. */
  damaged?: string;
}

export interface QueueActionResult {
  done: string[];
  skipped: Array<{ id: string; reason: string }>;
  missing: string[];
  failed: Array<{ id: string; error: string }>;
}

/** Why a selector selects nothing on purpose, or null when it is usable. */
export function selectorProblem(sel: QueueSelector): string | null {
  const ids = sel.ids ?? [];
  if (ids.length && sel.all) return 'give queue ids or ALL, not both';
  if (ids.length && (sel.account !== undefined || sel.sender !== undefined)) return 'give queue ids or --account/--sender, not both';
  if (!ids.length && !sel.all && sel.account === undefined && sel.sender === undefined) return 'give queue ids, ALL, --account or --sender';
  const bad = ids.find((id) => !QUEUE_ID_RE.test(id));
  if (bad !== undefined) return `not a queue id: ${JSON.stringify(bad.slice(0, 40))}`;
  return null;
}

type Peeked =
  | { state: QueueState; envelope: Envelope; bodyLength: number }
  | { state: QueueState; damaged: string };

const isEnoent = (err: unknown): boolean => (err as { code?: string } | null)?.code === 'ENOENT';

/** Reads one file where the index says it is; null once it is gone. */
async function peek(spool: Spool, id: string): Promise<Peeked | null> {
  for (let i = 0; i < 3; i++) {
    const state = spool.stateOf(id);
    if (!state) return null;
    try {
      const r = await scanQueueFile(join(spool.dir, state, id));
      return r.ok ? { state, envelope: r.envelope, bodyLength: r.bodyLength } : { state, damaged: r.reason };
    } catch (err) {
      if (!isEnoent(err)) return { state, damaged: `unreadable: ${(err as Error).message}` };
      // moved by the relay between the lookup and the open: look again
    }
  }
  return null;
}

/** Acceptance time from the id (its first 10 characters are milliseconds in base32). */
function idTime(id: string): number {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + alphabet.indexOf(c);
  return t;
}

function toEntry(id: string, p: Peeked): QueueEntry {
  if ('damaged' in p) return { id, state: p.state, size: 0, arrival: idTime(id), sender: '', recipients: [], attempts: 0, damaged: p.damaged };
  const e = p.envelope;
  return {
    id,
    state: p.state,
    size: p.bodyLength,
    arrival: e.receivedAt,
    sender: e.mailFrom.address,
    account: e.account,
    recipients: e.recipients.map((r) => ({ address: r.address, state: r.state, ...(r.reply !== undefined ? { reply: r.reply } : {}) })),
    attempts: e.attempts,
    ...(e.nextAttemptAt !== undefined ? { nextAttemptAt: e.nextAttemptAt } : {}),
    ...(e.lastReply !== undefined ? { lastReply: e.lastReply } : {}),
    ...(e.holdReason !== undefined ? { holdReason: e.holdReason } : {}),
  };
}

const normSender = (s: string): string => (s === '<>' ? '' : s.replace(/^<(.*)>$/, '$1').toLowerCase());

function matches(p: Peeked, sel: QueueSelector): boolean {
  if ('damaged' in p) return false; // cannot tell whose it is
  if (sel.account !== undefined && (p.envelope.account ?? '').toLowerCase() !== sel.account.toLowerCase()) return false;
  if (sel.sender !== undefined && p.envelope.mailFrom.address.toLowerCase() !== normSender(sel.sender)) return false;
  return true;
}

/**
 * Ids the selector names among `states`, oldest first. Explicit ids are
 * returned whatever their state (the action decides), unknown ones in missing.
 */
async function select(spool: Spool, sel: QueueSelector, states: readonly QueueState[]): Promise<{ ids: string[]; missing: string[] }> {
  if (selectorProblem(sel)) return { ids: [], missing: [] };
  if (sel.ids?.length) {
    const ids = [...new Set(sel.ids)];
    return { ids: ids.filter((id) => spool.stateOf(id)), missing: ids.filter((id) => !spool.stateOf(id)) };
  }
  const candidates = states.flatMap((s) => spool.list(s)).sort();
  if (sel.account === undefined && sel.sender === undefined) return { ids: candidates, missing: [] };
  const picked = new Set<string>();
  await mapLimit(candidates, 16, async (id) => {
    const p = await peek(spool, id);
    if (p && matches(p, sel)) picked.add(id);
  });
  return { ids: candidates.filter((id) => picked.has(id)), missing: [] };
}

/** Applies `act` to each id; `act` returns a reason to skip, or null when done. */
async function each(spool: Spool, sel: QueueSelector, states: readonly QueueState[],
  act: (id: string, state: QueueState) => Promise<string | null>): Promise<QueueActionResult> {
  const { ids, missing } = await select(spool, sel, states);
  const res: QueueActionResult = { done: [], skipped: [], missing, failed: [] };
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      const state = spool.stateOf(id);
      if (!state) { res.missing.push(id); break; }
      try {
        const skip = await act(id, state);
        if (skip) res.skipped.push({ id, reason: skip }); else res.done.push(id);
        break;
      } catch (err) {
        if (isEnoent(err) && attempt < 2) continue; // the relay moved it meanwhile
        res.failed.push({ id, error: String((err as Error).message ?? err) });
        break;
      }
    }
  }
  return res;
}

/** Every message (or those in `states`), oldest first. */
export async function listQueue(spool: Spool, states: readonly QueueState[] = QUEUE_STATES): Promise<QueueEntry[]> {
  const ids = states.flatMap((s) => spool.list(s)).sort();
  const out = new Map<string, QueueEntry>();
  await mapLimit(ids, 16, async (id) => {
    const p = await peek(spool, id);
    if (p) out.set(id, toEntry(id, p));
  });
  return ids.flatMap((id) => out.get(id) ?? []);
}

/** One message with the header section of its body (up to maxHeaderBytes); null when unknown. */
export async function showMessage(spool: Spool, id: string, maxHeaderBytes = 64 * 1024): Promise<{ entry: QueueEntry; headers: string } | null> {
  if (!QUEUE_ID_RE.test(id)) return null;
  const p = await peek(spool, id);
  if (!p) return null;
  if ('damaged' in p) return { entry: toEntry(id, p), headers: '' };
  let head = Buffer.alloc(0);
  const body = bodyStream(join(spool.dir, p.state, id));
  try {
    for await (const chunk of body) {
      head = Buffer.concat([head, chunk as Buffer]);
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) { head = head.subarray(0, end + 2); break; }
      if (head.length >= maxHeaderBytes) { head = head.subarray(0, maxHeaderBytes); break; }
    }
  } catch {
    // moved or damaged while reading: show what was read
  } finally {
    body.destroy();
  }
  return { entry: toEntry(id, p), headers: head.toString('utf8') };
}

/** Quarantine until released; by selector, from active and deferred. */
export function holdMessages(spool: Spool, sel: QueueSelector, reason = 'held by operator'): Promise<QueueActionResult> {
  return each(spool, sel, ['active', 'deferred'], async (id, state) => {
    if (state === 'hold') return 'already held';
    if (state === 'corrupt') return 'damaged';
    await spool.hold(id, reason);
    return null;
  });
}

/** Back to delivery now; by selector, from hold. */
export function releaseMessages(spool: Spool, sel: QueueSelector): Promise<QueueActionResult> {
  return each(spool, sel, ['hold'], async (id, state) => {
    if (state !== 'hold') return 'not held';
    await spool.release(id);
    return null;
  });
}

/**
 * Removes for good. ALL reaches every state including corrupt/ (postsuper -d
 * ALL); account and sender only what can be read: active, deferred, hold.
 */
export function deleteMessages(spool: Spool, sel: QueueSelector): Promise<QueueActionResult> {
  const states: readonly QueueState[] = sel.account === undefined && sel.sender === undefined ? QUEUE_STATES : ['active', 'deferred', 'hold'];
  return each(spool, sel, states, async (id) => {
    await spool.delete(id);
    return null;
  });
}

/**
 * Deferred messages start their retry schedule over and go to delivery now.
 * Held ones are left alone (release is the explicit way out of quarantine),
 * active ones are being delivered already.
 */
export function requeueMessages(spool: Spool, sel: QueueSelector, now: number): Promise<QueueActionResult> {
  return each(spool, sel, ['deferred'], async (id, state) => {
    if (state !== 'deferred') return state === 'hold' ? 'held (use release)' : state;
    await spool.record(id, [{ t: 'requeue', at: now }]);
    await spool.release(id);
    return null;
  });
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

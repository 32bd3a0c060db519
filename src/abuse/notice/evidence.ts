// Evidence in words a subscriber understands: one line per signal class, made
// from the class and the summed amounts, never from a raw report. The few
// values taken from the evidence's detail (an ARF feedback type, a DNSBL zone)
// are outside text: they pass visible() and a length cap here, and whoever
// renders the line (HTML page, mail body) encodes it again for its medium.
import { visible } from '../../core/index.ts';
import type { Evidence, SignalClass } from '../types.ts';

/** What the lines are made from: the evidence rows of a case (or anything shaped like them). */
export type EvidenceLike = Pick<Evidence, 'class' | 'amount' | 'count' | 'firstAt' | 'lastAt' | 'detail'>;

interface Sum { amount: number; count: number; first: number; last: number; details: Array<EvidenceLike['detail']> }

const n = (x: number, one: string, many: string): string => `${x} ${x === 1 ? one : many}`;

/** Outside text from a detail field: visible, single-line, at most 60 characters. */
function outside(v: unknown): string | null {
  if (typeof v !== 'string' || !v.trim()) return null;
  const t = visible(v.replace(/\s+/g, ' ').trim());
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function distinct(details: Sum['details'], field: string): string[] {
  const out = new Set<string>();
  for (const d of details) {
    const v = outside(d[field]);
    if (v) out.add(v);
    if (out.size >= 3) break;
  }
  return [...out];
}

const WORDS: Record<SignalClass, (s: Sum) => string> = {
  'edge-destinations': (s) => `Your connection tried to send mail directly to ${n(s.amount, 'outside mail server', 'outside mail servers')} on port 25.`,
  'edge-blocked': (s) => `Our network stopped ${n(s.amount, 'attempt', 'attempts')} from your connection to send mail directly to outside mail servers (port 25). Ordinary mail programs do not do this; a program hidden on a device usually does.`,
  'auth-failure': (s) => `Our mail service refused ${n(s.amount, 'attempt', 'attempts')} from your connection to use it with wrong account details.`,
  'auth-lockout': (s) => `Our mail service had to stop accepting attempts from your connection ${n(s.count, 'time', 'times')} after too many wrong account details.`,
  'limit-hit': (s) => `Mail sent through your account or connection went over our sending limits ${n(s.amount, 'time', 'times')}.`,
  'flood': (s) => `Mail from your account or connection arrived in a sudden flood ${n(s.count, 'time', 'times')}, far more than a person writes.`,
  'report': (s) => {
    const kinds = distinct(s.details, 'feedbackType');
    return `${n(s.amount, 'complaint', 'complaints')} from outside about mail from your connection reached us${kinds.length ? ` (reported as: ${kinds.join(', ')})` : ''}.`;
  },
  'dnsbl': (s) => {
    const zones = distinct(s.details, 'zone');
    return `Your connection's address is on a public list of addresses that send unwanted mail${zones.length ? ` (${zones.join(', ')})` : ''}.`;
  },
};

const ORDER: SignalClass[] = ['edge-destinations', 'edge-blocked', 'report', 'flood', 'limit-hit', 'auth-failure', 'auth-lockout', 'dnsbl'];

/** One plain-words line per class seen, strongest signals first, each with when it was seen. */
export function evidenceLines(rows: readonly EvidenceLike[]): string[] {
  const sums = new Map<SignalClass, Sum>();
  for (const r of rows) {
    if (!(r.class in WORDS)) continue;
    const s = sums.get(r.class) ?? { amount: 0, count: 0, first: Infinity, last: -Infinity, details: [] };
    s.amount += Number.isFinite(r.amount) && r.amount > 0 ? r.amount : 0;
    s.count += Number.isFinite(r.count) && r.count > 0 ? r.count : 1;
    s.first = Math.min(s.first, r.firstAt);
    s.last = Math.max(s.last, r.lastAt);
    if (s.details.length < 50) s.details.push(r.detail ?? {});
    sums.set(r.class, s);
  }
  const out: string[] = [];
  for (const c of ORDER) {
    const s = sums.get(c);
    if (!s) continue;
    out.push(`${WORDS[c](s)} ${when(s.first, s.last)}`);
  }
  return out;
}

function when(first: number, last: number): string {
  if (!Number.isFinite(first) || !Number.isFinite(last)) return '';
  const a = plainTime(first);
  const b = plainTime(last);
  return a === b ? `(seen ${a})` : `(seen between ${a} and ${b})`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2 December 2026, 14:05 UTC": unambiguous in any locale, and the same in mail and on the page. */
export function plainTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'an unknown time';
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

// What the directory accepts, checked before anything is written: a refused
// input changes nothing and says which field and why. The codes are the app's
// catalogue codes (src/app/errors.ts), so the operations pass them on as they are.
import { ASSIGNMENT_SOURCES, type AssignInput, type AssignmentSource } from './types.ts';
import { canonicalPrefix, type CanonicalPrefix } from './prefix.ts';

export type DirectoryErrorCode = 'invalid-prefix' | 'invalid-value' | 'conflict';

export class DirectoryError extends Error {
  readonly code: DirectoryErrorCode;
  constructor(code: DirectoryErrorCode, message: string) {
    super(message);
    this.name = 'DirectoryError';
    this.code = code;
  }
}

const bad = (message: string): never => { throw new DirectoryError('invalid-value', message); };
// Control characters and the line separators: an id ends up in log lines and terminals.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Trimmed, lower-cased; the one normalisation of a subscriber id. */
export function subscriberId(id: unknown): string {
  if (typeof id !== 'string') return bad('subscriber: a string is required');
  const s = id.trim().toLowerCase();
  if (!s || s.length > 256 || CONTROL.test(s)) return bad('subscriber: 1..256 characters, no control characters');
  return s;
}

export function tierName(t: unknown): string {
  if (typeof t !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(t.trim())) return bad('tier: 1..64 letters, digits, ".", "_" or "-"');
  return t.trim();
}

/** A contact is where a notice goes: one RFC 5321 mailbox (local@domain), kept as given. */
export function contactList(c: unknown): string[] {
  if (!Array.isArray(c) || c.length > 16) return bad('contacts: a list of at most 16 mailboxes');
  const out = c.map((x) => {
    const s = typeof x === 'string' ? x.trim() : '';
    if (s.length > 254 || !/^[^\s@<>()",;\\]+@[A-Za-z0-9.-]+$/.test(s) || CONTROL.test(s)) bad(`contacts: ${JSON.stringify(x)} is not a mailbox (local@domain)`);
    return s;
  });
  return [...new Set(out)];
}

/** "kind:value" (radius:alice, hw:aa:bb:…, duid:…, client-id:…); lower-cased so every source and the API meet. */
export function accessId(a: unknown): string {
  const s = typeof a === 'string' ? a.trim().toLowerCase() : '';
  if (!/^[a-z][a-z0-9-]{0,15}:./.test(s) || s.length > 300 || CONTROL.test(s)) return bad(`access: ${JSON.stringify(a)} is not "kind:value" (radius:alice, hw:aa:bb:cc:dd:ee:ff, duid:…)`);
  return s;
}

export function accessList(a: unknown): string[] {
  if (!Array.isArray(a) || a.length > 64) return bad('access: a list of at most 64 identities');
  return [...new Set(a.map(accessId))].sort();
}

export function time(name: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return bad(`${name}: milliseconds since the epoch (a non-negative integer)`);
  return t;
}

export function prefix(p: unknown): CanonicalPrefix {
  const c = typeof p === 'string' ? canonicalPrefix(p) : null;
  if (!c) throw new DirectoryError('invalid-prefix', `prefix: ${JSON.stringify(p)} is not an address or prefix`);
  return c;
}

export function port(name: string, p: unknown): number {
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) return bad(`${name}: a port 0..65535`);
  return p;
}

export function source(s: unknown): AssignmentSource {
  if (!(ASSIGNMENT_SOURCES as readonly unknown[]).includes(s)) return bad(`source: one of ${ASSIGNMENT_SOURCES.join(', ')}`);
  return s as AssignmentSource;
}

export function session(s: unknown): string | null {
  if (s === undefined || s === null) return null;
  if (typeof s !== 'string' || !s || s.length > 256) return bad('session: 1..256 characters');
  return s;
}

export interface CheckedAssign {
  subscriber: string;
  prefix: CanonicalPrefix;
  portLo: number | null;
  portHi: number | null;
  start: number;
  end: number | null;
  source: AssignmentSource;
  session: string | null;
}

export function assignInput(a: AssignInput): CheckedAssign {
  const lo = a.portLo ?? null;
  const hi = a.portHi ?? null;
  if ((lo === null) !== (hi === null)) bad('portLo and portHi: both or neither');
  if (lo !== null && port('portLo', lo) > port('portHi', hi)) bad(`port block ${lo}-${hi}: portLo is above portHi`);
  const start = time('start', a.start);
  const end = a.end === undefined || a.end === null ? null : time('end', a.end);
  if (end !== null && end < start) bad(`end ${end} is before start ${start}`);
  const p = prefix(a.prefix);
  if (lo !== null && p.len !== (p.v === 4 ? 32 : 128)) bad(`a port block belongs to one address, not to the prefix ${p.text}`);
  return { subscriber: subscriberId(a.subscriber), prefix: p, portLo: lo, portHi: hi, start, end, source: source(a.source), session: session(a.session) };
}

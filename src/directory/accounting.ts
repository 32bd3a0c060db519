// One accounting record, whichever way it came (a RADIUS packet to our server,
// a record of a FreeRADIUS detail file): the fields we read, and the checked
// record they make. Both sources fill `AccountingFields`; `toRecord` alone
// decides what a record means, so the two cannot drift apart.
import { canonicalPrefix } from './prefix.ts';
import { STATUS } from './radius-codec.ts';

export interface PortBlock { address: string; lo: number; hi: number; release: boolean }

/** What a source read, unchecked (strings as received, numbers as decoded). */
export interface AccountingFields {
  status?: number;
  userName?: string;
  sessionId?: string;
  nasIp?: string;
  nasId?: string;
  /** Framed-IP-Address, Framed-IPv6-Address, Framed-IPv6-Prefix, Delegated-IPv6-Prefix: address or prefix text. */
  addresses: string[];
  portBlocks: PortBlock[];
  /** Seconds since the epoch (Event-Timestamp). */
  eventTimestamp?: number;
  /** Seconds (Acct-Delay-Time). */
  delay?: number;
  /** Seconds (Acct-Session-Time): how long the session had lasted at this record. */
  sessionTime?: number;
}

export type Status = 'start' | 'stop' | 'interim' | 'on' | 'off';
const STATUS_NAMES: Record<number, Status> = { [STATUS.start]: 'start', [STATUS.stop]: 'stop', [STATUS.interim]: 'interim', [STATUS.on]: 'on', [STATUS.off]: 'off' };

export interface Held { prefix: string; portLo: number | null; portHi: number | null; release: boolean }

export interface AccountingRecord {
  status: Status;
  /** The NAS as named in the session key: NAS-Identifier, else NAS-IP-Address, else the packet's source. */
  nas: string;
  /** Normalised (trimmed, lower-cased); absent for Accounting-On/Off. */
  user?: string;
  sessionId?: string;
  held: Held[];
  /** When it happened (ms): Event-Timestamp, else arrival − Acct-Delay-Time. */
  at: number;
  sessionTime?: number;
}

/** Why a record was refused; each is counted. */
/** 'invalid': the directory refused the write (DirectoryError), e.g. a Stop timed before its session's start could not be bounded. */
export type Refusal = 'status' | 'user-name' | 'session-id' | 'nas' | 'address' | 'time' | 'invalid';

/** The key an assignment of this session and address is stored under: the NAS, the session, then what is held. */
export function sessionKey(nas: string, sessionId: string, h?: Held): string {
  const base = `${nas}|${sessionId}|`;
  if (!h) return base;
  return h.portLo === null ? `${base}${h.prefix}` : `${base}${h.prefix}:${h.portLo}-${h.portHi}`;
}

// As the repository refuses them (input.ts): an id ends up in log lines and terminals.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function normaliseUser(name: string): string | null {
  const s = name.trim().toLowerCase();
  return s && !CONTROL.test(s) && s.length <= 253 ? s : null;
}

/** A text field fit for a session key (the repository keeps at most 256 characters): no control characters, not empty, not too long. */
function keyText(s: string | undefined, max: number): string | null {
  if (s === undefined) return null;
  const t = s.trim();
  return t && t.length <= max && !CONTROL.test(t) && !t.includes('|') ? t : null;
}

export function toRecord(f: AccountingFields, arrival: number, fallbackNas: string): AccountingRecord | Refusal {
  const status = f.status === undefined ? undefined : STATUS_NAMES[f.status];
  if (!status) return 'status';
  const nas = keyText(f.nasId, 64) ?? keyText(f.nasIp, 64) ?? keyText(fallbackNas, 64);
  if (!nas) return 'nas';
  let at = f.eventTimestamp !== undefined && f.eventTimestamp > 0 ? f.eventTimestamp * 1000 : arrival - (f.delay ?? 0) * 1000;
  if (!Number.isFinite(at) || at <= 0) return 'time';
  at = Math.trunc(at);
  if (status === 'on' || status === 'off') return { status, nas, held: [], at };
  const user = f.userName === undefined ? null : normaliseUser(f.userName);
  if (!user) return 'user-name';
  const sessionId = keyText(f.sessionId, 128);
  if (!sessionId) return 'session-id';
  const held: Held[] = [];
  for (const a of f.addresses) {
    const p = canonicalPrefix(a);
    if (!p) return 'address';
    held.push({ prefix: p.text, portLo: null, portHi: null, release: false });
  }
  for (const b of f.portBlocks) {
    const p = canonicalPrefix(b.address);
    if (!p || p.v !== 4 || p.len !== 32 || !(b.lo >= 0 && b.lo <= b.hi && b.hi <= 65535)) return 'address';
    held.push({ prefix: p.text, portLo: b.lo, portHi: b.hi, release: b.release });
  }
  return { status, nas, user, sessionId, held, at, ...(f.sessionTime !== undefined ? { sessionTime: f.sessionTime } : {}) };
}

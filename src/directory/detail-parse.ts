// One record of a FreeRADIUS detail file (rlm_detail, radacct): the header line
// (the `header` setting, "%t" by default: "Wed Dec  2 13:20:00 2026"), then one
// "\tName = value" line per attribute, with "\tTimestamp = SECONDS" (when the
// server received it) last. Strings are double-quoted with \\ \" \n \r \t and
// \ooo (an octet in octal) escapes; dates (Event-Timestamp) are printed as
// "Dec  2 2026 13:20:00 UTC" or as an integer. The record becomes the same
// AccountingFields a RADIUS packet does.
import type { AccountingFields } from './accounting.ts';
import { STATUS } from './radius-codec.ts';
import { nokiaRange } from './radius-fields.ts';

const STATUS_BY_NAME: Record<string, number> = {
  'start': STATUS.start, 'stop': STATUS.stop, 'interim-update': STATUS.interim, 'alive': STATUS.interim,
  'accounting-on': STATUS.on, 'accounting-off': STATUS.off,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value as written: a quoted string unescaped (null when the quoting is broken), else the bare text. */
export function detailValue(raw: string): string | null {
  const s = raw.trim();
  if (!s.startsWith('"')) return s;
  const bytes: number[] = [];
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      if (s.slice(i + 1).trim()) return null;
      try { return utf8.decode(Uint8Array.from(bytes)); } catch { return null; }
    }
    if (c !== '\\') { for (const b of Buffer.from(c, 'utf8')) bytes.push(b); continue; }
    const n = s[++i];
    if (n === undefined) return null;
    if (/[0-7]/.test(n) && /^[0-7]{3}$/.test(s.slice(i, i + 3))) { bytes.push(parseInt(s.slice(i, i + 3), 8) & 0xff); i += 2; continue; }
    bytes.push((({ n: 10, r: 13, t: 9 }) as Record<string, number>)[n] ?? n.charCodeAt(0));
  }
  return null;
}

export interface DetailRecord { header: string; attrs: Map<string, string[]> }

export function parseDetailRecord(text: string): DetailRecord | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (!lines.length || /^\s/.test(lines[0])) return null;
  const attrs = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const m = /^\s+([A-Za-z0-9][A-Za-z0-9.:_-]*)\s*[:+]?=\s*(.*)$/.exec(l);
    if (!m) return null;
    const v = detailValue(m[2]);
    if (v === null) return null;
    const list = attrs.get(m[1]);
    if (list) list.push(v); else attrs.set(m[1], [v]);
  }
  return { header: lines[0].trim(), attrs };
}

function int(s: string | undefined): number | undefined {
  return s !== undefined && /^\d{1,10}$/.test(s) ? Number(s) : undefined;
}

/** Seconds: an integer, or the printed date when it parses with its zone. */
function date(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = int(s);
  if (n !== undefined) return n;
  const t = Date.parse(s);
  return Number.isFinite(t) && /\b(UTC|GMT|[+-]\d{4})\b/.test(s) ? Math.trunc(t / 1000) : undefined;
}

export interface DetailFields { fields: AccountingFields; arrival?: number; source?: string }

export function detailFields(r: DetailRecord): DetailFields | 'malformed' {
  const one = (k: string): string | undefined => r.attrs.get(k)?.[0];
  const all = (k: string): string[] => r.attrs.get(k) ?? [];
  const st = one('Acct-Status-Type');
  const f: AccountingFields = {
    status: st === undefined ? undefined : (STATUS_BY_NAME[st.toLowerCase()] ?? int(st)),
    userName: one('User-Name'), sessionId: one('Acct-Session-Id'),
    nasIp: one('NAS-IP-Address') ?? one('NAS-IPv6-Address'), nasId: one('NAS-Identifier'),
    addresses: [...all('Framed-IP-Address').filter((a) => !['255.255.255.255', '255.255.255.254', '0.0.0.0'].includes(a)),
      ...all('Framed-IPv6-Address'), ...all('Framed-IPv6-Prefix'), ...all('Delegated-IPv6-Prefix')],
    portBlocks: [],
    eventTimestamp: date(one('Event-Timestamp')), delay: int(one('Acct-Delay-Time')), sessionTime: int(one('Acct-Session-Time')),
  };
  for (const v of all('Alc-Nat-Port-Range')) {
    const b = nokiaRange(v);
    if (!b) return 'malformed';
    f.portBlocks.push(b);
  }
  const hw = { a: one('Huawei-NAT-Public-Address'), lo: int(one('Huawei-NAT-Start-Port')), hi: int(one('Huawei-NAT-End-Port')) };
  if (hw.a && hw.lo !== undefined && hw.hi !== undefined) f.portBlocks.push({ address: hw.a, lo: hw.lo, hi: hw.hi, release: false });
  const ext = one('IP-Port-Range-Ext-IPv4-Addr'), lo = int(one('IP-Port-Range-Range-Start')), hi = int(one('IP-Port-Range-Range-End'));
  if (ext && lo !== undefined && hi !== undefined) f.portBlocks.push({ address: ext, lo, hi, release: /^(2|deallocation)$/i.test(one('IP-Port-Range-Alloc') ?? '') });
  const ts = int(one('Timestamp'));
  const header = Date.parse(r.header); // ctime in the server's local time
  const arrival = ts !== undefined ? ts * 1000 : Number.isFinite(header) ? header : undefined;
  return { fields: f, arrival, source: one('Packet-Src-IP-Address') ?? one('Packet-Src-IPv6-Address') ?? one('Client-IP-Address') };
}

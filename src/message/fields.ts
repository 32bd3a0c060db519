// Pure helpers for single header fields: Message-ID and Date syntax (RFC 5322
// §3.6.4, §3.3 with the obsolete forms of §4.3 that we MUST accept), the
// RFC 5322 date we generate, and folding (RFC 5322 §2.2.3, §2.1.1).
// Header text is handled as latin1 strings: one char per octet, so lengths
// are octet counts and UTF-8 (RFC 6532) passes through byte for byte.
import { randomBytes } from 'node:crypto';

/**
 * One non-ASCII code point a reader will show: a letter, mark, number,
 * punctuation or symbol (no controls, format characters, separators, private
 * use, unassigned). What the originator reader (address.ts) accepts as
 * UTF8-non-ascii and what generated.ts keeps in SMTPUTF8 mail.
 */
export const VISIBLE_NON_ASCII = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

// atext plus any octet >= 0x80 (RFC 6532 §3.2 UTF8-non-ascii, seen here as latin1).
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\u00ff]";
const DOT_ATOM = `${ATEXT}+(?:\\.${ATEXT}+)*`;
// obs-id-left allows a quoted local-part; some old MUAs still send it.
const QUOTED = '"(?:[^"\\\\\\r\\n]|\\\\.)*"';
const LITERAL = '\\[[\\x21-\\x5a\\x5e-\\x7e\\u0080-\\u00ff]*\\]';
const MSG_ID_RE = new RegExp(`^<(?:${DOT_ATOM}|${QUOTED})@(?:${DOT_ATOM}|${LITERAL})>$`);

/** String.trim() would also eat latin1 0xA0, which is half of many UTF-8 characters. */
export const trimWsp = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** Drops comments (one nesting level is enough for real dates and ids) and folding. */
function stripCfws(value: string): string {
  let v = value.replace(/\r\n/g, '');
  for (let i = 0; i < 2 && v.includes('('); i++) v = v.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  return trimWsp(v.replace(/[ \t]+/g, ' '));
}

export function isValidMessageId(value: string): boolean {
  const v = stripCfws(value);
  return v.length <= 996 && MSG_ID_RE.test(v);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// obs-zone (RFC 5322 §4.3): UT, GMT, the US zones and military letters (J excluded).
const OBS_ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, edt: -240, est: -300, cdt: -300, cst: -360, mdt: -360, mst: -420, pdt: -420, pst: -480,
};
const DATE_RE =
  /^(?:(mon|tue|wed|thu|fri|sat|sun) ?, ?)?(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) (\d{2,}) (\d{2}) ?: ?(\d{2})(?: ?: ?(\d{2}))? ?([+-]\d{4}|[a-ik-z]|ut|gmt|[ecmp][sd]t)$/i;

/**
 * Parses an RFC 5322 date-time (obsolete syntax included) to epoch ms, or
 * returns null. Syntax only: a wrong day-of-week is not our business.
 */
export function parseRfc5322Date(value: string): number | null {
  const m = DATE_RE.exec(stripCfws(value));
  if (!m) return null;
  const day = Number(m[2]);
  const month = MONTHS.indexOf(m[3].toLowerCase());
  let year = Number(m[4]);
  // RFC 5322 §4.3: two-digit years 00-49 are 20xx, 50-99 19xx; three digits add 1900.
  if (m[4].length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[4].length === 3) year += 1900;
  else if (year < 1900) return null;
  const hour = Number(m[5]), minute = Number(m[6]), second = m[7] === undefined ? 0 : Number(m[7]);
  if (hour > 23 || minute > 59 || second > 60) return null;
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return null;
  const zone = m[8];
  let offset: number;
  if (zone[0] === '+' || zone[0] === '-') {
    const hh = Number(zone.slice(1, 3)), mm = Number(zone.slice(3, 5));
    if (mm > 59) return null;
    offset = (zone[0] === '-' ? -1 : 1) * (hh * 60 + mm);
  } else {
    // Military zones other than Z carry no reliable meaning (RFC 5322 §4.3): treat as -0000.
    offset = OBS_ZONES[zone.toLowerCase()] ?? 0;
  }
  return Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date-time in UTC, e.g. "Thu, 01 Jan 2026 00:00:00 +0000". */
export function formatRfc5322Date(ms: number): string {
  const d = new Date(ms);
  const mon = MONTHS[d.getUTCMonth()];
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${mon[0].toUpperCase()}${mon.slice(1)} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** A new msg-id: time, the queue id (for tracing) and 64 random bits, right side our FQDN. */
export function makeMessageId(hostname: string, queueId: string, now: number): string {
  const qid = queueId.replace(/[^A-Za-z0-9]/g, '');
  const left = [now.toString(36), qid, randomBytes(8).toString('hex')].filter(Boolean).join('.');
  return `<${left}@${hostname}>`;
}

const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Folds one physical header line (no CRLF) by inserting CRLF before
 * whitespace: pieces stay within `soft` octets where a fold point allows it
 * and never exceed `hard`. `minFirst` keeps the first fold after the field
 * name's colon. Returns null when some word is longer than `hard`.
 * A piece is never whitespace-only (that would end the header for some
 * clients, RFC 5322 §4.2 / J2).
 */
export function foldLine(line: string, soft = 78, hard = 998, minFirst = 0): string[] | null {
  if (line.length <= soft) return [line];
  const out: string[] = [];
  let rest = line;
  let min = minFirst;
  while (rest.length > soft) {
    // Fold points: a WSP at p >= 1 with non-WSP text before it in this piece.
    let firstText = 0;
    while (firstText < rest.length && isWsp(rest.charCodeAt(firstText))) firstText++;
    const lo = Math.max(firstText + 1, min + 1);
    let p = -1;
    for (let i = Math.min(soft, rest.length - 1); i >= lo; i--) {
      if (isWsp(rest.charCodeAt(i))) { p = i; break; }
    }
    if (p === -1) {
      for (let i = Math.max(soft + 1, lo); i <= Math.min(hard, rest.length - 1); i++) {
        if (isWsp(rest.charCodeAt(i))) { p = i; break; }
      }
    }
    if (p === -1) {
      if (rest.length <= hard) break;
      return null;
    }
    // Folding before trailing whitespace would leave a whitespace-only line.
    if (/^[ \t]*$/.test(rest.slice(p))) break;
    out.push(rest.slice(0, p));
    rest = rest.slice(p);
    min = 0;
  }
  if (rest.length > hard) return null;
  out.push(rest);
  return out;
}

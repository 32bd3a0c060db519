// The header section once it is complete: classify its lines (J1, J2), then
// apply the RFC 6409 §8 fixups and RFC 5322 limits and render the bytes we
// spool. Works on latin1 strings (one char per octet), see fields.ts.
import { REPLIES, type Reply } from '../core/index.ts';
import { foldLine, formatRfc5322Date, isValidMessageId, makeMessageId, parseRfc5322Date, trimWsp } from './fields.ts';
import { generatedField } from './generated.ts';
import { checkAddressCaps, countAddresses, ORIGINATOR_FIELDS, readOriginator, type AddressCaps, type OriginatorField } from './originators.ts';

export interface Field {
  /** Lower-case field name, for matching. */
  lname: string;
  /** Physical lines without CRLF, bare CR/LF already replaced. */
  lines: string[];
}

// RFC 5322 §2.2 field-name, plus the obsolete WSP before the colon (§4.5.3).
const FIELD_RE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

export type LineKind = 'end' | 'blank' | 'continuation' | 'field' | 'malformed';

export function classifyLine(s: string, haveField: boolean): LineKind {
  if (s.length === 0) return 'end';
  const c = s.charCodeAt(0);
  if (c === 0x20 || c === 0x09) {
    if (/^[ \t]+$/.test(s)) return 'blank';
    return haveField ? 'continuation' : 'malformed';
  }
  return FIELD_RE.test(s) ? 'field' : 'malformed';
}

export function fieldName(s: string): string {
  return (FIELD_RE.exec(s)?.[1] ?? '').toLowerCase();
}

/** Counts repairs by kind so that a million stray CRs make one log line, not a million. */
export class Repairs {
  private readonly counts = new Map<string, number>();
  add(kind: string, n = 1): void { this.counts.set(kind, (this.counts.get(kind) ?? 0) + n); }
  list(): string[] { return [...this.counts].map(([k, n]) => (n > 1 ? `${k} (x${n})` : k)); }
}

export const REJECTS = {
  malformed: REPLIES.headerMalformed,
  headerLine: REPLIES.headerLine,
  headerSize: REPLIES.headerSize,
  bodyLine: REPLIES.bodyLine,
  nul: REPLIES.nul,
  recipients: REPLIES.headerRecipients,
} as const;

/** The marker add_header mode writes for J1; Postfix names none, RFC 7103 suggests flagging. */
export const REPAIR_HEADER = 'X-Portwarden-Repair';

// D11: what the originating system must not pass on (RFC 5321 §4.4; Postfix cleanup).
const STRIP = new Set(['bcc', 'resent-bcc', 'return-path', 'content-length']);
const STRIP_LABEL: Record<string, string> = {
  bcc: 'Bcc', 'resent-bcc': 'Resent-Bcc', 'return-path': 'Return-Path', 'content-length': 'Content-Length',
};

export interface HeaderOptions {
  hostname: string;
  maxLineLength: number;
  addMessageId: boolean;
  addDate: boolean;
  maxHeaderAddresses: number;
  /** Postfix hopcount_limit: Received fields, ours included, above which the message is a loop. */
  maxReceived: number;
  addressCaps: AddressCaps;
  now: number;
  queueId: string;
  /** "Received: …" already folded, CRLF-joined, without the final CRLF. */
  received: string;
  /** J1 repaired in add_header mode. */
  markEarlyEnd: boolean;
}

export interface HeaderInfo {
  /** Every From, Sender, Resent-From and Resent-Sender field, strictly read, in order. */
  originators: OriginatorField[];
  messageId: string;
  hadMessageId: boolean;
  hasDate: boolean;
  subject?: string;
  toCount: number;
  ccCount: number;
}

export type HeaderOutcome = { ok: true; text: string; info: HeaderInfo } | { ok: false; reject: Reply };

/** Unfolded value after the colon, as a JS string decoded from UTF-8. */
function value(f: Field, utf8 = true): string {
  const raw = f.lines.join('');
  const v = trimWsp(raw.slice(raw.indexOf(':') + 1));
  return utf8 ? Buffer.from(v, 'latin1').toString('utf8') : v;
}

const octets = (f: Field): number => f.lines.reduce((n, l) => n + l.length + 2, -2);

/** Keeps the first field of `lname` that `valid` accepts and drops the rest. */
function keepFirstValid(fields: Field[], lname: string, label: string, valid: (v: string) => boolean, repairs: Repairs): Field | undefined {
  let kept: Field | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.lname !== lname) continue;
    if (!kept && valid(value(f, false))) { kept = f; continue; }
    repairs.add(kept ? `removed duplicate ${label}` : `removed invalid ${label}`);
    fields.splice(i--, 1);
  }
  return kept;
}

export function finishHeader(fields: Field[], o: HeaderOptions, repairs: Repairs): HeaderOutcome {
  // Bounded before anything parses an address (issue 10 item 9).
  const capped = checkAddressCaps(fields, octets, o.addressCaps);
  if (capped) return { ok: false, reject: capped };
  // RFC 5321 §6.3 loop detection, as Postfix's cleanup does it: our own Received counts.
  const hops = fields.reduce((n, f) => n + (f.lname === 'received' ? 1 : 0), 1);
  if (hops > o.maxReceived) return { ok: false, reject: REPLIES.tooManyHops(o.maxReceived) };
  for (let i = 0; i < fields.length; i++) {
    if (STRIP.has(fields[i].lname)) {
      repairs.add(`removed ${STRIP_LABEL[fields[i].lname]}`);
      fields.splice(i--, 1);
    }
  }
  // With adding switched off we have no replacement to offer, so we remove nothing either.
  const validId = (v: string): boolean => isValidMessageId(v);
  const validDate = (v: string): boolean => parseRfc5322Date(v) !== null;
  const mid = o.addMessageId
    ? keepFirstValid(fields, 'message-id', 'Message-ID', validId, repairs)
    : fields.find((f) => f.lname === 'message-id' && validId(value(f, false)));
  const date = o.addDate
    ? keepFirstValid(fields, 'date', 'Date', validDate, repairs)
    : fields.find((f) => f.lname === 'date' && validDate(value(f, false)));

  const byName = (n: string): Field | undefined => fields.find((f) => f.lname === n);
  const count = (n: string): number => fields.reduce((a, f) => a + (f.lname === n ? countAddresses(value(f, false)) : 0), 0);
  const toCount = count('to') + count('resent-to');
  const ccCount = count('cc') + count('resent-cc');
  if (toCount + ccCount > o.maxHeaderAddresses) return { ok: false, reject: REJECTS.recipients };

  let text = `${o.received}\r\n`;
  for (const f of fields) {
    for (let j = 0; j < f.lines.length; j++) {
      const line = f.lines[j];
      if (line.length <= o.maxLineLength) { text += `${line}\r\n`; continue; }
      // Only over-long lines are refolded: the sender's own folding is left alone (D5).
      const pieces = foldLine(line, 78, o.maxLineLength, j === 0 ? line.indexOf(':') + 1 : 0);
      if (!pieces) return { ok: false, reject: REJECTS.headerLine };
      repairs.add('folded over-long header line');
      text += `${pieces.join('\r\n')}\r\n`;
    }
  }
  let messageId = mid ? value(mid) : '';
  if (!mid && o.addMessageId) {
    messageId = makeMessageId(o.hostname, o.queueId, o.now);
    text += `${generatedField('Message-ID', messageId, false)}\r\n`;
    repairs.add('added Message-ID');
  }
  if (!date && o.addDate) {
    text += `${generatedField('Date', formatRfc5322Date(o.now), false)}\r\n`;
    repairs.add('added Date');
  }
  if (o.markEarlyEnd) text += `${generatedField(REPAIR_HEADER, 'header section ended early; empty line inserted', false)}\r\n`;
  text += '\r\n';

  const originators = fields.filter((f) => ORIGINATOR_FIELDS.has(f.lname)).map((f) => readOriginator(f.lname, value(f, false)));
  const subject = byName('subject');
  const info: HeaderInfo = {
    originators,
    messageId: trimWsp(messageId),
    hadMessageId: mid !== undefined,
    hasDate: date !== undefined,
    toCount,
    ccCount,
  };
  if (subject) info.subject = value(subject);
  return { ok: true, text, info };
}

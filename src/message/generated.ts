// The one door for header text portwarden writes itself (Received, Message-ID,
// Date, the repair marker, DSN fields). Values may hold client text (EHLO name,
// envelope addresses, SMTPUTF8 local parts, ORCPT/ENVID, the AUTH identity);
// what leaves here is octets in which no client code point can be CR, LF or
// any other control, so no generated field can end early or start another.
//
// Why a door and not a filter: JS strings hold code points, header text here is
// octets (latin1 strings, fields.ts). Writing a code point as latin1 keeps only
// its low byte, so U+010A became LF past any ASCII-only filter. Here every code
// point is judged first, then encoded as UTF-8 (RFC 6532) or ASCII.
//
// Choices: a non-ASCII code point survives only in an SMTPUTF8 message and only
// if it is a letter, mark, number, punctuation or symbol (no controls, format
// characters, separators, private use, unassigned); otherwise it becomes "_".
// An internationalised EHLO name is written as its A-label (RFC 5890); an AUTH
// identity in a plain message becomes RFC 2047 encoded-words (allowed in
// comments, RFC 2047 §5(2)); ORCPT/ENVID are xtext (RFC 3461 §4) again.
import { domainToASCII } from 'node:url';
import { foldLine, VISIBLE_NON_ASCII } from './fields.ts';

/** Code point by code point: ASCII in `ascii`, non-ASCII kept only when `utf8` and visible; else "_". */
function keep(s: string, ascii: RegExp, utf8: boolean): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out += ascii.test(ch) ? ch : '_';
    else out += utf8 && VISIBLE_NON_ASCII.test(ch) ? ch : '_';
  }
  return out;
}

// A word inside a Received clause or comment: printable ASCII without the
// characters that would close the comment, the clause or the path.
const TOKEN_ASCII = /^[\x21-\x7e]$/;
const TOKEN_SPECIALS = /[()\\;<>[\]"]/g;

/** EHLO name, rDNS, TLS names, queue id: one printable ASCII word ("unknown" when empty). */
export function traceToken(s: string): string {
  let t = s;
  if (/[^\x00-\x7f]/.test(t)) {
    // An IDN keeps its meaning as an A-label; anything else is not a domain and is only flattened.
    const a = /^[^\s()<>[\]\\;"@,]+$/u.test(t) ? domainToASCII(t) : '';
    t = a !== '' ? a : t;
  }
  t = keep(t, TOKEN_ASCII, false).replace(TOKEN_SPECIALS, '_');
  // A domain is at most 255 octets; an A-label of a long EHLO could pass the 998-octet line limit.
  if (t.length > 255) t = `${t.slice(0, 252)}...`;
  return t === '' ? 'unknown' : t;
}

const MAILBOX_ASCII = /^[\x21-\x7e]$/;

/** An addr-spec in a generated field (`for <…>`, DSN To/Final-Recipient): UTF-8 only in SMTPUTF8 mail. */
export function traceMailbox(addr: string, utf8: boolean): string {
  let a = addr;
  const at = a.lastIndexOf('@');
  if (!utf8 && at > 0 && /[^\x00-\x7f]/.test(a.slice(at + 1))) {
    const d = domainToASCII(a.slice(at + 1));
    if (d) a = `${a.slice(0, at)}@${d}`;
  }
  return keep(a, MAILBOX_ASCII, utf8).replace(/[<>]/g, '_');
}

/** Text inside a comment we generate (the AUTH identity). */
export function commentText(s: string, utf8: boolean): string {
  if (utf8 || !/[^\x00-\x7f]/.test(s)) return keep(s, TOKEN_ASCII, utf8).replace(TOKEN_SPECIALS, '_') || 'unknown';
  return encodedWords(s);
}

/** RFC 2047 "B" encoded-words of at most 75 characters each, split between code points. */
export function encodedWords(s: string): string {
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  const flush = (): void => {
    if (chunk) words.push(`=?utf-8?b?${Buffer.from(chunk, 'utf8').toString('base64')}?=`);
    chunk = '';
    bytes = 0;
  };
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    // Controls and separators say nothing a postmaster needs and only confuse readers.
    const safe = c >= 0x20 && c !== 0x7f && !(c >= 0x80 && !VISIBLE_NON_ASCII.test(ch)) ? ch : '_';
    const n = Buffer.byteLength(safe, 'utf8');
    if (bytes + n > 45) flush(); // 45 octets → 60 base64 characters + 12 of framing = 72 ≤ 75
    chunk += safe;
    bytes += n;
  }
  flush();
  return words.join(' ');
}

const XTEXT_KEEP = /^[\x21-\x2a\x2c-\x3c\x3e-\x7e]$/;

/** RFC 3461 §4 xtext (ORCPT, ENVID in a DSN); in SMTPUTF8 mail visible non-ASCII stays as UTF-8. */
export function xtextEncode(s: string, utf8: boolean): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 ? XTEXT_KEEP.test(ch) : utf8 && VISIBLE_NON_ASCII.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The last line of defence for one generated field value (unfolded): tab and
 * space stay, other controls and invisible non-ASCII become "_", non-ASCII
 * only in SMTPUTF8 mail. Builders encode by context first; this catches the rest.
 */
export function safeValue(value: string, utf8: boolean): string {
  return keep(value, /^[\x20-\x7e\t]$/, utf8);
}

/**
 * "Name: value" folded at 78 octets, as a latin1 string of its octets (UTF-8
 * for SMTPUTF8 mail), CRLF between the lines and no final CRLF. Throws only
 * when a single word is longer than 998 octets: our builders cannot make one.
 */
export function generatedField(name: string, value: string, utf8: boolean): string {
  const octets = Buffer.from(`${name}: ${safeValue(value, utf8)}`, 'utf8').toString('latin1');
  const pieces = foldLine(octets, 78, 998, name.length + 1);
  if (!pieces) throw new RangeError(`generated ${name} field has a word longer than the line limit`);
  return pieces.join('\r\n');
}

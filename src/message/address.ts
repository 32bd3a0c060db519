// A strict reader of the originator fields (From, Sender, Resent-From,
// Resent-Sender): RFC 5322 §3.4 mailbox-list with RFC 6532 UTF-8, minus what
// two careful parsers could read differently. Used to bind a message to the
// authenticated account, so "strict" here means: when in doubt, refuse.
//
// Accepted: addr-spec or [display-name] angle-addr, comma-separated; a phrase of
// atoms and quoted strings (and the obsolete "." of "A. Smith", which RFC 5322
// §4 says a receiver must accept and real clients send); comments that hold no address characters; RFC 2047 encoded-words in the
// display name (decoded, so that the caller can judge what a reader will see).
// Refused: groups and any ":" outside quotes (addr:addr, obs-route), anything
// after an angle-addr but CFWS, a comment or unquoted word holding "@", "<" or
// ">", unbalanced quotes, comments or brackets, a backslash outside quotes or
// comments, CFWS inside an addr-spec, quoted local parts (a second spelling of
// the same mailbox), empty list elements, controls and invisible or bidi
// formatting code points. Linear in the input (one pass, no backtracking).
import { TextDecoder } from 'node:util';
import { VISIBLE_NON_ASCII } from './fields.ts';

export interface Mailbox {
  /** local@domain as written. */
  address: string;
  /** Display name with encoded-words decoded; '' when absent. */
  display: string;
}

export type MailboxListResult = { ok: true; mailboxes: Mailbox[] } | { ok: false; why: string };

// RFC 5322 atext, plus RFC 6532 UTF8-non-ascii limited to visible code points.
// ASCII by table: a regex per character made a 99 KB field cost ~100 ms.
const ASCII_ATEXT_SET = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~") ASCII_ATEXT_SET[c.charCodeAt(0)] = 1;
const isAtext = (c: string): boolean => {
  const n = c.codePointAt(0)!;
  return n < 0x80 ? ASCII_ATEXT_SET[n] === 1 : VISIBLE_NON_ASCII.test(c);
};
// Code points no originator field needs: controls, format (bidi, zero-width), separators, private use, unassigned.
const FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;
const MAX_COMMENT_DEPTH = 3;

type Tok =
  | { t: 'atom'; v: string }
  | { t: 'quoted'; v: string }
  | { t: 'comment'; v: string }
  | { t: 'ws' }
  | { t: 'sp'; v: string }; // one of < > @ , . [ ] (the rest are refused at once)

function tokenize(s: string): Tok[] | string {
  const out: Tok[] = [];
  const cps = [...s];
  for (let i = 0; i < cps.length;) {
    const c = cps[i];
    if (c === ' ' || c === '\t') {
      while (i < cps.length && (cps[i] === ' ' || cps[i] === '\t')) i++;
      out.push({ t: 'ws' });
    } else if (c === '"') {
      let v = '';
      for (i++; ; i++) {
        if (i >= cps.length) return 'unbalanced quote';
        const d = cps[i];
        if (d === '"') { i++; break; }
        if (d === '\\') {
          const e = cps[++i];
          if (e === undefined) return 'unbalanced quote';
          if (!/^[\x20-\x7e\t]$/.test(e)) return 'bad escape';
          v += e;
        } else v += d;
      }
      out.push({ t: 'quoted', v });
    } else if (c === '(') {
      let depth = 0;
      let v = '';
      for (; ; i++) {
        if (i >= cps.length) return 'unbalanced comment';
        const d = cps[i];
        if (d === '(') { if (++depth > MAX_COMMENT_DEPTH) return 'comment nested too deep'; }
        else if (d === ')') { if (--depth === 0) { i++; break; } }
        else if (d === '\\') return 'escape in comment';
        else v += d;
      }
      if (/[@<>"]/.test(v)) return 'address characters in a comment';
      out.push({ t: 'comment', v });
    } else if ('<>@,.[]'.includes(c)) {
      out.push({ t: 'sp', v: c });
      i++;
    } else if (isAtext(c)) {
      const from = i;
      while (i < cps.length && isAtext(cps[i])) i++;
      const v = cps.slice(from, i).join('');
      out.push({ t: 'atom', v });
    } else if (c === ':' || c === ';') {
      return 'group or route syntax';
    } else if (c === '\\') {
      return 'backslash outside quotes';
    } else {
      return 'character not allowed';
    }
  }
  return out;
}

const isCfws = (t: Tok | undefined): boolean => t !== undefined && (t.t === 'ws' || t.t === 'comment');

/** Reads a strict addr-spec (dot-atom "@" dot-atom, no CFWS inside) from toks[i]; returns end index. */
function addrSpec(toks: Tok[], i: number): { end: number; address: string } | string {
  let local = '';
  let want = 'atom';
  for (; i < toks.length; i++) {
    const t = toks[i];
    if (want === 'atom') {
      if (t.t === 'quoted') return 'quoted local part';
      if (t.t !== 'atom') return 'bad local part';
      local += t.v;
      want = 'dot-or-at';
    } else if (t.t === 'sp' && t.v === '.') { local += '.'; want = 'atom'; }
    else if (t.t === 'sp' && t.v === '@') break;
    else return 'bad local part';
  }
  if (i >= toks.length || local === '') return 'no @ in address';
  i++;
  let domain = '';
  want = 'atom';
  for (; i < toks.length; i++) {
    const t = toks[i];
    if (want === 'atom') {
      if (t.t === 'sp' && t.v === '[') return 'domain literal';
      if (t.t !== 'atom') return 'bad domain';
      domain += t.v;
      want = 'dot';
    } else if (t.t === 'sp' && t.v === '.') { domain += '.'; want = 'atom'; }
    else break;
  }
  if (want === 'atom') return 'bad domain';
  return { end: i, address: `${local}@${domain}` };
}

/** RFC 2047 encoded-words in a phrase, decoded; null when one cannot be decoded. */
export function decodeEncodedWords(s: string): string | null {
  let bad = false;
  const out = s.replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=(?:[ \t]+(?==\?))?/g, (_, cs: string, enc: string, text: string) => {
    try {
      const charset = cs.replace(/\*.*$/, '');
      const bytes = enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return new TextDecoder(charset, { fatal: true }).decode(bytes);
    } catch {
      bad = true;
      return '';
    }
  });
  return bad ? null : out;
}

function mailbox(toks: Tok[], start: number, end: number): Mailbox | string {
  let i = start;
  while (i < end && isCfws(toks[i])) i++;
  let j = end;
  while (j > i && isCfws(toks[j - 1])) j--;
  if (i >= j) return 'empty list element';
  const lt = toks.slice(i, j).findIndex((t) => t.t === 'sp' && t.v === '<');
  if (lt < 0) {
    const a = addrSpec(toks, i);
    if (typeof a === 'string') return a;
    if (a.end !== j) return 'text after address';
    return { address: a.address, display: '' };
  }
  // name-addr: phrase (atoms, quoted strings, ".", CFWS) then one angle-addr that ends the element.
  const words: string[] = [];
  for (let k = i; k < i + lt; k++) {
    const t = toks[k];
    if (t.t === 'atom' || t.t === 'quoted') words.push(t.v);
    else if (t.t === 'sp' && t.v === '.') words.push('.'); // obs-phrase: "A. Smith" (RFC 5322 §4.1, MUST accept)
    else if (t.t === 'ws' || t.t === 'comment') words.push(' ');
    else return `"${(t as { v: string }).v}" in display name`;
  }
  const a = addrSpec(toks, i + lt + 1);
  if (typeof a === 'string') return a;
  const close = toks[a.end];
  if (!close || close.t !== 'sp' || close.v !== '>') return 'unclosed angle address';
  if (a.end + 1 !== j) return 'text after angle address';
  const display = decodeEncodedWords(words.join('').replace(/ +/g, ' ').trim());
  if (display === null) return 'undecodable encoded-word';
  if (FORBIDDEN.test(display)) return 'control or formatting character in display name';
  return { address: a.address, display };
}

/**
 * Parses an unfolded field body (CRLF removed, decoded from UTF-8) as a
 * mailbox-list; `single` demands exactly one mailbox (Sender, Resent-Sender).
 */
export function parseMailboxList(value: string, opts: { single?: boolean } = {}): MailboxListResult {
  if (FORBIDDEN.test(value)) return { ok: false, why: 'control or formatting character' };
  const toks = tokenize(value);
  if (typeof toks === 'string') return { ok: false, why: toks };
  const mailboxes: Mailbox[] = [];
  let start = 0;
  let angle = false;
  for (let k = 0; k <= toks.length; k++) {
    const t = toks[k];
    if (t?.t === 'sp' && t.v === '<') { if (angle) return { ok: false, why: 'nested angle brackets' }; angle = true; }
    if (t?.t === 'sp' && t.v === '>') { if (!angle) return { ok: false, why: 'unbalanced angle bracket' }; angle = false; }
    if (k === toks.length || (t.t === 'sp' && t.v === ',' && !angle)) {
      const m = mailbox(toks, start, k);
      if (typeof m === 'string') return { ok: false, why: m };
      mailboxes.push(m);
      start = k + 1;
    }
  }
  if (angle) return { ok: false, why: 'unclosed angle address' };
  if (opts.single && mailboxes.length !== 1) return { ok: false, why: 'more than one mailbox' };
  return { ok: true, mailboxes };
}

/** Address-like words in a display name ("bob@evil.example"), for the caller to judge. */
export function addressesIn(display: string): string[] {
  return display.match(/[^\s<>"(),;:]+@[^\s<>"(),;:]+/gu) ?? [];
}

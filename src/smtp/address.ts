// RFC 5321 §4.1.2 path syntax (with RFC 6531 UTF-8 extensions) and the
// ESMTP parameters of MAIL and RCPT (RFC 1870, 6152, 6531, 3461, 4954 §5).
// Strict on purpose: what we accept here is what the rest of the system relays.
import { isIPv4, isIPv6 } from 'node:net';
import type { Address } from './types.ts';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_PATH = 256;

const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const QCONTENT = /^(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10FFFF}]|\\[\x20-\x7e])*$/u;
const LDH_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const U_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;
const NON_ASCII = /[^\x00-\x7f]/;
const GENERAL_LITERAL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?:[\x21-\x5a\x5e-\x7e]+$/;

export type PathResult =
  | { ok: true; address: Address; params: string }
  | { ok: false };

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export function isDomain(d: string): boolean {
  if (d.length === 0 || bytes(d) > MAX_DOMAIN) return false;
  for (const label of d.split('.')) {
    if (label.length > 63) return false;
    if (!LDH_LABEL.test(label) && !(NON_ASCII.test(label) && U_LABEL.test(label))) return false;
  }
  return true;
}

function isAddressLiteral(d: string): boolean {
  if (d.length < 3 || d[0] !== '[' || d[d.length - 1] !== ']') return false;
  const inner = d.slice(1, -1);
  if (isIPv4(inner)) return true;
  if (inner.slice(0, 5).toUpperCase() === 'IPV6:') return isIPv6(inner.slice(5));
  return GENERAL_LITERAL.test(inner) && !/^IPv6:/i.test(inner);
}

function isLocalPart(l: string): boolean {
  if (l.length === 0) return false;
  if (l[0] === '"') return l.length >= 2 && l[l.length - 1] === '"' && QCONTENT.test(l.slice(1, -1));
  return l.split('.').every((atom) => ATOM.test(atom));
}

/** Index of the '>' closing a path that starts at 0 with '<', skipping quoted strings; -1 if none. */
function closingBracket(s: string): number {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '>') return i;
  }
  return -1;
}

/** The '@' that splits local part from domain: after a quoted local part, else the first one. */
function splitAt(mailbox: string): number {
  if (mailbox[0] !== '"') return mailbox.indexOf('@');
  for (let i = 1; i < mailbox.length; i++) {
    if (mailbox[i] === '\\') i++;
    else if (mailbox[i] === '"') return mailbox[i + 1] === '@' ? i + 1 : -1;
  }
  return -1;
}

/**
 * Parses `<path> [params]` (the text after "FROM:" / "TO:"). `kind` decides whether
 * `<>` (reverse path) or `<Postmaster>` (forward path, RFC 5321 §4.1.1.3) is allowed.
 */
export function parsePath(arg: string, kind: 'mail' | 'rcpt'): PathResult {
  const s = arg.replace(/^ +/, '');
  if (s[0] !== '<') return { ok: false };
  const end = closingBracket(s);
  if (end < 0) return { ok: false };
  const rest = s.slice(end + 1);
  if (rest.length && rest[0] !== ' ') return { ok: false };
  const params = rest.trim();
  if (bytes(s.slice(0, end + 1)) > MAX_PATH) return { ok: false };
  let inner = s.slice(1, end);
  if (inner === '') {
    if (kind !== 'mail') return { ok: false };
    return { ok: true, address: { address: '', localPart: '', domain: '', utf8: false }, params };
  }
  if (kind === 'rcpt' && inner.toLowerCase() === 'postmaster') {
    return { ok: true, address: { address: inner, localPart: inner, domain: '', utf8: false }, params };
  }
  if (inner[0] === '@') {
    // Source route: check its syntax, then drop it (RFC 5321 §4.1.1.3, Appendix C).
    const colon = inner.indexOf(':');
    if (colon < 0) return { ok: false };
    for (const hop of inner.slice(0, colon).split(',')) {
      if (hop[0] !== '@' || !isDomain(hop.slice(1))) return { ok: false };
    }
    inner = inner.slice(colon + 1);
  }
  const at = splitAt(inner);
  if (at <= 0) return { ok: false };
  const localPart = inner.slice(0, at);
  const domain = inner.slice(at + 1);
  if (bytes(localPart) > MAX_LOCAL || !isLocalPart(localPart)) return { ok: false };
  if (!isDomain(domain) && !isAddressLiteral(domain)) return { ok: false };
  return { ok: true, address: { address: inner, localPart, domain, utf8: NON_ASCII.test(inner) }, params };
}

const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/;

/** RFC 3461 §4 xtext; null when malformed. */
export function decodeXtext(s: string): string | null {
  if (!XTEXT.test(s)) return null;
  return s.replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const VALUE = /^[\x21-\x3c\x3e-\x7e\u0080-\u{10FFFF}]+$/u;

export type ParamList = Array<{ key: string; value: string | null; raw: string }>;

/** Splits `KEY[=VALUE] ...`; a token that is not esmtp-param syntax is returned as `bad`. */
export function splitParams(s: string): { params: ParamList } | { bad: string } {
  const params: ParamList = [];
  if (!s) return { params };
  for (const raw of s.split(/ +/)) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? null : raw.slice(eq + 1);
    if (!KEYWORD.test(key) || (value !== null && !VALUE.test(value))) return { bad: raw };
    params.push({ key: key.toUpperCase(), value, raw });
  }
  return { params };
}
